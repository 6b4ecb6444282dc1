//! `AppState::from_env` reads the pagination key from Secrets Manager, in the background: an unreadable secret
//! fails the listings that need it (503, retried by the next one), not the start.

use platform::pagination::{PageCodec, PaginationError};
use testkit::moto::{Moto, unique_table};

#[tokio::test]
async fn app_state_from_env_reads_the_pagination_key_from_secrets_manager() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let key = "k".repeat(64);
    let arn = secrets
        .create_secret()
        .name(unique_table("pagination-key"))
        .secret_string(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create secret: {e:?}"))
        .arn
        .unwrap_or_default();
    let env = platform::config::Env::from_pairs([
        ("BLOG_TABLE", "blog"),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://issuer.test"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("PAGINATION_KEY_SECRET_ARN", arn.as_str()),
    ]);
    let state = blog::AppState::from_env(&env, &sdk)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Tokens minted with the secret's value verify under a codec keyed by it, and only by it.
    let cursor = platform::pagination::Cursor::from([(
        "id".to_owned(),
        platform::pagination::CursorValue::S("x".into()),
    )]);
    let codec = state.pages.codec().await.unwrap_or_else(|e| panic!("{e}"));
    let token = codec.encode("posts", &cursor);
    let same = PageCodec::new(key.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(same.decode("posts", &token), Ok(cursor));

    let missing = platform::config::Env::from_pairs([
        ("BLOG_TABLE", "blog"),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://issuer.test"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("PAGINATION_KEY_SECRET_ARN", "no-such-secret"),
    ]);
    let unreadable = blog::AppState::from_env(&missing, &sdk)
        .await
        .unwrap_or_else(|e| panic!("the secret is read after the start: {e}"));
    assert_eq!(
        unreadable.pages.codec().await.err(),
        Some(PaginationError::KeyUnavailable)
    );
    let problem = platform::Problem::from(PaginationError::KeyUnavailable);
    assert_eq!(problem.status_code(), http::StatusCode::SERVICE_UNAVAILABLE);
    let unset = platform::config::Env::from_pairs([("BLOG_TABLE", "blog")]);
    assert!(blog::AppState::from_env(&unset, &sdk).await.is_err());
}
