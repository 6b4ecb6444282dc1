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
//! memory does not help a p = 1 hash. Hashes run on dedicated worker threads (off the async runtime, so it
//! keeps serving other requests) that each reuse one argon2 memory buffer — see [`Engine`] for why not
//! `spawn_blocking` with the crate's allocating API.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
    #[error("hashing worker failed: {0}")]
    Worker(String),
}

/// The argon2 state on one worker thread: its memory (m KiB) is allocated once and reused by every hash.
///
/// Why not `Argon2::hash_password` on `spawn_blocking`: each call allocates m KiB with 64-byte alignment,
/// and glibc (after its first free of an mmapped chunk raises the mmap threshold) serves those aligned
/// requests from the heap without reusing the freed ones. Measured: RSS grew by ~19 MiB per login
/// (32 → 166 MB after 8 requests in a 256 MB function) until OOM. A fixed buffer per worker bounds the
/// hashing memory at `workers × m KiB`.
struct Engine {
    params: Params,
    memory: Vec<Block>,
}

impl Engine {
    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), HashError> {
        let needed = params.block_count();
        if self.memory.len() != needed {
            // First use, or a stored hash with other parameters: (re)allocate once.
            self.memory = vec![Block::default(); needed];
        }
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password, salt, out, &mut self.memory)
            .map_err(|e| HashError::Argon2(e.to_string()))
    }

    fn hash(&mut self, password: &str) -> Result<String, HashError> {
        fn argon(e: impl std::fmt::Display) -> HashError {
            HashError::Argon2(e.to_string())
        }
        let salt = argon2::password_hash::try_generate_salt()
            .map_err(|e| HashError::Argon2(format!("random salt: {e}")))?;
        let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
        let params = self.params.clone();
        self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params.clone(),
            password.as_bytes(),
            &salt,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(argon)?,
            salt: Some(Salt::new(&salt).map_err(argon)?),
            hash: Some(Output::new(&out).map_err(argon)?),
        };
        Ok(phc.to_string())
    }

    /// Recomputes with the stored hash's algorithm, version, parameters and salt; compares in constant time.
    fn verify(&mut self, password: &str, phc: &str) -> bool {
        let mut checked = || -> Result<bool, String> {
            let hash = PasswordHash::new(phc).map_err(|e| e.to_string())?;
            let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
                return Err("no salt or output".into());
            };
            let algorithm =
                Algorithm::try_from(hash.algorithm.as_str()).map_err(|e| e.to_string())?;
            let version = match hash.version {
                Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
                None => Version::default(),
            };
            let params = Params::try_from(&hash).map_err(|e| e.to_string())?;
            let mut out = vec![0_u8; expected.len()];
            self.compute(
                algorithm,
                version,
                params,
                password.as_bytes(),
                salt.as_ref(),
                &mut out,
            )
            .map_err(|e| e.to_string())?;
            // `Output`'s equality is constant-time.
            Ok(Output::new(&out).map_err(|e| e.to_string())? == *expected)
        };
        match checked() {
            Ok(matches) => matches,
            Err(err) => {
                tracing::error!(error = %err, "stored password hash is unusable");
                false
            }
        }
    }
}

type Job = Box<dyn FnOnce(&mut Engine) + Send>;

/// Dedicated hashing threads (off the async runtime, like `spawn_blocking`, but long-lived so each keeps
/// its argon2 memory). Jobs queue when all workers are busy.
struct Workers {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Workers {
    fn start(params: &Params, count: usize) -> Result<Self, HashError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = queue.clone();
            let mut engine = Engine {
                params: params.clone(),
                memory: Vec::new(),
            };
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        // Ends when every sender (every PasswordHasher clone) is gone.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut engine),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| HashError::Worker(e.to_string()))?;
        }
        Ok(Self { jobs })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |engine| {
                let _ = reply.send(job(engine));
            }))
            .map_err(|_| HashError::Worker("hashing threads stopped".into()))?;
        answer
            .await
            .map_err(|_| HashError::Worker("hashing thread dropped the job".into()))
    }
}

/// argon2id hashing with fixed parameters; verification uses the parameters stored in each hash.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    workers: usize,
    pool: Arc<OnceLock<Result<Workers, String>>>,
    /// A hash of a random password with the same parameters, verified against when the email is unknown so
    /// that "no such user" costs as much as "wrong password". Computed on first use.
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHasher(m={} KiB, t={}, p={}, workers={})",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            self.workers
        )
    }
}

impl PasswordHasher {
    /// OWASP's argon2id recommendation: m = 19456 KiB, t = 2, p = 1; one worker.
    pub fn recommended() -> Self {
        Self::with_params(Params::DEFAULT, 1)
    }

    /// Custom parameters (`m` in KiB), one worker.
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        Ok(Self::with_params(params, 1))
    }

    /// Hash on `workers` threads at once (memory: `workers × m` KiB). One suits a Lambda function (one
    /// request at a time); raise it for concurrent topologies (LMI) with the memory to match.
    pub fn with_workers(self, workers: usize) -> Self {
        Self::with_params(self.params, workers.max(1))
    }

    /// The cheapest valid parameters: for tests only (never for stored passwords).
    pub fn fast_for_tests() -> Self {
        Self::with_params(
            Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or(Params::DEFAULT),
            1,
        )
    }

    fn with_params(params: Params, workers: usize) -> Self {
        Self {
            params,
            workers,
            pool: Arc::new(OnceLock::new()),
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

    fn pool(&self) -> Result<&Workers, HashError> {
        self.pool
            .get_or_init(|| Workers::start(&self.params, self.workers).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| HashError::Worker(e.clone()))
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.pool()?
            .run(move |engine| engine.hash(&password))
            .await?
    }

    /// Whether `password` matches `phc`. With `None` (unknown user) it verifies against a dummy hash of
    /// the same cost and returns `false`, so both failures cost the same time. A malformed stored hash
    /// counts as a mismatch (and is logged).
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        let phc = match phc {
            Some(phc) => Some(phc),
            None => {
                let _ = self.dummy_hash().await?;
                None
            }
        };
        let dummy = self.dummy.get().cloned().unwrap_or_default();
        self.pool()?
            .run(move |engine| match phc {
                Some(phc) => engine.verify(&password, &phc),
                None => {
                    let _ = engine.verify(&password, &dummy);
                    false
                }
            })
            .await
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash.clone());
        }
        let hash = self.hash(uuid::Uuid::new_v4().to_string()).await?;
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
        assert_eq!(
            hasher
                .verify("x".into(), Some("not a phc string".into()))
                .await
                .ok(),
            Some(false)
        );
    }

    #[tokio::test]
    async fn phc_strings_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(64, 1, 1).unwrap_or_else(|e| panic!("{e}"));
        // The crate's own hash (other parameters, even) verifies with ours…
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32, 2, 1, None).unwrap_or_default(),
        )
        .hash_password(b"correct horse battery")
        .map(|h| h.to_string())
        .unwrap_or_default();
        assert_eq!(
            hasher
                .verify("correct horse battery".into(), Some(theirs.clone()))
                .await
                .ok(),
            Some(true)
        );
        assert_eq!(
            hasher
                .verify("correct horse batterY".into(), Some(theirs))
                .await
                .ok(),
            Some(false)
        );
        // …and ours verifies with theirs.
        let ours = hasher
            .hash("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
    }

    #[tokio::test]
    async fn several_workers_share_the_queue() {
        let hasher = PasswordHasher::fast_for_tests().with_workers(3);
        let mut tasks = Vec::new();
        for i in 0..9 {
            let hasher = hasher.clone();
            tasks.push(tokio::spawn(async move {
                let password = format!("password number {i}");
                let hash = hasher.hash(password.clone()).await.unwrap_or_default();
                hasher.verify(password, Some(hash)).await.ok()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.ok().flatten(), Some(true));
        }
    }

    #[test]
    fn recommended_parameters_are_owasp() {
        assert_eq!(PasswordHasher::recommended().params(), (19456, 2, 1));
    }
}
