//! The DynamoDB idempotency store (exclusive claims, replay, mismatch, expiry) and the payment-key marker.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::store::{BillingStore, DynamoBillingStore, PaymentKey, Recorded};
use platform::idempotency::testing::assert_a_released_claim_is_claimed_again;
use platform::idempotency::{Claim, IdempotencyError, IdempotencyStore, StoredResponse};
use serde_json::json;
use testkit::concurrently;

use crate::helpers::{fixture, key};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_idempotency_claims_are_exclusive_then_replay_mismatch_and_expire() {
    let f = fixture().await;
    let now = Arc::new(AtomicI64::new(1_000_000));
    let store = Arc::new(f.idempotency(now.clone()));
    let k = key("pay-1");
    let outcomes = concurrently(8, |_| {
        let (store, k) = (store.clone(), k.clone());
        async move { store.claim("alice", &k, "fp").await }
    })
    .await;
    let acquired = outcomes
        .iter()
        .filter(|o| **o == Ok(Claim::Acquired))
        .count();
    let busy = outcomes
        .iter()
        .filter(|o| **o == Err(IdempotencyError::InProgress))
        .count();
    assert_eq!((acquired, busy), (1, 7), "{outcomes:?}");

    assert_eq!(
        store.claim("alice", &k, "other").await,
        Err(IdempotencyError::Mismatch)
    );
    assert_eq!(
        store.claim("bob", &k, "other").await,
        Ok(Claim::Acquired),
        "scoped per user"
    );
    let response = StoredResponse {
        status: 201,
        body: "{\"id\":1}".into(),
        location: Some("/payments/1".into()),
    };
    store
        .complete("alice", &k, "fp", &response)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.claim("alice", &k, "fp").await,
        Ok(Claim::Replay(response.clone()))
    );
    assert_eq!(
        store.claim("alice", &k, "other").await,
        Err(IdempotencyError::Mismatch)
    );

    // A crashed attempt's lock can be taken over after it expires (same body only); the taker releases it,
    // and a retry can claim it again at once.
    let k2 = key("crashed");
    assert_eq!(store.claim("alice", &k2, "fp").await, Ok(Claim::Acquired));
    now.fetch_add(11, Ordering::SeqCst);
    assert_eq!(
        store.claim("alice", &k2, "other").await,
        Err(IdempotencyError::Mismatch)
    );
    assert_a_released_claim_is_claimed_again(store.as_ref(), "alice", &k2, "fp").await;
    // Records expire logically even before DynamoDB's TTL sweeper deletes them.
    now.fetch_add(200, Ordering::SeqCst);
    assert_eq!(store.claim("alice", &k, "new").await, Ok(Claim::Acquired));
    let ttl = f
        .client
        .get_item()
        .table_name(&f.billing_table)
        .key("pk", AttributeValue::S("IDEMPOTENCY#5:alice#pay-1".into()))
        .key("sk", AttributeValue::S("IDEMPOTENCY".into()))
        .send()
        .await
        .ok()
        .and_then(|o| o.item)
        .and_then(|i| i.get("expires_at").and_then(|v| v.as_n().ok()).cloned());
    assert_eq!(
        ttl,
        Some((1_000_211 + 100).to_string()),
        "TTL attribute is epoch seconds"
    );
}

#[tokio::test]
async fn dynamo_payment_key_marker_stops_a_second_payment_for_one_key() {
    let f = fixture().await;
    let store = DynamoBillingStore::new(f.client.clone(), f.billing_table.clone());
    let invoice = billing::domain::build_invoice(
        serde_json::from_value(json!({"currency": "EUR", "lines": [{"description": "x", "quantity": 1, "unit_price": 1000}]}))
            .unwrap_or_else(|e| panic!("{e}")),
        "alice",
        platform::ids::new_id(),
        platform::ids::now_rfc3339(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .create_invoice(&invoice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let payment = |id: String| billing::domain::Payment {
        id,
        owner_id: "alice".into(),
        invoice_id: invoice.id.clone(),
        amount: 100,
        currency: "EUR".into(),
        applied_amount: 100,
        invoice_currency: "EUR".into(),
        conversion: None,
        invoice_status: billing::domain::InvoiceStatus::Open,
        created_at: platform::ids::now_rfc3339(),
    };
    let updated = |version: u64, paid: i64| billing::domain::Invoice {
        amount_paid: paid,
        amount_due: 1_000 - paid,
        version,
        ..invoice.clone()
    };
    let pk = PaymentKey {
        key: "k".into(),
        fingerprint: "fp".into(),
    };
    let first = payment(platform::ids::new_id());
    assert_eq!(
        store.record_payment(&updated(2, 100), 1, &first, &pk).await,
        Ok(Recorded::New)
    );
    // The same key again (e.g. after the idempotency record expired): no second payment.
    let second = store
        .record_payment(&updated(3, 200), 2, &payment(platform::ids::new_id()), &pk)
        .await;
    assert_eq!(
        second,
        Ok(Recorded::Duplicate {
            payment_id: first.id.clone(),
            fingerprint: "fp".into()
        })
    );
    // A stale invoice version loses without side effects.
    let other = PaymentKey {
        key: "k2".into(),
        fingerprint: "fp".into(),
    };
    assert_eq!(
        store
            .record_payment(
                &updated(2, 200),
                1,
                &payment(platform::ids::new_id()),
                &other
            )
            .await,
        Err(billing::store::StoreError::Conflict)
    );
    let stored = store
        .get_invoice("alice", &invoice.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|i| (i.amount_paid, i.version)), Some((100, 2)));
    assert_eq!(
        store.get_invoice("bob", &invoice.id).await,
        Ok(None),
        "owner-scoped keys"
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 1);
}
