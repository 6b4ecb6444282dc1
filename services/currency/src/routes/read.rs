//! `GET /currencies` and `GET /currencies/{code}`: served from the read model through a short
//! in-environment cache, with strong `ETag`s and `Cache-Control`.
//!
//! The cache holds one snapshot of every live currency (the read model is bounded by the ISO 4217
//! table, < 200 items, so one Scan per TTL per execution environment is the cheapest read). Refreshes
//! are single-flight: concurrent misses wait for one Scan instead of each starting their own.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use money::{CurrencyCode, CurrencyRecord};
use platform::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;
use utoipa::ToSchema;

use crate::domain::CurrencyView;
use crate::error::CurrencyError;
use crate::store::CurrencyReader;

/// Default in-environment cache TTL (`CURRENCY_CACHE_TTL_MS`). Short on purpose: it absorbs read
/// bursts (one Scan per 250 ms per environment, whatever the request rate) while a write stays
/// readable within well under a second of being projected.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_millis(250);
/// Longest TTL accepted from configuration.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(300);

/// Every live currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrencyList {
    /// Sorted by code.
    pub items: Vec<CurrencyView>,
}

#[derive(Debug)]
struct Snapshot {
    fetched: Instant,
    records: Vec<CurrencyRecord>,
    list_etag: String,
}

/// The per-environment read cache.
pub struct ReadCache {
    ttl: Duration,
    slot: RwLock<Option<Arc<Snapshot>>>,
    refresh: Mutex<()>,
}

impl ReadCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slot: RwLock::new(None),
            refresh: Mutex::new(()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    async fn fresh(&self) -> Option<Arc<Snapshot>> {
        let slot = self.slot.read().await;
        slot.as_ref()
            .filter(|s| s.fetched.elapsed() < self.ttl)
            .cloned()
    }

    async fn snapshot(&self, store: &dyn CurrencyReader) -> Result<Arc<Snapshot>, CurrencyError> {
        if let Some(snapshot) = self.fresh().await {
            return Ok(snapshot);
        }
        let _single_flight = self.refresh.lock().await;
        if let Some(snapshot) = self.fresh().await {
            return Ok(snapshot);
        }
        let mut records = store.list().await?;
        records.sort_by_key(|r| r.code);
        let snapshot = Arc::new(Snapshot {
            fetched: Instant::now(),
            list_etag: list_etag(&records),
            records,
        });
        *self.slot.write().await = Some(snapshot.clone());
        Ok(snapshot)
    }
}

/// State of the read router.
#[derive(Clone)]
pub struct ReadState {
    pub store: Arc<dyn CurrencyReader>,
    pub cache: Arc<ReadCache>,
}

impl ReadState {
    pub fn new(store: Arc<dyn CurrencyReader>, ttl: Duration) -> Self {
        Self {
            store,
            cache: Arc::new(ReadCache::new(ttl)),
        }
    }
}

/// Strong ETag of the list: a hash of every (code, version) pair (versions change with any update).
fn list_etag(records: &[CurrencyRecord]) -> String {
    let mut hash = Sha256::new();
    for record in records {
        hash.update(record.code.as_str());
        hash.update(record.version.to_be_bytes());
    }
    let digest = hash.finalize();
    format!("\"l-{}\"", hex::encode(&digest[..12]))
}

/// Strong ETag of one currency: `"<CODE>-<version>"`.
pub fn item_etag(record: &CurrencyRecord) -> String {
    format!("\"{}-{}\"", record.code, record.version)
}

/// Whether `If-None-Match` matches `etag` (weak comparison, RFC 9110 §13.1.2; `*` matches).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// `public, max-age=<whole seconds of the TTL>`; below one second, `no-cache` (clients revalidate with
/// `If-None-Match`, which is a cheap 304).
fn cache_control(ttl: Duration) -> HeaderValue {
    if ttl.as_secs() == 0 {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={}", ttl.as_secs()))
            .unwrap_or(HeaderValue::from_static("no-cache"))
    }
}

fn respond<T: Serialize>(state: &ReadState, headers: &HeaderMap, etag: &str, body: T) -> Response {
    let mut out = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(header::CACHE_CONTROL, cache_control(state.cache.ttl()));
    if not_modified(headers, etag) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    (StatusCode::OK, out, Json(body)).into_response()
}

/// List every currency of the read model.
#[utoipa::path(
    get, path = "/currencies", tag = "currency",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response")),
    responses(
        (status = 200, description = "Every live currency, sorted by code.", body = CurrencyList,
         headers(("ETag" = String, description = "Strong validator of the whole list"),
                 ("Cache-Control" = String, description = "`public, max-age=<cache TTL>`"))),
        (status = 304, description = "`If-None-Match` matched: unchanged.",
         headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 503, description = "Read model temporarily unavailable", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_currencies(
    State(state): State<crate::ReadState>,
    headers: HeaderMap,
) -> Result<Response, CurrencyError> {
    let snapshot = state.cache.snapshot(state.store.as_ref()).await?;
    let body = CurrencyList {
        items: snapshot.records.iter().map(CurrencyView::from).collect(),
    };
    Ok(respond(&state, &headers, &snapshot.list_etag, body))
}

/// One currency of the read model.
#[utoipa::path(
    get, path = "/currencies/{code}", tag = "currency",
    params(
        ("code" = String, Path, description = "ISO 4217 code (case-insensitive)", example = "EUR"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
    ),
    responses(
        (status = 200, description = "The currency.", body = CurrencyView,
         headers(("ETag" = String, description = "`\"<CODE>-<version>\"`"),
                 ("Cache-Control" = String, description = "`public, max-age=<cache TTL>`"))),
        (status = 304, description = "`If-None-Match` matched: unchanged.",
         headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "Not an active ISO 4217 code, or not in the read model", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Read model temporarily unavailable", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_currency(
    State(state): State<crate::ReadState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, CurrencyError> {
    let not_found = || CurrencyError::CurrencyNotFound(code.chars().take(16).collect());
    let code = CurrencyCode::parse(&code).map_err(|_| not_found())?;
    let snapshot = state.cache.snapshot(state.store.as_ref()).await?;
    let record = snapshot
        .records
        .binary_search_by_key(&code, |r| r.code)
        .ok()
        .and_then(|index| snapshot.records.get(index))
        .ok_or_else(not_found)?;
    Ok(respond(
        &state,
        &headers,
        &item_etag(record),
        CurrencyView::from(record),
    ))
}
