//! Key rotation takes effect within the `KEY_REFRESH_SECONDS` bound: a verifier picks up a new key and
//! drops a retired one, with an injected clock (no sleeping).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::keys::{KeyRefresh, MonotonicClock, jwks_of};
use super::revocation::InMemoryRevocationStore;
use super::testing::TestIssuer;
use super::tests::{FakeFetcher, fake};
use super::verifier::IssuerPolicy;
use super::{AuthError, SigningKey, Verifier};

const ISSUER: &str = "https://auth.test.invalid";

/// A verifier over a published key set, with a clock the test moves on.
struct Rotation {
    verifier: Verifier,
    published: Arc<FakeFetcher>,
    seconds: Arc<AtomicU64>,
}

impl Rotation {
    /// The JWKS now publishes `keys`.
    fn publish(&self, keys: &[&SigningKey]) {
        if let Ok(mut jwks) = self.published.jwks.lock() {
            *jwks = jwks_of(keys.iter().copied());
        }
    }

    /// Verifies `token` once the clock has moved on by `seconds`.
    async fn verify_after(&self, seconds: u64, token: &str) -> Result<(), AuthError> {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
        self.verifier.verify(token, ISSUER).await.map(|_| ())
    }
}

fn key() -> SigningKey {
    SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"))
}

fn setup(keys: &[&SigningKey]) -> Rotation {
    setup_with(keys, Duration::from_secs(300))
}

fn setup_with(keys: &[&SigningKey], max_age: Duration) -> Rotation {
    let published = fake(keys);
    let seconds = Arc::new(AtomicU64::new(1_000));
    let clock_seconds = seconds.clone();
    let clock: MonotonicClock =
        Arc::new(move || Duration::from_secs(clock_seconds.load(Ordering::SeqCst)));
    let verifier = Verifier::with_fetcher(
        IssuerPolicy::Fixed(ISSUER.into()),
        "api",
        None,
        published.clone(),
        KeyRefresh::new(max_age, clock),
        Arc::new(InMemoryRevocationStore::new()),
    );
    Rotation {
        verifier,
        published,
        seconds,
    }
}

fn token(key: &SigningKey) -> String {
    let issuer = TestIssuer::with(ISSUER, "api");
    key.sign(&issuer.claims("u", &[]))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_retired_key_stops_verifying_within_the_bound() {
    let (old, new) = (key(), key());
    let rotation = setup(&[&new, &old]);
    let old_token = token(&old);
    assert!(rotation.verify_after(0, &old_token).await.is_ok());

    // retire-previous: the JWKS no longer has the old key.
    rotation.publish(&[&new]);
    assert!(
        rotation.verify_after(149, &old_token).await.is_ok(),
        "still cached"
    );
    assert!(
        matches!(
            rotation.verify_after(1, &old_token).await,
            Err(AuthError::InvalidToken(_))
        ),
        "dropped once the set is half the bound old"
    );
    assert!(rotation.verify_after(0, &token(&new)).await.is_ok());
}

#[tokio::test]
async fn a_failing_refresh_never_extends_a_key_beyond_the_bound() {
    let old = key();
    let rotation = setup(&[&old]);
    let old_token = token(&old);
    assert!(rotation.verify_after(0, &old_token).await.is_ok());
    rotation.published.fail.store(true, Ordering::SeqCst);
    assert!(
        rotation.verify_after(299, &old_token).await.is_ok(),
        "stale but within the bound: an auth outage does not log everybody out"
    );
    assert!(
        rotation.verify_after(1, &old_token).await.is_err(),
        "never beyond the bound"
    );
}

#[tokio::test]
async fn a_new_key_verifies_at_once() {
    let (old, new) = (key(), key());
    let rotation = setup(&[&old]);
    assert!(rotation.verify_after(0, &token(&old)).await.is_ok());
    rotation.publish(&[&new, &old]);
    assert!(rotation.verify_after(31, &token(&new)).await.is_ok());
}

#[tokio::test]
async fn an_unknown_kid_refreshes_a_set_that_is_due_even_within_the_refetch_limit() {
    // KEY_REFRESH_SECONDS=10: the set is due after 5 s, sooner than the 30 s limit on unknown-kid refetches.
    let (old, new) = (key(), key());
    let rotation = setup_with(&[&old], Duration::from_secs(10));
    assert!(rotation.verify_after(0, &token(&old)).await.is_ok());
    rotation.publish(&[&new, &old]);
    assert!(
        rotation.verify_after(4, &token(&new)).await.is_err(),
        "a fresh set is not refetched for an unknown kid (no amplification)"
    );
    assert!(
        rotation.verify_after(2, &token(&new)).await.is_ok(),
        "a set past half its life is refreshed for the new kid"
    );
}
