//! JSON logs for CloudWatch: one object per line, correlated with the Lambda invocation.
//!
//! Every line carries `timestamp` (UTC, ms), `level`, `target`, `message`, `function`
//! (`AWS_LAMBDA_FUNCTION_NAME`), `request_id` and `trace_id` (the X-Ray root, `1-…-…`), `cold_start`, then the
//! fields of the enclosing spans (outermost first) and of the event itself.
//!
//! `lambda_runtime` opens a span per invocation carrying `requestId` and `xrayTraceId` (the full
//! `Root=…;Parent=…;Sampled=…` header); [`JsonLayer`] records span fields and copies them onto every line. An
//! inner span may carry its own `xrayTraceId` — the projector opens one per SQS message from the message's
//! `AWSTraceHeader`, so its lines carry the trace id of the HTTP request that enqueued the command.
//! [`current_trace_header`] gives handlers the header to propagate (see `currency::store::sqs`).
//!
//! Fields named like secrets ([`crate::redact::is_sensitive`]) print as `[REDACTED]`, whatever their value.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda advanced logging controls), then `LOG_LEVEL`,
//! then `RUST_LOG` directives, defaulting to `info`. The level filters events only: info-level spans stay
//! enabled at `warn`/`error`, so a warning still names its request.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::config::Env;
use crate::redact;

/// The span field lambda_runtime uses for the request id.
pub const REQUEST_ID_FIELD: &str = "requestId";
/// The span field lambda_runtime uses for the X-Ray trace header.
pub const TRACE_HEADER_FIELD: &str = "xrayTraceId";

/// The filter directives in force for this environment.
pub fn filter_directives(env: &Env) -> String {
    env.optional("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| env.optional("LOG_LEVEL"))
        .or_else(|| env.optional("RUST_LOG"))
        .map(|level| level.to_lowercase())
        .unwrap_or_else(|| "info".to_owned())
}

/// The X-Ray root (`1-5759e988-bd862e3fe1be46a994272793`) of a trace header, or the header itself when it
/// has no `Root=` part.
pub fn trace_root(header: &str) -> &str {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .unwrap_or(header)
}

/// Fields recorded on a span, kept in its extensions.
#[derive(Debug, Clone, Default)]
struct SpanFields(Map<String, Value>);

struct Visitor<'a>(&'a mut Map<String, Value>);

impl Visitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let value = if redact::is_sensitive(field.name()) {
            Value::String(redact::REDACTED.to_owned())
        } else {
            value
        };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// The request id of the first invocation this process saw: its lines are the cold start's.
static FIRST_REQUEST: OnceLock<String> = OnceLock::new();

/// True for the first invocation of this execution environment (and for lines logged before any).
pub fn is_cold(request_id: Option<&str>) -> bool {
    match request_id {
        Some(id) => FIRST_REQUEST.get_or_init(|| id.to_owned()) == id,
        None => FIRST_REQUEST.get().is_none(),
    }
}

fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Formats every event as one JSON line (see the module docs) and writes it with one `write_all`.
pub struct JsonLayer<W> {
    writer: W,
    function: Option<String>,
}

impl<W> JsonLayer<W> {
    pub fn new(writer: W, function: Option<String>) -> Self {
        Self { writer, function }
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut Visitor(&mut fields.0));
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut Visitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut context = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    context.extend(fields.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let request_id = match context.remove(REQUEST_ID_FIELD) {
            Some(Value::String(id)) => Some(id),
            _ => None,
        };
        let trace_id = match context.remove(TRACE_HEADER_FIELD) {
            Some(Value::String(header)) => Some(trace_root(&header).to_owned()),
            _ => None,
        };
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(now_iso()));
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        line.insert(
            "target".into(),
            Value::String(event.metadata().target().into()),
        );
        line.insert("function".into(), self.function.clone().into());
        line.insert("request_id".into(), request_id.clone().into());
        line.insert("trace_id".into(), trace_id.into());
        line.insert(
            "cold_start".into(),
            Value::Bool(is_cold(request_id.as_deref())),
        );
        line.extend(context);
        event.record(&mut Visitor(&mut line));
        if let Ok(mut text) = serde_json::to_vec(&line) {
            text.push(b'\n');
            let _ = self.writer.make_writer().write_all(&text);
        }
    }
}

/// Filters events by the configured directives; info-and-above spans always pass (they carry the
/// request and trace ids that warnings need).
struct EventFilter(EnvFilter);

impl<S> Filter<S> for EventFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        (meta.is_span() && *meta.level() <= tracing::Level::INFO)
            || Filter::<S>::enabled(&self.0, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() && *meta.level() <= tracing::Level::INFO {
            Interest::always()
        } else {
            Filter::<S>::callsite_enabled(&self.0, meta)
        }
    }

    // Span-scoped directives (`my_span[field=x]=debug`) need the inner filter to see spans come and go.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_new_span(&self.0, attrs, id, ctx);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        Filter::<S>::on_record(&self.0, id, values, ctx);
    }
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_enter(&self.0, id, ctx);
    }
    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_exit(&self.0, id, ctx);
    }
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        Filter::<S>::on_close(&self.0, id, ctx);
    }
}

fn subscriber<W>(
    directives: &str,
    function: Option<String>,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    Registry::default().with(JsonLayer::new(writer, function).with_filter(EventFilter(filter)))
}

/// Installs the global JSON subscriber. Call once, first thing in `main`.
pub fn init() {
    let env = Env::from_process();
    let directives = filter_directives(&env);
    let function = env.optional("AWS_LAMBDA_FUNCTION_NAME");
    // A second call (tests, fat binaries composing libraries) keeps the first subscriber.
    let _ =
        tracing::subscriber::set_global_default(subscriber(&directives, function, std::io::stdout));
}

/// The X-Ray trace header (`Root=…;Parent=…;Sampled=…`) of the innermost enclosing span that has one —
/// the current invocation's, as lambda_runtime received it. `None` outside an invocation or without
/// [`init`]'s subscriber.
pub fn current_trace_header() -> Option<String> {
    current_field(TRACE_HEADER_FIELD)
}

/// The current invocation's request id, if any.
pub fn current_request_id() -> Option<String> {
    current_field(REQUEST_ID_FIELD)
}

fn current_field(name: &str) -> Option<String> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(id)?;
            span.scope().find_map(|span| {
                match span.extensions().get::<SpanFields>()?.0.get(name)? {
                    Value::String(value) => Some(value.clone()),
                    _ => None,
                }
            })
        })
        .flatten()
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory log sink and subscriber for tests in this crate.
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        pub fn lines(&self) -> Vec<Value> {
            let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.to_owned())))
                .collect()
        }
    }

    pub fn capture<T>(directives: &str, f: impl FnOnce() -> T) -> (T, Vec<Value>) {
        let buffer = Buffer::default();
        let out = tracing::subscriber::with_default(
            subscriber(directives, Some("fn-name".into()), buffer.clone()),
            f,
        );
        (out, buffer.lines())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::capture;
    use super::*;

    #[test]
    fn every_line_in_an_invocation_carries_request_and_trace_ids() {
        let (_, lines) = capture("info", || {
            // The same span lambda_runtime opens around each invocation.
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-1",
                xrayTraceId = "Root=1-abc-def;Parent=11;Sampled=1"
            );
            let _guard = span.enter();
            tracing::info!(route = "/health", "handled");
            tracing::warn!("second line");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            assert_eq!(line["request_id"], "req-1");
            assert_eq!(line["trace_id"], "1-abc-def");
            assert_eq!(line["function"], "fn-name");
            assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
            assert!(line["level"].is_string());
            assert!(line["cold_start"].is_boolean());
        }
        assert_eq!(lines[0]["route"], "/health");
        assert_eq!(lines[0]["message"], "handled");
        assert_eq!(lines[1]["level"], "WARN");
    }

    #[test]
    fn an_inner_span_trace_header_wins_and_is_readable_by_handlers() {
        let (seen, lines) = capture("info", || {
            let outer =
                tracing::info_span!("invoke", requestId = "r", xrayTraceId = "Root=1-outer");
            let _o = outer.enter();
            let outer_seen = current_trace_header();
            let inner = tracing::info_span!("sqs_message", xrayTraceId = "Root=1-inner;Sampled=1");
            let _i = inner.enter();
            tracing::info!(message_id = "m", "applied");
            (outer_seen, current_trace_header(), current_request_id())
        });
        assert_eq!(seen.0.as_deref(), Some("Root=1-outer"));
        assert_eq!(seen.1.as_deref(), Some("Root=1-inner;Sampled=1"));
        assert_eq!(seen.2.as_deref(), Some("r"));
        assert_eq!(lines[0]["trace_id"], "1-inner");
        assert_eq!(lines[0]["message_id"], "m");
    }

    #[test]
    fn sensitive_fields_are_redacted_and_the_level_filters_events_not_spans() {
        let (_, lines) = capture("warn", || {
            let span = tracing::info_span!("invoke", requestId = "r-warn");
            let _g = span.enter();
            tracing::info!("hidden");
            tracing::warn!(password = "hunter2", authorization = "Bearer x", "visible");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["request_id"], "r-warn");
        let text = lines[0].to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("Bearer x"),
            "{text}"
        );
        assert_eq!(lines[0]["password"], redact::REDACTED);
    }

    #[test]
    fn target_directives_filter_events() {
        let (_, lines) = capture("warn,currency=debug", || {
            tracing::debug!(target: "currency::projector", "kept");
            tracing::debug!(target: "aws_smithy_runtime", "dropped");
            tracing::info!(target: "other", "dropped too");
        });
        let messages: Vec<_> = lines.iter().map(|l| l["message"].clone()).collect();
        assert_eq!(messages, vec![serde_json::json!("kept")]);
    }

    #[test]
    fn level_prefers_lambda_advanced_logging_controls() {
        let env = Env::from_pairs([("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("LOG_LEVEL", "warn")]);
        assert_eq!(filter_directives(&env), "debug");
        assert_eq!(
            filter_directives(&Env::from_pairs([("LOG_LEVEL", "WARN")])),
            "warn"
        );
        assert_eq!(filter_directives(&Env::default()), "info");
    }

    #[test]
    fn trace_root_extracts_the_root() {
        assert_eq!(trace_root("Root=1-a-b;Parent=c;Sampled=1"), "1-a-b");
        assert_eq!(trace_root("1-a-b"), "1-a-b");
    }
}
