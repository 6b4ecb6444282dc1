//! In-memory [`UserStore`] for router tests (same uniqueness semantics as DynamoDB, under one lock).

use std::collections::HashMap;
use std::sync::Mutex;

use super::{StoreError, UserStore};
use crate::domain::User;

#[derive(Debug, Default)]
struct Tables {
    users: HashMap<String, User>,
    emails: HashMap<String, String>,
}

#[derive(Debug, Default)]
pub struct InMemoryUserStore {
    tables: Mutex<Tables>,
}

impl InMemoryUserStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a role to a user (what `./inv grant-admin` does to the DynamoDB table).
    pub fn grant_role(&self, email: &str, role: &str) -> bool {
        let Ok(mut tables) = self.tables.lock() else {
            return false;
        };
        let Some(id) = tables.emails.get(email).cloned() else {
            return false;
        };
        match tables.users.get_mut(&id) {
            Some(user) if !user.roles.iter().any(|r| r == role) => {
                user.roles.push(role.to_owned());
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Tables>, StoreError> {
        platform::store::locked(&self.tables)
    }
}

#[async_trait::async_trait]
impl UserStore for InMemoryUserStore {
    async fn create(&self, user: &User) -> Result<(), StoreError> {
        let mut tables = self.lock()?;
        if tables.emails.contains_key(&user.email) || tables.users.contains_key(&user.id) {
            return Err(StoreError::EmailTaken);
        }
        tables.emails.insert(user.email.clone(), user.id.clone());
        tables.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let tables = self.lock()?;
        Ok(tables
            .emails
            .get(email)
            .and_then(|id| tables.users.get(id))
            .cloned())
    }

    async fn get(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock()?.users.get(id).cloned())
    }
}
