//! AWS SDK clients, built once per execution environment.
//!
//! `aws-config` honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, …), so the same binary talks to
//! AWS, a moto server or DynamoDB Local depending only on its environment.

use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;

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

/// Loads region, credentials and endpoint overrides from the standard sources, with [`timeouts`].
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .load()
        .await
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
