//! The fat function's state: every service's own state, each built from the environment variables its
//! lith reads (the template gives the fat function the union of them).

use std::sync::Arc;

use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};

/// Why the fat function could not start, naming the service whose configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("auth: {0}")]
    Auth(#[from] auth::StartupError),
    #[error("{service}: {source}")]
    Config {
        service: &'static str,
        source: ConfigError,
    },
}

fn config(service: &'static str) -> impl FnOnce(ConfigError) -> StartupError {
    move |source| StartupError::Config { service, source }
}

/// One state per service, built once per execution environment.
#[derive(Clone)]
pub struct FatState {
    pub auth: auth::AppState,
    pub blog: blog::AppState,
    pub billing: billing::AppState,
    pub currency_read: currency::ReadState,
    pub currency_write: currency::WriteState,
    pub convert: Arc<convert::AppState>,
    // (./inv new-service adds a service's state above this line.)
}

impl FatState {
    /// The checks of [`Self::from_env`] that need no network call and start no background read: the auth
    /// service's `prepare`, the currency and convert states. (Blog's and billing's configuration is checked
    /// when [`Self::from_env`] runs, in the background; a failure there answers 503 and is logged.)
    pub fn check(env: &Env, sdk: &SdkConfig) -> Result<(), StartupError> {
        auth::AppState::prepare(env, sdk)?;
        currency::read_state_from_env(env, sdk).map_err(config("currency-read"))?;
        currency::write_state_from_env(env, sdk).map_err(config("currency-write"))?;
        convert::AppState::from_env(env, sdk).map_err(config("convert"))?;
        Ok(())
    }

    /// Every service's `from_env`, the three that read Secrets Manager (signing key, pagination key ×2)
    /// concurrently, then [`FatState::sharing_auth_verifier`].
    pub async fn from_env(env: &Env, sdk: &SdkConfig) -> Result<Self, StartupError> {
        let (auth, blog, billing) = tokio::try_join!(
            async { Ok::<_, StartupError>(auth::AppState::from_env(env, sdk).await?) },
            async {
                blog::AppState::from_env(env, sdk)
                    .await
                    .map_err(config("blog"))
            },
            async {
                billing::AppState::from_env(env, sdk)
                    .await
                    .map_err(config("billing"))
            },
        )?;
        let state = Self {
            auth,
            blog,
            billing,
            currency_read: currency::read_state_from_env(env, sdk)
                .map_err(config("currency-read"))?,
            currency_write: currency::write_state_from_env(env, sdk)
                .map_err(config("currency-write"))?,
            convert: Arc::new(convert::AppState::from_env(env, sdk).map_err(config("convert"))?),
            // (./inv new-service adds a service's from_env above this line.)
        };
        Ok(state.sharing_auth_verifier())
    }

    /// Blog, billing and currency-write verify tokens with auth's verifier: the same issuer policy, audience
    /// and revocation table, but with the public keys this very function signs with, so no service fetches
    /// the JWKS over HTTP from its own API (the liths' verifiers do, from AuthManager). Key rotation then
    /// behaves as in the auth lith: keys are read at cold start (current + previous).
    pub fn sharing_auth_verifier(mut self) -> Self {
        let verifier = self.auth.verifier().clone();
        self.blog.verifier = verifier.clone();
        self.billing.verifier = verifier.clone();
        // (./inv new-service adds a service's verifier above this line.)
        self.currency_write.verifier = verifier;
        self
    }
}
