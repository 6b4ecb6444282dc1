//! AWS SDK clients, built once per execution environment.
//!
//! `aws-config` honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, …), so the same binary talks to
//! AWS, a moto server or DynamoDB Local depending only on its environment.

use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;

/// Time limits on every AWS call. Without them a stalled dependency (a frozen DynamoDB node, a black-holed
/// connection) holds the request until the Lambda timeout kills it and the client sees a generic 500; with
/// them the call fails as a timeout, which the services answer as 503 (retry later), well inside the
/// functions' 10 s Timeout. An attempt may take 3 s (the SDK retries up to 3 attempts within the operation's 8 s).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// Loads region, credentials and endpoint overrides from the standard sources, with [`timeouts`] and
/// [`https_client`].
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .http_client(https_client())
        .load()
        .await
}

/// The SDK's default HTTPS client (hyper, rustls with aws-lc, the system's root certificates, proxies from the
/// environment), minus one cost at init. The default builds a throwaway TLS connector each time an SDK client is
/// constructed, so that a broken certificate store shows at construction: every client (the config loader's
/// own, DynamoDB, Secrets Manager, …) re-read and parsed the system's roots during init, 3–4 ms per phase on a
/// laptop. Here a thread loads them once in the background at start ([`tls_roots_loaded`] tells when), and the
/// first request's connector (built once, cached by the client) finds them ready. A broken store then fails
/// the first AWS call, loudly.
pub fn https_client() -> SharedHttpClient {
    let connectors = Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    });
    let warm = connectors.clone();
    let (loaded, ready) = tokio::sync::watch::channel(false);
    let _ = ROOTS_READY.set(ready);
    let _ = std::thread::Builder::new()
        .name("tls-roots".into())
        .spawn(move || {
            // The default's own eager check, off the init path: it loads the roots into the process-wide cache.
            if let Err(err) = warm.validate_base_client_config(
                &RuntimeComponentsBuilder::new("warm"),
                &ConfigBag::base(),
            ) {
                tracing::warn!(error = %err, "cannot load the TLS root certificates");
            }
            let _ = loaded.send(true);
        });
    SharedHttpClient::new(CheckedOnFirstUse(connectors))
}

static ROOTS_READY: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>> =
    std::sync::OnceLock::new();

/// Resolves once [`https_client`]'s thread has loaded the root certificates (at once without that thread).
/// A background read awaits it before its first SDK call, so that call never blocks the runtime's thread on
/// the roots while the runtime still has to poll for the first event.
pub async fn tls_roots_loaded() {
    if let Some(ready) = ROOTS_READY.get() {
        let _ = ready.clone().wait_for(|loaded| *loaded).await;
    }
}

/// An HTTP client whose connectors are only built when a request needs one (see [`https_client`]).
#[derive(Debug)]
struct CheckedOnFirstUse(SharedHttpClient);

impl HttpClient for CheckedOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Why a secret's string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager refused or could not be reached (the SDK's error, with its context).
    #[error("cannot read the secret: {0}")]
    Unreadable(String),
    /// The secret holds binary data, not a string.
    #[error("the secret has no SecretString")]
    NoString,
}

/// The `SecretString` of `secret_id`: the one read of a secret every service shares.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            SecretError::Unreadable(
                aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
            )
        })?;
    output.secret_string.ok_or(SecretError::NoString)
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endpoint_override_comes_from_the_environment() {
        // The only test in this crate that reads the process environment for AWS settings.
        // SAFETY-free: edition 2024 marks set_var unsafe; we read through a provider instead.
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:4566")
            .region(aws_config::Region::new("eu-west-1"))
            .load()
            .await;
        let client = dynamodb(&config);
        assert_eq!(
            client.config().region().map(|r| r.as_ref()),
            Some("eu-west-1")
        );
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
    }

    #[test]
    fn every_call_is_bounded_inside_the_function_timeout() {
        let t = timeouts();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(1)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(3)));
        assert!(
            t.operation_timeout()
                .is_some_and(|d| d < Duration::from_secs(10))
        );
    }
}
