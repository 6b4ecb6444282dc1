//! A command end to end: accepted, then applied (readable) or rejected with a reason.

use std::time::Duration;

use currency::domain::Status;
use http::StatusCode;
use serde_json::json;

use crate::helpers::{eur, harness, harness_with_ttl};

#[tokio::test]
async fn command_goes_accepted_then_applied_and_becomes_readable() {
    let h = harness_with_ttl(Duration::ZERO);
    let reply = h.admin_post(&eur()).await;
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(h.command(&id).await.body["status"], "accepted");
    assert_eq!(
        h.read.get("/currencies/EUR").send().await.status,
        StatusCode::NOT_FOUND
    );

    let response = h.project_queue().await;
    assert!(response.batch_item_failures.is_empty());
    let status = h.command(&id).await;
    assert_eq!(status.body["status"], "applied");
    assert_eq!(status.body["outcome"], "written");
    let read = h.read.get("/currencies/EUR").send().await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["rate_to_base"], "1.0825");
    let sequence = &reply.body["sequence"];
    assert_eq!(&read.body["version"], sequence);
    assert_eq!(read.header_or_empty("etag"), format!("\"EUR-{sequence}\""));

    // Delete: the command applies and the currency disappears from reads.
    let delete = h.admin_delete("EUR", None).await;
    let delete_id = delete.body["id"].as_str().unwrap_or_default().to_owned();
    h.project_queue().await;
    assert_eq!(h.command(&delete_id).await.body["status"], "applied");
    assert_eq!(
        h.read.get("/currencies/EUR").send().await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.read.get("/currencies").send().await.body,
        json!({"items": []})
    );
    assert_eq!(h.transitions_to(Status::Applied), 2);
}

#[tokio::test]
async fn poison_command_shows_rejected_with_a_reason() {
    let h = harness();
    let reply = h.admin_post(&eur()).await;
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    h.queue.drain();
    // The queued body got corrupted (e.g. a bad producer): same command id, invalid state.
    let poison = json!({"command_id": id, "operation": "create", "code": "EUR", "sequence": 1,
                        "name": "Euro", "minor_units": 3, "rate_to_base": "1"});
    let message = h.message(&poison.to_string(), 1);
    let response = h.project(vec![message]).await;
    assert_eq!(
        response.batch_item_failures.len(),
        1,
        "poison stays failed → DLQ"
    );
    let status = h.command(&id).await;
    assert_eq!(status.body["status"], "rejected");
    assert!(
        status.body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("minor-unit"),
        "{}",
        status.body
    );
}
