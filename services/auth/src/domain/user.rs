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

/// Now as an RFC 3339 UTC timestamp with second precision.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
