//! Projector unit tests over in-memory stores: duplicates, reordering, partial failures, poison.

use crate::helpers::{failed_ids, harness, sqs_message};
use currency::domain::{CommandMessage, CommandRecord, Intent, Operation, Status};
use currency::projector::{Disposition, process};
use currency::store::CommandStore;
use money::Decimal;
use serde_json::json;
use testkit::fixtures::code;

/// A command stored as `accepted` (as the write function would) and its queue body.
async fn accepted(
    h: &crate::helpers::Harness,
    id: &str,
    currency: &str,
    rate: Option<&str>,
    sequence: u64,
) -> String {
    let c = code(currency);
    let intent = Intent {
        operation: if rate.is_some() {
            Operation::Replace
        } else {
            Operation::Delete
        },
        code: c,
        state: rate.map(|r| currency::domain::CurrencyState {
            name: c.iso_name().to_owned(),
            minor_units: c.minor_units(),
            rate_to_base: r.parse::<Decimal>().unwrap_or_else(|e| panic!("{e}")),
        }),
    };
    let message = CommandMessage::new(id.to_owned(), &intent, sequence).to_json();
    let record = CommandRecord {
        id: id.to_owned(),
        status: Status::Accepted,
        operation: intent.operation,
        code: c,
        sequence,
        fingerprint: intent.fingerprint(),
        message: message.clone(),
        requested_by: "admin-1".into(),
        reason: None,
        outcome: None,
        created_at: "2026-11-24T00:00:00Z".into(),
        updated_at: "2026-11-24T00:00:00Z".into(),
        expires_at: 0,
    };
    h.commands
        .insert(&record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    message
}

/// EUR at 1.1, USD at 1 and JPY at 0.0067, accepted at sequence 1 under `ids` (in that order): their queue bodies.
async fn three_accepted(h: &crate::helpers::Harness, ids: [&str; 3]) -> [String; 3] {
    let [eur, usd, jpy] = ids;
    [
        accepted(h, eur, "EUR", Some("1.1"), 1).await,
        accepted(h, usd, "USD", Some("1"), 1).await,
        accepted(h, jpy, "JPY", Some("0.0067"), 1).await,
    ]
}

async fn status(h: &crate::helpers::Harness, id: &str) -> (Status, Option<String>, Option<String>) {
    let record = h
        .commands
        .get(id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no {id}"));
    (
        record.status,
        record.outcome.map(|o| o.as_str().to_owned()),
        record.reason,
    )
}

fn rate_of(h: &crate::helpers::Harness, currency: &str) -> Option<String> {
    h.currencies
        .get(code(currency))
        .map(|r| r.rate_to_base.to_string())
}

#[tokio::test]
async fn a_batch_is_applied_and_every_command_marked_applied() {
    let h = harness();
    let [a, b, c] = three_accepted(&h, ["a", "b", "c"]).await;
    let response = h
        .project(vec![h.message(&a, 1), h.message(&b, 1), h.message(&c, 1)])
        .await;
    assert!(response.batch_item_failures.is_empty());
    for id in ["a", "b", "c"] {
        assert_eq!(
            status(&h, id).await,
            (Status::Applied, Some("written".into()), None)
        );
    }
    assert_eq!(rate_of(&h, "JPY").as_deref(), Some("0.0067"));
    assert_eq!(h.currencies.version(code("EUR")), Some(1));
}

#[tokio::test]
async fn duplicates_never_apply_twice() {
    let h = harness();
    let one = accepted(&h, "one", "EUR", Some("1.1"), 1).await;
    // The same message delivered twice in one batch and again in a later batch.
    let first = h
        .project(vec![h.message(&one, 1), h.message(&one, 1)])
        .await;
    assert!(first.batch_item_failures.is_empty());
    let second = h.project(vec![h.message(&one, 2)]).await;
    assert!(second.batch_item_failures.is_empty());
    assert_eq!(
        process(&h.projector, &h.message(&one, 3)).await,
        Disposition::Duplicate,
        "a redelivery is reported as a duplicate, not a second write"
    );
    let writes = h.currencies.write_counts();
    assert_eq!(
        writes.get(&(code("EUR"), 1)),
        Some(&1),
        "written exactly once"
    );
    assert_eq!(writes.len(), 1);
    let applied = h
        .commands
        .transitions()
        .iter()
        .filter(|(id, s)| id == "one" && *s == Status::Applied)
        .count();
    assert_eq!(applied, 1, "status moved to applied exactly once");
    assert_eq!(status(&h, "one").await.1.as_deref(), Some("written"));
}

#[tokio::test]
async fn out_of_order_delivery_ends_in_the_highest_sequence() {
    // Every order of three updates and a delete-then-recreate ends in the same state.
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let h = harness();
        let bodies = [
            accepted(&h, "s1", "GBP", Some("1.20"), 1).await,
            accepted(&h, "s2", "GBP", Some("1.25"), 2).await,
            accepted(&h, "s3", "GBP", Some("1.30"), 3).await,
        ];
        for index in order {
            // One message per batch: the strictest reordering.
            let response = h.project(vec![h.message(&bodies[index], 1)]).await;
            assert!(response.batch_item_failures.is_empty());
        }
        assert_eq!(
            rate_of(&h, "GBP").as_deref(),
            Some("1.3"),
            "order {order:?}"
        );
        assert_eq!(h.currencies.version(code("GBP")), Some(3));
        for id in ["s1", "s2", "s3"] {
            assert_eq!(status(&h, id).await.0, Status::Applied, "{id} in {order:?}");
        }
        // The latest command is always "written"; none was written twice.
        assert_eq!(status(&h, "s3").await.1.as_deref(), Some("written"));
        assert!(h.currencies.write_counts().values().all(|n| *n == 1));
    }
}

#[tokio::test]
async fn in_one_batch_only_the_newest_command_of_a_currency_touches_the_read_model() {
    let h = harness();
    let old = accepted(&h, "b1", "DKK", Some("0.131"), 10).await;
    let mid = accepted(&h, "b2", "DKK", Some("0.132"), 20).await;
    let new = accepted(&h, "b3", "DKK", Some("0.133"), 30).await;
    let other = accepted(&h, "b4", "SEK", Some("0.091"), 15).await;
    // Oldest first, the newest twice, another currency in between.
    let response = h
        .project(vec![
            h.message(&old, 1),
            h.message(&mid, 1),
            h.message(&other, 1),
            h.message(&new, 1),
            h.message(&new, 1),
        ])
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(rate_of(&h, "DKK").as_deref(), Some("0.133"));
    let writes = h.currencies.write_counts();
    assert_eq!(writes.get(&(code("DKK"), 30)), Some(&1));
    assert_eq!(
        writes.get(&(code("DKK"), 10)),
        None,
        "never written, then overwritten"
    );
    assert_eq!(writes.get(&(code("DKK"), 20)), None);
    assert_eq!(writes.get(&(code("SEK"), 15)), Some(&1));
    for (id, outcome) in [
        ("b1", "superseded"),
        ("b2", "superseded"),
        ("b3", "written"),
        ("b4", "written"),
    ] {
        assert_eq!(
            status(&h, id).await,
            (Status::Applied, Some(outcome.into()), None),
            "{id}"
        );
    }
    assert_eq!(
        h.transitions_to(Status::Applied),
        4,
        "each command marked once"
    );
}

#[tokio::test]
async fn when_the_newest_of_a_batch_fails_the_older_ones_are_tried_and_it_comes_back() {
    let h = harness();
    let old = accepted(&h, "f1", "HUF", Some("0.0025"), 10).await;
    let new = accepted(&h, "f2", "HUF", Some("0.0026"), 20).await;
    h.currencies.fail_apply(code("HUF"), 1);
    let response = h
        .project(vec![
            sqs_message("m-old", &old, 1),
            sqs_message("m-new", &new, 1),
        ])
        .await;
    assert_eq!(failed_ids(&response), ["m-new"]);
    assert_eq!(
        rate_of(&h, "HUF").as_deref(),
        Some("0.0025"),
        "the older one applied"
    );
    assert_eq!(status(&h, "f1").await.1.as_deref(), Some("written"));
    let retry = h.project(vec![sqs_message("m-new", &new, 2)]).await;
    assert!(retry.batch_item_failures.is_empty());
    assert_eq!(rate_of(&h, "HUF").as_deref(), Some("0.0026"));
}

#[tokio::test]
async fn two_commands_with_the_same_key_the_first_projected_stays() {
    // Two environments accepted commands for NOK in the same microsecond: equal keys.
    for (first, second) in [("t1", "t2"), ("t2", "t1")] {
        let h = harness();
        let one = accepted(&h, "t1", "NOK", Some("0.091"), 5).await;
        let two = accepted(&h, "t2", "NOK", Some("0.092"), 5).await;
        let body = |id: &str| if id == "t1" { one.clone() } else { two.clone() };
        assert_eq!(
            process(&h.projector, &h.message(&body(first), 1)).await,
            Disposition::Written
        );
        assert_eq!(
            process(&h.projector, &h.message(&body(second), 1)).await,
            Disposition::Superseded,
            "a tie is not a duplicate"
        );
        // Redeliveries of either change nothing: the version never changes state once written.
        assert_eq!(
            process(&h.projector, &h.message(&body(first), 2)).await,
            Disposition::Duplicate
        );
        assert_eq!(
            process(&h.projector, &h.message(&body(second), 2)).await,
            Disposition::Superseded
        );
        let expected = if first == "t1" { "0.091" } else { "0.092" };
        assert_eq!(rate_of(&h, "NOK").as_deref(), Some(expected));
        assert_eq!(status(&h, first).await.1.as_deref(), Some("written"));
        assert_eq!(status(&h, second).await.1.as_deref(), Some("superseded"));
        assert_eq!(h.currencies.write_counts().get(&(code("NOK"), 5)), Some(&1));
    }
}

#[tokio::test]
async fn a_late_create_never_resurrects_a_deleted_currency() {
    let h = harness();
    let create = accepted(&h, "create", "CHF", Some("1.1"), 1).await;
    let delete = accepted(&h, "delete", "CHF", None, 2).await;
    h.project(vec![h.message(&delete, 1)]).await;
    h.project(vec![h.message(&create, 1)]).await;
    assert_eq!(h.currencies.get(code("CHF")), None, "still deleted");
    assert_eq!(
        h.currencies.version(code("CHF")),
        Some(2),
        "tombstone keeps the version"
    );
    assert_eq!(status(&h, "create").await.1.as_deref(), Some("superseded"));
    assert_eq!(status(&h, "delete").await.1.as_deref(), Some("written"));
    // A newer create does bring it back.
    let again = accepted(&h, "again", "CHF", Some("1.2"), 3).await;
    h.project(vec![h.message(&again, 1)]).await;
    assert_eq!(rate_of(&h, "CHF").as_deref(), Some("1.2"));
}

#[tokio::test]
async fn a_failure_mid_batch_reports_only_the_failed_message() {
    let h = harness();
    let [ok1, bad, ok2] = three_accepted(&h, ["ok1", "bad", "ok2"]).await;
    h.currencies.fail_apply(code("USD"), 1);
    let messages = vec![
        sqs_message("m-ok1", &ok1, 1),
        sqs_message("m-bad", &bad, 1),
        sqs_message("m-ok2", &ok2, 1),
    ];
    let response = h.project(messages).await;
    assert_eq!(failed_ids(&response), ["m-bad"]);
    assert_eq!(
        status(&h, "bad").await.0,
        Status::Accepted,
        "not the last receive: still accepted"
    );
    assert_eq!(status(&h, "ok1").await.0, Status::Applied);
    // Lambda retries only the failed message: it succeeds; the others are not touched again.
    let retry = h.project(vec![sqs_message("m-bad", &bad, 2)]).await;
    assert!(retry.batch_item_failures.is_empty());
    assert_eq!(status(&h, "bad").await.0, Status::Applied);
    assert!(h.currencies.write_counts().values().all(|n| *n == 1));
}

#[tokio::test]
async fn unparseable_poison_fails_on_every_receive() {
    let h = harness();
    for receive in 1..=3 {
        let response = h
            .project(vec![
                sqs_message("m-poison", "{definitely not json", receive),
                h.message("", receive),
            ])
            .await;
        assert_eq!(
            failed_ids(&response).len(),
            2,
            "receive {receive}: both failed"
        );
        assert!(failed_ids(&response).contains(&"m-poison".to_owned()));
    }
    assert!(h.currencies.write_counts().is_empty());
}

#[tokio::test]
async fn invalid_poison_rejects_its_command_and_keeps_failing_for_the_dlq() {
    let h = harness();
    let _ = accepted(&h, "p1", "EUR", Some("1.1"), 1).await;
    let cases = [
        json!({"command_id": "p1", "operation": "create", "code": "EUR", "sequence": 1}),
        json!({"command_id": "p1", "operation": "explode", "code": "EUR", "sequence": 1}),
        json!({"command_id": "p1", "operation": "delete", "code": "XXX", "sequence": 1}),
        json!({"command_id": "p1", "operation": "delete", "code": "EUR", "sequence": 0}),
        json!({"command_id": "p1", "operation": "create", "code": "EUR", "sequence": 1,
               "name": "Euro", "minor_units": 2, "rate_to_base": "-1"}),
        json!({"command_id": "p1", "operation": "delete", "code": "EUR", "sequence": 1, "surprise": true}),
    ];
    for body in cases {
        let message = h.message(&body.to_string(), 1);
        assert_eq!(
            process(&h.projector, &message).await,
            Disposition::Poison,
            "{body}"
        );
    }
    let (state, _, reason) = status(&h, "p1").await;
    assert_eq!(state, Status::Rejected);
    assert!(reason.unwrap_or_default().starts_with("poison message"));
    assert_eq!(h.currencies.get(code("EUR")), None);
    assert_eq!(
        h.transitions_to(Status::Rejected),
        1,
        "rejected once, later receives change nothing"
    );
}

#[tokio::test]
async fn transient_failures_reject_the_command_only_on_the_last_receive() {
    let h = harness(); // max_receive_count = 3
    let body = accepted(&h, "t1", "SEK", Some("0.095"), 1).await;
    h.currencies.fail_apply(code("SEK"), 10);
    for receive in 1..=2 {
        assert_eq!(
            process(&h.projector, &h.message(&body, receive)).await,
            Disposition::ApplyFailed
        );
        assert_eq!(
            status(&h, "t1").await.0,
            Status::Accepted,
            "receive {receive}"
        );
    }
    assert_eq!(
        process(&h.projector, &h.message(&body, 3)).await,
        Disposition::ApplyFailed
    );
    let (state, _, reason) = status(&h, "t1").await;
    assert_eq!(state, Status::Rejected);
    assert!(reason.unwrap_or_default().contains("after 3 attempts"));

    // ApproximateReceiveCount is approximate: if the message does come back and succeeds, the
    // status follows the read model.
    h.currencies.fail_apply(code("SEK"), 0);
    assert_eq!(
        process(&h.projector, &h.message(&body, 4)).await,
        Disposition::Written
    );
    assert_eq!(status(&h, "t1").await.0, Status::Applied);
}

#[tokio::test]
async fn messages_without_a_stored_command_still_project() {
    // E.g. the status expired by TTL before a very late redelivery: the read model is still right.
    let h = harness();
    let intent = Intent {
        operation: Operation::Replace,
        code: code("NOK"),
        state: Some(currency::domain::CurrencyState {
            name: "Norwegian Krone".into(),
            minor_units: 2,
            rate_to_base: "0.09".parse::<Decimal>().unwrap_or_default(),
        }),
    };
    let body = CommandMessage::new("gone".into(), &intent, 1).to_json();
    assert_eq!(
        process(&h.projector, &h.message(&body, 1)).await,
        Disposition::Written
    );
    assert_eq!(rate_of(&h, "NOK").as_deref(), Some("0.09"));
}

#[tokio::test]
async fn the_batch_response_serialises_as_lambda_expects() {
    let h = harness();
    let response = h.project(vec![sqs_message("m-1", "nope", 1)]).await;
    let json = serde_json::to_value(&response).unwrap_or_default();
    assert_eq!(
        json,
        json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
    );
    let empty = h.project(vec![]).await;
    assert_eq!(
        serde_json::to_value(&empty).unwrap_or_default(),
        json!({"batchItemFailures": []})
    );
}

#[tokio::test]
async fn the_lambda_handler_accepts_a_real_sqs_event() {
    let h = harness();
    let body = accepted(&h, "evt", "EUR", Some("1.1"), 1).await;
    let event = json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
        "messageAttributes": {},
        "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:commands",
        "awsRegion": "us-east-1"
    }]});
    let event: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_value(event).unwrap_or_else(|e| panic!("{e}"));
    let context = lambda_runtime::Context::default();
    let response = currency::projector::handler(
        &h.projector,
        lambda_runtime::LambdaEvent::new(event, context),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(status(&h, "evt").await.0, Status::Applied);
}
