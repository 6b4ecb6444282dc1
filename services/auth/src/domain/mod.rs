//! Domain types: validated emails, the password policy and hashing, users.

pub mod email;
pub mod password;
pub mod user;

pub use email::{Email, EmailError};
pub use password::{PasswordError, PasswordHasher, check_policy};
pub use user::User;
