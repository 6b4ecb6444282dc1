//! Metrics in CloudWatch Embedded Metric Format (EMF): one JSON object per stdout line, which CloudWatch
//! Logs turns into metrics with no API call and no extra latency.
//!
//! ```json
//! {"_aws":{"Timestamp":1732406400000,"CloudWatchMetrics":[{"Namespace":"lambda-rust-reference/dev",
//!   "Dimensions":[["FunctionName","Route"],["FunctionName"]],
//!   "Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"}]}]},
//!  "FunctionName":"fn","Route":"GET /currencies","Requests":1,"Latency":3.2,"status":200,"request_id":"…"}
//! ```
//!
//! The namespace is `METRICS_NAMESPACE` (set per stage in the template's Globals). What we publish:
//! - per request ([`request`], from [`crate::http_log`]): `Requests`, `Errors` (5xx), `ClientErrors` (4xx),
//!   `Latency` (ms), by `FunctionName` + `Route` (`METHOD /matched/path`) and by `FunctionName`;
//! - `ColdStart` once per execution environment ([`cold_start`]), by `FunctionName`;
//! - business events ([`count`]): `Registrations`, `Logins`, `Payments`, `CommandsApplied`,
//!   `CommandsRejected`, `PoisonMessages` (DLQ-bound), with no dimension (one series per stage, whichever
//!   topology — lith, fat, micro — served them).
//!
//! Non-metric members (`request_id`, `trace_id`, `status`) are searchable in CloudWatch Logs Insights.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

use crate::config::Env;

/// Namespace when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "lambda-rust-reference";

/// EMF limits (CloudWatch): dimensions per set, metrics per directive.
pub const MAX_DIMENSIONS: usize = 30;
pub const MAX_METRICS: usize = 100;

/// CloudWatch units we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub unit: Unit,
    pub value: f64,
}

impl<'a> Metric<'a> {
    pub fn count(name: &'a str, value: f64) -> Self {
        Self {
            name,
            unit: Unit::Count,
            value,
        }
    }
    pub fn millis(name: &'a str, value: f64) -> Self {
        Self {
            name,
            unit: Unit::Milliseconds,
            value,
        }
    }
}

/// An EMF document. `dimension_sets` name keys of `dimensions`; `properties` are extra, non-metric
/// members. Metric and dimension names win over properties of the same name. Sets longer than
/// [`MAX_DIMENSIONS`] and metrics past [`MAX_METRICS`] are dropped (CloudWatch would reject the line).
pub fn document(
    namespace: &str,
    timestamp_ms: u64,
    dimension_sets: &[&[&str]],
    dimensions: &[(&str, &str)],
    metrics: &[Metric<'_>],
    properties: &[(&str, Value)],
) -> Value {
    let mut root = Map::new();
    for (key, value) in properties {
        root.insert((*key).to_owned(), value.clone());
    }
    for (key, value) in dimensions {
        root.insert((*key).to_owned(), Value::String((*value).to_owned()));
    }
    let sets: Vec<Value> = dimension_sets
        .iter()
        .filter(|set| set.len() <= MAX_DIMENSIONS)
        .filter(|set| set.iter().all(|k| dimensions.iter().any(|(d, _)| d == k)))
        .map(|set| json!(set))
        .collect();
    let mut definitions = Vec::new();
    for metric in metrics
        .iter()
        .filter(|m| m.value.is_finite())
        .take(MAX_METRICS)
    {
        definitions.push(json!({"Name": metric.name, "Unit": metric.unit.as_str()}));
        root.insert(metric.name.to_owned(), json!(metric.value));
    }
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": sets,
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(root)
}

struct Settings {
    namespace: String,
    function: String,
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let env = Env::from_process();
        Settings {
            namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            function: env
                .optional("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "local".to_owned()),
        }
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Correlation members for every document: the current request and trace ids.
fn correlation() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(id) = crate::telemetry::current_request_id() {
        out.push(("request_id", Value::String(id)));
    }
    if let Some(header) = crate::telemetry::current_trace_header() {
        out.push((
            "trace_id",
            Value::String(crate::telemetry::trace_root(&header).to_owned()),
        ));
    }
    out
}

/// Prints one document as one stdout line (a single `write_all`, so lines never interleave).
pub fn emit(document: &Value) {
    if let Ok(mut line) = serde_json::to_vec(document) {
        line.push(b'\n');
        let _ = std::io::stdout().lock().write_all(&line);
    }
}

/// Per-request metrics (see the module docs). `route` is `METHOD /matched/path`.
pub fn request(route: &str, status: u16, latency_ms: f64) {
    let s = settings();
    let mut properties = correlation();
    properties.push(("status", json!(status)));
    emit(&document(
        &s.namespace,
        now_ms(),
        &[&["FunctionName", "Route"], &["FunctionName"]],
        &[("FunctionName", &s.function), ("Route", route)],
        &[
            Metric::count("Requests", 1.0),
            Metric::count("Errors", f64::from(u8::from(status >= 500))),
            Metric::count(
                "ClientErrors",
                f64::from(u8::from((400..500).contains(&status))),
            ),
            Metric::millis("Latency", latency_ms),
        ],
        &properties,
    ));
}

/// `ColdStart` = 1, the first time it is called in this process (true once per execution environment).
pub fn cold_start() {
    static SEEN: AtomicBool = AtomicBool::new(false);
    if SEEN.swap(true, Ordering::Relaxed) {
        return;
    }
    let s = settings();
    emit(&document(
        &s.namespace,
        now_ms(),
        &[&["FunctionName"]],
        &[("FunctionName", &s.function)],
        &[Metric::count("ColdStart", 1.0)],
        &correlation(),
    ));
}

/// A business event (`Registrations`, `Payments`, …) counted `value` times, with no dimension.
pub fn count(name: &str, value: f64) {
    let s = settings();
    emit(&document(
        &s.namespace,
        now_ms(),
        &[&[]],
        &[],
        &[Metric::count(name, value)],
        &correlation(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serializer_writes_the_emf_shape() {
        let doc = document(
            "ns/dev",
            1_732_406_400_000,
            &[&["FunctionName", "Route"], &["FunctionName"]],
            &[("FunctionName", "fn"), ("Route", "GET /currencies")],
            &[
                Metric::count("Requests", 1.0),
                Metric::millis("Latency", 2.5),
            ],
            &[("request_id", json!("r-1")), ("Requests", json!("ignored"))],
        );
        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_732_406_400_000_u64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "ns/dev");
        assert_eq!(
            directive["Dimensions"],
            json!([["FunctionName", "Route"], ["FunctionName"]])
        );
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Requests", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}])
        );
        // Every dimension and metric is a top-level member; metrics win over same-named properties.
        assert_eq!(doc["FunctionName"], "fn");
        assert_eq!(doc["Route"], "GET /currencies");
        assert_eq!(doc["Requests"], 1.0);
        assert_eq!(doc["Latency"], 2.5);
        assert_eq!(doc["request_id"], "r-1");
        // One line.
        assert!(
            !serde_json::to_string(&doc)
                .unwrap_or_default()
                .contains('\n')
        );
    }

    #[test]
    fn sets_naming_missing_dimensions_and_non_finite_values_are_dropped() {
        let doc = document(
            "ns",
            1,
            &[&["Missing"], &[]],
            &[],
            &[Metric::count("Bad", f64::NAN), Metric::count("Good", 2.0)],
            &[],
        );
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([[]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Good", "Unit": "Count"}])
        );
        assert!(doc.get("Bad").is_none());
    }

    #[test]
    fn at_most_one_hundred_metrics() {
        let names: Vec<String> = (0..120).map(|i| format!("m{i}")).collect();
        let metrics: Vec<Metric<'_>> = names.iter().map(|n| Metric::count(n, 1.0)).collect();
        let doc = document("ns", 1, &[&[]], &[], &metrics, &[]);
        let defined = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .map(Vec::len);
        assert_eq!(defined, Some(MAX_METRICS));
    }
}
