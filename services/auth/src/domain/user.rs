//! A user account as stored (the password hash never leaves the service).

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Random UUID v4; the token's `sub`.
    pub id: String,
    /// Normalised email (see [`super::Email`]).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role names (`admin`, …); carried in the token's `roles` claim.
    pub roles: Vec<String>,
    /// RFC 3339 UTC timestamp.
    pub created_at: String,
}
