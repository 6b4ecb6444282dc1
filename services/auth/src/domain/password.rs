//! Password policy (NIST SP 800-63B style: length over composition rules) and argon2id hashing.
//!
//! ## Policy
//! 12–128 characters (Unicode scalar values; no truncation, no trimming), no control characters, not one
//! repeated character, not a straight run (`abcdefghijkl`, `123456789012`), not a well-known password,
//! and not the email address or its local part. No composition rules ("one symbol…"): they push users to
//! predictable patterns without adding much entropy.
//!
//! ## Hashing parameters
//! argon2id v19, m = 19 MiB (19456 KiB), t = 2, p = 1 — the OWASP Password Storage Cheat Sheet's first
//! recommendation. 19 MiB fits comfortably in a 128 MB function next to the runtime (~20–30 MB RSS), and
//! one hash takes tens of milliseconds of a single core at 256 MB (see the report for the measured time),
//! so `/register` and `/login` stay well under the 10 s function timeout. Lambda allocates CPU in
//! proportion to memory: at 128 MB a hash takes about twice as long as at 256 MB; at ≥ 512 MB more
//! memory does not help a p = 1 hash. Each hash runs on the blocking pool (`spawn_blocking`) so the async
//! runtime keeps serving other requests (matters for the fat and LMI topologies).

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use super::email::Email;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Why a password is refused (shown to the client: it is their own password, and it is not stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must not be a single repeated character")]
    Repeated,
    #[error("must not be a simple sequence")]
    Sequence,
    #[error("is too common")]
    Common,
    #[error("must not contain the email address")]
    ContainsEmail,
}

/// A small deny-list of passwords that meet the length rule yet top every breach corpus.
const COMMON: &[&str] = &[
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "qwertyuiopasdfgh",
    "qwertyuiop123",
    "qwerty123456",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "administrator",
    "adminadmin123",
    "123456789qwerty",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "correcthorsebatterystaple",
    "changeme1234",
];

/// Checks `password` against the policy; `email` is the (normalised) account email.
pub fn check_policy(password: &str, email: Option<&Email>) -> Result<(), PasswordError> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars.len() > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if chars.iter().any(|c| c.is_control()) {
        return Err(PasswordError::ControlCharacters);
    }
    if chars.iter().all(|c| *c == chars[0]) {
        return Err(PasswordError::Repeated);
    }
    let step = |a: char, b: char| i64::from(u32::from(b)) - i64::from(u32::from(a));
    let first_step = step(chars[0], chars[1]);
    if first_step.abs() == 1 && chars.windows(2).all(|w| step(w[0], w[1]) == first_step) {
        return Err(PasswordError::Sequence);
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered.as_str()) {
        return Err(PasswordError::Common);
    }
    if let Some(email) = email {
        let local = email.as_str().split('@').next().unwrap_or_default();
        if lowered.contains(email.as_str()) || (local.chars().count() >= 4 && lowered == local) {
            return Err(PasswordError::ContainsEmail);
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed: {0}")]
    Join(String),
}

/// argon2id hashing with fixed parameters; verification uses the parameters stored in each hash.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password with the same parameters, verified against when the email is unknown so
    /// that "no such user" takes as long as "wrong password". Computed on first use.
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHasher(m={} KiB, t={}, p={})",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }
}

impl PasswordHasher {
    /// OWASP's argon2id recommendation: m = 19456 KiB, t = 2, p = 1.
    pub fn recommended() -> Self {
        Self::with_params(Params::DEFAULT)
    }

    /// Custom parameters (`m` in KiB).
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        Ok(Self::with_params(params))
    }

    /// The cheapest valid parameters: for tests only (never for stored passwords).
    pub fn fast_for_tests() -> Self {
        Self::with_params(Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or(Params::DEFAULT))
    }

    fn with_params(params: Params) -> Self {
        Self {
            params,
            dummy: Arc::new(OnceLock::new()),
        }
    }

    pub fn params(&self) -> (u32, u32, u32) {
        (
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
        )
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes synchronously (CPU-bound: call from a blocking thread). Returns a PHC string.
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| HashError::Argon2(e.to_string()))
    }

    /// Verifies synchronously; a malformed stored hash counts as a mismatch (and is logged).
    pub fn verify_blocking(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(hash) => self
                .argon2()
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
            Err(err) => {
                tracing::error!(error = %err, "stored password hash is malformed");
                false
            }
        }
    }

    /// Hashes on the blocking pool.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || hasher.hash_blocking(&password))
            .await
            .map_err(|e| HashError::Join(e.to_string()))?
    }

    /// Verifies on the blocking pool. With `None` (unknown user) it verifies against a dummy hash of the
    /// same cost and returns `false`, so both failures cost the same time.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => Ok(hasher.verify_blocking(&password, &phc)),
            None => {
                let dummy = hasher.dummy_hash()?;
                let _ = hasher.verify_blocking(&password, &dummy);
                Ok(false)
            }
        })
        .await
        .map_err(|e| HashError::Join(e.to_string()))?
    }

    fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash.clone());
        }
        let hash = self.hash_blocking(&uuid::Uuid::new_v4().to_string())?;
        Ok(self.dummy.get_or_init(|| hash).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ada.lovelace@example.com").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn policy_accepts_a_passphrase() {
        assert_eq!(
            check_policy("correct horse battery", Some(&email())),
            Ok(())
        );
        assert_eq!(check_policy("Zx9!kq2@Lm4#", None), Ok(()));
        assert_eq!(check_policy(&"ab".repeat(64), None), Ok(()));
    }

    #[test]
    fn policy_rejects_each_rule() {
        assert_eq!(check_policy("short", None), Err(PasswordError::TooShort));
        assert_eq!(
            check_policy(&"ab".repeat(65), None),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_policy("aaaaaaaaaaaaaaa", None),
            Err(PasswordError::Repeated)
        );
        assert_eq!(
            check_policy("abcdefghijklmn", None),
            Err(PasswordError::Sequence)
        );
        assert_eq!(
            check_policy("zyxwvutsrqponm", None),
            Err(PasswordError::Sequence)
        );
        assert_eq!(
            check_policy("Password1234", None),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check_policy("with\u{0}nul-char-x", None),
            Err(PasswordError::ControlCharacters)
        );
        assert_eq!(
            check_policy("ada.lovelace@example.com", Some(&email())),
            Err(PasswordError::ContainsEmail)
        );
        assert_eq!(
            check_policy("ada.lovelace", Some(&email())),
            Err(PasswordError::ContainsEmail)
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 12 two-byte characters: 24 bytes, 12 chars: accepted; 11: refused.
        assert_eq!(check_policy("éàüöçñßøåæœ€", None), Ok(()));
        assert_eq!(
            check_policy("éàüöçñßøåæœ", None),
            Err(PasswordError::TooShort)
        );
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::fast_for_tests();
        let hash = hasher
            .hash("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert_eq!(
            hasher
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .ok(),
            Some(true)
        );
        assert_eq!(
            hasher
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .ok(),
            Some(false)
        );
        assert_eq!(
            hasher.verify("anything at all".into(), None).await.ok(),
            Some(false)
        );
        assert!(!hasher.verify_blocking("x", "not a phc string"));
    }

    #[test]
    fn recommended_parameters_are_owasp() {
        assert_eq!(PasswordHasher::recommended().params(), (19456, 2, 1));
    }
}
