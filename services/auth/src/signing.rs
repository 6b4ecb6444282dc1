//! The signing keys: loaded once per execution environment from AWS Secrets Manager.
//!
//! The secret (`SIGNING_KEY_SECRET_ARN`) holds a JSON document written by `devkit/keys.py`:
//! ```json
//! {"current":  {"kid": "…", "alg": "ES256", "private_key_pem": "-----BEGIN PRIVATE KEY-----…"},
//!  "previous": {"kid": "…", "alg": "ES256", "private_key_pem": "…"}}
//! ```
//! Tokens are signed with `current`; the JWKS publishes `current` and `previous`, so tokens signed before a
//! rotation keep verifying until they expire (rotate, then wait at least one token lifetime before the
//! next rotation). `kid` defaults to the key's RFC 7638 thumbprint. No key is ever committed to the repo:
//! `./inv up` and `./inv deploy` create one in the secret when it has none.

use jsonwebtoken::jwk::JwkSet;
use platform::auth::SigningKey;
use platform::auth::keys::jwks_of;
use platform::aws::SecretError;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum SigningKeysError {
    /// The secret is not the expected JSON (the message never echoes secret content).
    #[error("signing key secret is not valid JSON of the expected shape ({0})")]
    Shape(String),
    #[error("signing key secret `{which}` key is unusable: {reason}")]
    Key { which: &'static str, reason: String },
    #[error("cannot read the signing key secret: {0}")]
    Fetch(String),
    #[error(
        "the signing key secret has no SecretString; run `./inv up` or `./inv deploy` to create a key"
    )]
    Empty,
}

#[derive(Deserialize)]
struct SecretDocument {
    current: Option<KeyDocument>,
    #[serde(default)]
    previous: Option<KeyDocument>,
}

#[derive(Deserialize)]
struct KeyDocument {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    private_key_pem: String,
    /// RFC 3339, written by `./inv keys rotate`: when the key was made (see [`SigningKeys::as_of`]).
    #[serde(default)]
    created_at: Option<String>,
}

fn parse_key(which: &'static str, doc: &KeyDocument) -> Result<SigningKey, SigningKeysError> {
    if let Some(alg) = &doc.alg {
        if alg != "ES256" {
            return Err(SigningKeysError::Key {
                which,
                reason: format!("alg {alg} is not ES256"),
            });
        }
    }
    SigningKey::from_pkcs8_pem(&doc.private_key_pem, doc.kid.as_deref()).map_err(|e| {
        SigningKeysError::Key {
            which,
            reason: e.to_string(),
        }
    })
}

/// The current signing key and, during a rotation, the previous one.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
    /// When `current` was made (epoch seconds; `None`: unknown, so it is used at once).
    current_since: Option<i64>,
}

impl SigningKeys {
    pub fn new(current: SigningKey, previous: Option<SigningKey>) -> Self {
        Self {
            current,
            previous,
            current_since: None,
        }
    }

    /// The same keys, `current` made at `since` (epoch seconds).
    pub fn made_at(mut self, since: i64) -> Self {
        self.current_since = Some(since);
        self
    }

    /// The keys to sign and publish with at `now` (epoch seconds): a new key is published before it signs.
    ///
    /// Until `lead` has passed since `current` was made, the previous key keeps signing and the new one is
    /// only published (second in the JWKS). Every verifier refreshes its key set within `lead`
    /// (`KEY_REFRESH_SECONDS`), so none meets a token signed with a key it has not fetched yet.
    pub fn as_of(&self, now: i64, lead: i64) -> SigningKeys {
        match (&self.previous, self.current_since) {
            (Some(previous), Some(since)) if now < since.saturating_add(lead) => SigningKeys {
                current: previous.clone(),
                previous: Some(self.current.clone()),
                current_since: None,
            },
            _ => self.clone(),
        }
    }

    /// From the secret's JSON document.
    pub fn from_secret_json(json: &str) -> Result<Self, SigningKeysError> {
        let doc: SecretDocument = serde_json::from_str(json).map_err(|e| {
            // serde's message can quote input; report only the category and position.
            SigningKeysError::Shape(format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let current = doc.current.as_ref().ok_or(SigningKeysError::Key {
            which: "current",
            reason: "missing; run `./inv up` or `./inv deploy` to create a key".into(),
        })?;
        let current = parse_key("current", current)?;
        let previous = match &doc.previous {
            Some(doc) => {
                let previous = parse_key("previous", doc)?;
                (previous.kid() != current.kid()).then_some(previous)
            }
            None => None,
        };
        let current_since = doc
            .current
            .as_ref()
            .and_then(|key| key.created_at.as_deref())
            .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
            .map(OffsetDateTime::unix_timestamp);
        Ok(Self {
            current,
            previous,
            current_since,
        })
    }

    /// Reads and parses the secret (once, at cold start).
    pub async fn load(
        client: &aws_sdk_secretsmanager::Client,
        secret_id: &str,
    ) -> Result<Self, SigningKeysError> {
        let json = platform::aws::secret_string(client, secret_id)
            .await
            .map_err(|err| match err {
                SecretError::Unreadable(context) => SigningKeysError::Fetch(context),
                SecretError::NoString => SigningKeysError::Empty,
            })?;
        Self::from_secret_json(&json)
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    pub fn previous(&self) -> Option<&SigningKey> {
        self.previous.as_ref()
    }

    /// The public keys, current first.
    pub fn jwks(&self) -> JwkSet {
        jwks_of(std::iter::once(&self.current).chain(self.previous.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_published_first_and_signs_once_the_lead_has_passed() {
        let json = serde_json::json!({
            "current": {"kid": "new", "private_key_pem": pem(), "created_at": "2026-01-01T12:00:00Z"},
            "previous": {"kid": "old", "private_key_pem": pem()}
        })
        .to_string();
        let keys = SigningKeys::from_secret_json(&json).unwrap_or_else(|e| panic!("{e}"));
        let made = 1_767_268_800; // 2026-01-01T12:00:00Z
        let kids = |k: &SigningKeys| (k.current().kid().to_owned(), published_kids(k));
        let during = keys.as_of(made + 299, 300);
        assert_eq!(
            kids(&during),
            ("old".into(), vec!["old".into(), "new".into()])
        );
        let after = keys.as_of(made + 300, 300);
        assert_eq!(
            kids(&after),
            ("new".into(), vec!["new".into(), "old".into()])
        );
        let undated = SigningKeys::new(keys.current().clone(), keys.previous().cloned());
        assert_eq!(
            undated.as_of(made, 300).current().kid(),
            "new",
            "a key of unknown age signs at once"
        );
        let alone = SigningKeys::new(keys.current().clone(), None).made_at(made);
        assert_eq!(
            alone.as_of(made, 300).current().kid(),
            "new",
            "nothing else to sign with"
        );
    }

    /// The key ids the JWKS publishes, in order.
    fn published_kids(keys: &SigningKeys) -> Vec<String> {
        keys.jwks()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect()
    }

    fn pem() -> String {
        SigningKey::generate_pkcs8_pem().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_current_and_previous_and_publishes_both() {
        let json = serde_json::json!({
            "current": {"kid": "k2", "alg": "ES256", "private_key_pem": pem()},
            "previous": {"private_key_pem": pem()}
        })
        .to_string();
        let keys = SigningKeys::from_secret_json(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(keys.current().kid(), "k2");
        let previous = keys
            .previous()
            .map(|k| k.kid().to_owned())
            .unwrap_or_default();
        assert_eq!(previous.len(), 43, "thumbprint kid: {previous}");
        assert_eq!(published_kids(&keys), vec!["k2".to_owned(), previous]);
    }

    #[test]
    fn errors_never_echo_secret_content() {
        for json in [
            "not json at all -----BEGIN PRIVATE KEY----- secret",
            r#"{"current": {"private_key_pem": 42}}"#,
            r#"{"current": {"private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}}"#,
            r#"{"current": null}"#,
            r#"{"current": {"alg": "HS256", "private_key_pem": "x"}}"#,
        ] {
            let err = SigningKeys::from_secret_json(json)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.is_empty(), "{json} should be refused");
            assert!(!err.contains("BEGIN"), "{err}");
            assert!(!err.contains("AAAA"), "{err}");
        }
    }
}
