//! JSON logs for CloudWatch: one object per line, with the Lambda request id and X-Ray trace id.
//!
//! `lambda_runtime` opens a span per invocation carrying `requestId` and `xrayTraceId`; the formatter
//! copies the current span's fields onto every event, so each line is attributable to one request.
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda advanced logging controls), then `LOG_LEVEL`,
//! then `RUST_LOG` directives, defaulting to `info`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::Env;

/// The filter directives in force for this environment.
pub fn filter_directives(env: &Env) -> String {
    env.optional("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| env.optional("LOG_LEVEL"))
        .or_else(|| env.optional("RUST_LOG"))
        .map(|level| level.to_lowercase())
        .unwrap_or_else(|| "info".to_owned())
}

fn subscriber<W>(directives: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs the global JSON subscriber. Call once, first thing in `main`.
pub fn init() {
    let directives = filter_directives(&Env::from_process());
    // A second call (tests, fat binaries composing libraries) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(&directives, std::io::stdout));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

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

    #[test]
    fn every_line_in_an_invocation_carries_request_and_trace_ids() {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber("info", buffer.clone()), || {
            // The same span lambda_runtime opens around each invocation.
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-1",
                xrayTraceId = "Root=1-abc"
            );
            let _guard = span.enter();
            tracing::info!(route = "/health", "handled");
            tracing::warn!("second line");
        });
        let text = String::from_utf8(buffer.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for line in &lines {
            assert_eq!(line["span"]["requestId"], "req-1");
            assert_eq!(line["span"]["xrayTraceId"], "Root=1-abc");
            assert!(line["timestamp"].is_string());
            assert!(line["level"].is_string());
        }
        assert_eq!(lines[0]["route"], "/health");
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
}
