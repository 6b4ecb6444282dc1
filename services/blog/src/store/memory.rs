//! In-memory [`BlogStore`]: same semantics as DynamoDB (conditional writes, cursors), no I/O.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use platform::pagination::{Cursor, CursorValue, Page};

use super::{BlogStore, CommentRecord, StoreError};
use crate::domain::{Comment, Post};
use platform::store::Failure as _;

#[derive(Default)]
struct Data {
    /// id → post (ids are UUIDv7, so key order is creation order).
    posts: BTreeMap<String, Post>,
    /// (post id, comment id) → comment.
    comments: BTreeMap<(String, String), Comment>,
    /// comment id → (post id, post author).
    comment_refs: BTreeMap<String, (String, String)>,
}

#[derive(Default)]
pub struct MemoryBlogStore {
    data: Mutex<Data>,
}

impl MemoryBlogStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> Result<MutexGuard<'_, Data>, StoreError> {
        platform::store::locked(&self.data)
    }
}

fn cursor_id(cursor: Option<&Cursor>) -> Result<Option<String>, StoreError> {
    match cursor.map(|c| c.get("id")) {
        None => Ok(None),
        Some(Some(CursorValue::S(id))) => Ok(Some(id.clone())),
        // Tokens are MAC-checked before they get here; a cursor of another shape is a bug.
        Some(_) => Err(StoreError::internal("unexpected cursor shape")),
    }
}

fn cursor_after(id: &str) -> Cursor {
    Cursor::from([("id".to_owned(), CursorValue::S(id.to_owned()))])
}

fn page<T: Clone>(mut items: impl Iterator<Item = (String, T)>, limit: u16) -> Page<T> {
    let mut out = Vec::new();
    let mut last = None;
    for (id, item) in items.by_ref().take(usize::from(limit)) {
        last = Some(id);
        out.push(item);
    }
    let more = items.next().is_some();
    Page {
        items: out,
        next: if more {
            last.as_deref().map(cursor_after)
        } else {
            None
        },
    }
}

#[async_trait]
impl BlogStore for MemoryBlogStore {
    async fn create_post(&self, post: &Post) -> Result<(), StoreError> {
        let mut data = self.data()?;
        if data.posts.contains_key(&post.id) {
            return Err(StoreError::Conflict);
        }
        data.posts.insert(post.id.clone(), post.clone());
        Ok(())
    }

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError> {
        Ok(self.data()?.posts.get(id).cloned())
    }

    async fn list_posts(
        &self,
        author: Option<&str>,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Post>, StoreError> {
        let after = cursor_id(after)?;
        let data = self.data()?;
        let items = data
            .posts
            .iter()
            .rev()
            .filter(|(id, _)| after.as_deref().is_none_or(|a| id.as_str() < a))
            .filter(|(_, p)| author.is_none_or(|a| p.author_id == a))
            .map(|(id, p)| (id.clone(), p.clone()));
        Ok(page(items, limit))
    }

    async fn update_post(&self, post: &Post, expected_version: u64) -> Result<(), StoreError> {
        let mut data = self.data()?;
        match data.posts.get_mut(&post.id) {
            Some(current)
                if current.version == expected_version && current.author_id == post.author_id =>
            {
                current.title = post.title.clone();
                current.body = post.body.clone();
                current.version = post.version;
                current.updated_at = post.updated_at.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn delete_post(&self, id: &str, author_id: &str) -> Result<(), StoreError> {
        let mut data = self.data()?;
        if data.posts.get(id).is_none_or(|p| p.author_id != author_id) {
            return Err(StoreError::Conflict);
        }
        data.posts.remove(id);
        let doomed: Vec<(String, String)> = data
            .comments
            .keys()
            .filter(|(post, _)| post == id)
            .cloned()
            .collect();
        for key in doomed {
            data.comment_refs.remove(&key.1);
            data.comments.remove(&key);
        }
        Ok(())
    }

    async fn create_comment(&self, comment: &Comment, post_author: &str) -> Result<(), StoreError> {
        let mut data = self.data()?;
        if !data.posts.contains_key(&comment.post_id) {
            return Err(StoreError::NotFound);
        }
        data.comments.insert(
            (comment.post_id.clone(), comment.id.clone()),
            comment.clone(),
        );
        data.comment_refs.insert(
            comment.id.clone(),
            (comment.post_id.clone(), post_author.to_owned()),
        );
        Ok(())
    }

    async fn get_comment(&self, id: &str) -> Result<Option<CommentRecord>, StoreError> {
        let data = self.data()?;
        Ok(data
            .comment_refs
            .get(id)
            .and_then(|(post_id, post_author)| {
                data.comments
                    .get(&(post_id.clone(), id.to_owned()))
                    .map(|comment| CommentRecord {
                        comment: comment.clone(),
                        post_author: post_author.clone(),
                    })
            }))
    }

    async fn list_comments(
        &self,
        post_id: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Comment>, StoreError> {
        let after = cursor_id(after)?;
        let data = self.data()?;
        let items = data
            .comments
            .iter()
            .filter(|((post, id), _)| {
                post == post_id && after.as_deref().is_none_or(|a| id.as_str() > a)
            })
            .map(|((_, id), c)| (id.clone(), c.clone()));
        Ok(page(items, limit))
    }

    async fn delete_comment(&self, comment: &Comment) -> Result<(), StoreError> {
        let mut data = self.data()?;
        data.comment_refs.remove(&comment.id);
        data.comments
            .remove(&(comment.post_id.clone(), comment.id.clone()))
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
