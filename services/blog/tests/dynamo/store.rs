//! The DynamoDB blog store: optimistic concurrency, batched cascading deletes, atomic comment deletes.

use blog::domain::Post;
use blog::store::{BlogStore, StoreError};

use testkit::concurrently;

use crate::helpers::{comment, fixture, item_count};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_updates_with_the_same_version_have_exactly_one_winner() {
    let f = fixture().await;
    let original = f.stored_post("alice", "v1").await;
    let outcomes = concurrently(10, |i| {
        let store = f.store.clone();
        let edit = Post {
            title: format!("edit {i}"),
            version: 2,
            ..original.clone()
        };
        async move { store.update_post(&edit, 1).await }
    })
    .await;
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    let conflicts = outcomes
        .iter()
        .filter(|o| **o == Err(StoreError::Conflict))
        .count();
    assert_eq!((wins, conflicts), (1, 9), "{outcomes:?}");
    let stored = f
        .store
        .get_post(&original.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|p| p.version), Some(2));
    // A stale version and a foreign author both lose.
    let stale = Post {
        version: 3,
        ..original.clone()
    };
    assert_eq!(
        f.store.update_post(&stale, 1).await,
        Err(StoreError::Conflict)
    );
    let foreign = Post {
        author_id: "mallory".into(),
        version: 3,
        ..original.clone()
    };
    assert_eq!(
        f.store.update_post(&foreign, 2).await,
        Err(StoreError::Conflict)
    );
}

#[tokio::test]
async fn dynamo_delete_post_removes_every_comment_and_pointer_in_batches() {
    let f = fixture().await;
    let doomed = f.stored_post("alice", "doomed").await;
    let kept = f.stored_post("alice", "kept").await;
    // 30 comments = 60 items: more than two BatchWriteItem calls.
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(f.stored_comment(&doomed, "bob").await.id);
    }
    let survivor = f.stored_comment(&kept, "bob").await;
    assert_eq!(item_count(&f).await, 2 + 31 * 2);

    assert_eq!(
        f.store.delete_post(&doomed.id, "mallory").await,
        Err(StoreError::Conflict)
    );
    f.store
        .delete_post(&doomed.id, "alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        item_count(&f).await,
        1 + 2,
        "only the kept post and its comment remain"
    );
    assert_eq!(f.store.get_comment(&ids[0]).await, Ok(None));
    assert!(matches!(
        f.store.get_comment(&survivor.id).await,
        Ok(Some(_))
    ));
    // The transaction's condition check refuses comments on the deleted post.
    assert_eq!(
        f.store
            .create_comment(&comment(&doomed.id, "bob"), "alice")
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        f.store.delete_post(&doomed.id, "alice").await,
        Err(StoreError::Conflict)
    );
}

#[tokio::test]
async fn dynamo_comment_delete_is_atomic_with_its_pointer() {
    let f = fixture().await;
    let p = f.stored_post("alice", "p").await;
    let c = f.stored_comment(&p, "bob").await;
    let record = f
        .store
        .get_comment(&c.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        record.map(|r| (r.comment, r.post_author)),
        Some((c.clone(), "alice".to_owned()))
    );
    f.store
        .delete_comment(&c)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.store.delete_comment(&c).await, Err(StoreError::NotFound));
    assert_eq!(item_count(&f).await, 1);
}
