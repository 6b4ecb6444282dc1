//! Test harness: read and write routers and the projector over shared in-memory stores.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use axum::Router;
use axum::body::Body;
use currency::store::{MemoryCommandStore, MemoryCurrencies, MemoryQueue};
use currency::{ProjectorState, ReadState, WriteState};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use serde_json::Value;
use tower::ServiceExt;

pub struct Harness {
    pub read: Router,
    pub write: Router,
    pub projector: ProjectorState,
    pub issuer: TestIssuer,
    pub currencies: Arc<MemoryCurrencies>,
    pub commands: Arc<MemoryCommandStore>,
    pub queue: Arc<MemoryQueue>,
    next_message: std::sync::atomic::AtomicU64,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The `field`s named in a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn harness() -> Harness {
    harness_with_ttl(Duration::from_secs(5))
}

pub fn harness_with_ttl(ttl: Duration) -> Harness {
    let issuer = TestIssuer::new();
    let currencies = Arc::new(MemoryCurrencies::new());
    let commands = Arc::new(MemoryCommandStore::new());
    let queue = Arc::new(MemoryQueue::new());
    let read = currency::read_app(ReadState::new(currencies.clone(), ttl));
    let write = currency::write_app(WriteState {
        commands: commands.clone(),
        queue: queue.clone(),
        verifier: issuer.verifier(),
        retention_seconds: 3600,
    });
    let projector = ProjectorState {
        currencies: currencies.clone(),
        commands: commands.clone(),
        max_receive_count: 3,
    };
    Harness {
        read,
        write,
        projector,
        issuer,
        currencies,
        commands,
        queue,
        next_message: std::sync::atomic::AtomicU64::new(1),
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl Harness {
    pub fn admin(&self) -> String {
        self.issuer.token("admin-1", &["admin"])
    }

    pub fn user(&self) -> String {
        self.issuer.token("user-1", &[])
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(&self.read, request.body(Body::empty()).unwrap_or_default()).await
    }

    /// A write-side request with a bearer token and optional JSON body and extra headers.
    pub async fn write(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        send(&self.write, request.body(body).unwrap_or_default()).await
    }

    pub async fn admin_post(&self, body: &Value) -> Reply {
        self.write("POST", "/currencies", Some(&self.admin()), Some(body), &[])
            .await
    }

    pub async fn command(&self, id: &str) -> Reply {
        self.write(
            "GET",
            &format!("/commands/{id}"),
            Some(&self.admin()),
            None,
            &[],
        )
        .await
    }

    /// An SQS record with a fresh message id.
    pub fn message(&self, body: &str, receive_count: u32) -> SqsMessage {
        let n = self
            .next_message
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sqs_message(&format!("msg-{n}"), body, receive_count)
    }

    /// Runs the projector over `messages`.
    pub async fn project(&self, messages: Vec<SqsMessage>) -> SqsBatchResponse {
        let mut event = SqsEvent::default();
        event.records = messages;
        currency::projector::handle_batch(&self.projector, event).await
    }

    /// Projects everything queued so far (first receive each).
    pub async fn project_queue(&self) -> SqsBatchResponse {
        let messages = self
            .queue
            .drain()
            .iter()
            .map(|body| self.message(body, 1))
            .collect();
        self.project(messages).await
    }
}

pub fn sqs_message(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_owned());
    message.receipt_handle = Some(format!("rh-{id}"));
    message.body = Some(body.to_owned());
    message.attributes.insert(
        "ApproximateReceiveCount".to_owned(),
        receive_count.to_string(),
    );
    message.event_source = Some("aws:sqs".to_owned());
    message
}

pub fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}
