//! The token issuer comes from configuration only, never from a request's `Host` header.
//!
//! - `JWT_ISSUER`: the issuer URL itself (a custom domain, or any function whose environment can name it);
//! - else `JWT_ISSUER_SECRET_ID`: the name of a Secrets Manager secret whose string is the issuer URL. The
//!   template uses this for AuthManager: its own API's URL cannot be in its own environment (the API's
//!   routes reference the function, so CloudFormation would see a cycle), but a secret created from the
//!   API's URL and read by name at cold start can;
//! - neither: the function refuses to start.

use platform::auth::verifier::IssuerPolicy;
use platform::aws::SecretError;
use platform::config::{ConfigError, Env};

use crate::state::StartupError;

/// Where the issuer comes from, as configured: checked without a network call.
#[derive(Debug, Clone)]
pub enum IssuerSource {
    /// `JWT_ISSUER`, valid.
    Fixed(IssuerPolicy),
    /// The secret named by `JWT_ISSUER_SECRET_ID`, to read.
    Secret(String),
}

impl IssuerSource {
    pub fn from_env(env: &Env) -> Result<Self, StartupError> {
        if env.optional("JWT_ISSUER").is_some() {
            return Ok(Self::Fixed(IssuerPolicy::from_env(env)?));
        }
        env.optional("JWT_ISSUER_SECRET_ID")
            .map(Self::Secret)
            .ok_or_else(|| {
                StartupError::Issuer(
                    "set JWT_ISSUER (the issuer URL) or JWT_ISSUER_SECRET_ID (a secret holding it)"
                        .into(),
                )
            })
    }

    /// The issuer: as configured, or read from the secret.
    pub async fn resolve(
        &self,
        secrets: &aws_sdk_secretsmanager::Client,
    ) -> Result<IssuerPolicy, StartupError> {
        let secret_id = match self {
            Self::Fixed(policy) => return Ok(policy.clone()),
            Self::Secret(secret_id) => secret_id,
        };
        let raw = match platform::aws::secret_string(secrets, secret_id).await {
            Ok(raw) => raw,
            Err(SecretError::NoString) => String::new(), // refused below, as an empty issuer
            Err(SecretError::Unreadable(context)) => {
                return Err(StartupError::Issuer(format!(
                    "cannot read the issuer secret {secret_id}: {context}"
                )));
            }
        };
        IssuerPolicy::parse(&raw).map_err(|e| match e {
            ConfigError::Invalid { reason, .. } => {
                StartupError::Issuer(format!("the secret {secret_id} {reason}"))
            }
            other => StartupError::Config(other),
        })
    }
}

/// The issuer from `JWT_ISSUER` or the secret named by `JWT_ISSUER_SECRET_ID`.
pub async fn resolve(
    env: &Env,
    secrets: &aws_sdk_secretsmanager::Client,
) -> Result<IssuerPolicy, StartupError> {
    IssuerSource::from_env(env)?.resolve(secrets).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_client() -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }

    #[tokio::test]
    async fn refuses_to_start_without_an_issuer() {
        let err = resolve(
            &Env::from_pairs([("JWT_AUDIENCE", "api")]),
            &offline_client(),
        )
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("JWT_ISSUER"), "{err}");
    }

    #[tokio::test]
    async fn a_configured_issuer_is_used_as_is() {
        let env = Env::from_pairs([("JWT_ISSUER", "https://id.example/")]);
        let issuer = resolve(&env, &offline_client())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issuer.as_str(), "https://id.example");
        let env = Env::from_pairs([("JWT_ISSUER", "id.example")]);
        assert!(resolve(&env, &offline_client()).await.is_err());
    }
}
