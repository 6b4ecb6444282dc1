//! AWS SDK clients, built once per execution environment.
//!
//! `aws-config` honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, …), so the same binary talks to
//! AWS, a moto server or DynamoDB Local depending only on its environment.

pub use aws_config::SdkConfig;

/// Loads region, credentials and endpoint overrides from the standard sources.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
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
}
