//! Key rotation takes effect within the `KEY_REFRESH_SECONDS` bound: a verifier picks up a new key and
//! drops a retired one, with an injected clock (no sleeping).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::keys::{BoxFuture, JwkSet, JwksFetcher, KeyRefresh, MonotonicClock, jwks_of};
use super::revocation::InMemoryRevocationStore;
use super::testing::TestIssuer;
use super::verifier::IssuerPolicy;
use super::{AuthError, SigningKey, Verifier};

const ISSUER: &str = "https://auth.test.invalid";

struct Published {
    jwks: Mutex<JwkSet>,
    down: AtomicBool,
}

impl JwksFetcher for Published {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<JwkSet, String>> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err("connection refused".into());
            }
            self.jwks
                .lock()
                .map(|j| j.clone())
                .map_err(|_| "poisoned".to_owned())
        })
    }
}

fn key() -> SigningKey {
    SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"))
}

fn setup(keys: &[&SigningKey]) -> (Verifier, Arc<Published>, Arc<AtomicU64>) {
    setup_with(keys, Duration::from_secs(300))
}

fn setup_with(
    keys: &[&SigningKey],
    max_age: Duration,
) -> (Verifier, Arc<Published>, Arc<AtomicU64>) {
    let published = Arc::new(Published {
        jwks: Mutex::new(jwks_of(keys.iter().copied())),
        down: AtomicBool::new(false),
    });
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
    (verifier, published, seconds)
}

fn token(key: &SigningKey) -> String {
    let issuer = TestIssuer::with(ISSUER, "api");
    key.sign(&issuer.claims("u", &[]))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn publish(published: &Published, keys: &[&SigningKey]) {
    if let Ok(mut jwks) = published.jwks.lock() {
        *jwks = jwks_of(keys.iter().copied());
    }
}

#[tokio::test]
async fn a_retired_key_stops_verifying_within_the_bound() {
    let (old, new) = (key(), key());
    let (verifier, published, clock) = setup(&[&new, &old]);
    let old_token = token(&old);
    assert!(verifier.verify(&old_token, ISSUER).await.is_ok());

    // retire-previous: the JWKS no longer has the old key.
    publish(&published, &[&new]);
    clock.fetch_add(149, Ordering::SeqCst);
    assert!(
        verifier.verify(&old_token, ISSUER).await.is_ok(),
        "still cached"
    );
    clock.fetch_add(1, Ordering::SeqCst);
    assert!(
        matches!(
            verifier.verify(&old_token, ISSUER).await,
            Err(AuthError::InvalidToken(_))
        ),
        "dropped once the set is half the bound old"
    );
    assert!(verifier.verify(&token(&new), ISSUER).await.is_ok());
}

#[tokio::test]
async fn a_failing_refresh_never_extends_a_key_beyond_the_bound() {
    let old = key();
    let (verifier, published, clock) = setup(&[&old]);
    let old_token = token(&old);
    assert!(verifier.verify(&old_token, ISSUER).await.is_ok());
    published.down.store(true, Ordering::SeqCst);
    clock.fetch_add(299, Ordering::SeqCst);
    assert!(
        verifier.verify(&old_token, ISSUER).await.is_ok(),
        "stale but within the bound: an auth outage does not log everybody out"
    );
    clock.fetch_add(1, Ordering::SeqCst);
    assert!(
        verifier.verify(&old_token, ISSUER).await.is_err(),
        "never beyond the bound"
    );
}

#[tokio::test]
async fn a_new_key_verifies_at_once() {
    let (old, new) = (key(), key());
    let (verifier, published, clock) = setup(&[&old]);
    assert!(verifier.verify(&token(&old), ISSUER).await.is_ok());
    publish(&published, &[&new, &old]);
    clock.fetch_add(31, Ordering::SeqCst);
    assert!(verifier.verify(&token(&new), ISSUER).await.is_ok());
}

#[tokio::test]
async fn an_unknown_kid_refreshes_a_set_that_is_due_even_within_the_refetch_limit() {
    // KEY_REFRESH_SECONDS=10: the set is due after 5 s, sooner than the 30 s limit on unknown-kid refetches.
    let (old, new) = (key(), key());
    let (verifier, published, clock) = setup_with(&[&old], Duration::from_secs(10));
    assert!(verifier.verify(&token(&old), ISSUER).await.is_ok());
    publish(&published, &[&new, &old]);
    clock.fetch_add(4, Ordering::SeqCst);
    assert!(
        verifier.verify(&token(&new), ISSUER).await.is_err(),
        "a fresh set is not refetched for an unknown kid (no amplification)"
    );
    clock.fetch_add(2, Ordering::SeqCst);
    assert!(
        verifier.verify(&token(&new), ISSUER).await.is_ok(),
        "a set past half its life is refreshed for the new kid"
    );
}
