//! One error type for the hook. Any of them fails the lifecycle event: CodeDeploy then stops the deployment
//! and keeps (or rolls back to) the previous version.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CheckError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("the deployment's AppSpec is not usable: {0}")]
    AppSpec(String),
    #[error("no probe is configured for function {0} (add it to PROBES)")]
    UnknownFunction(String),
    #[error("invoking {function}:{qualifier} failed: {detail}")]
    Invoke {
        function: String,
        qualifier: String,
        detail: String,
    },
    #[error("{function}:{version} {probe} failed: {detail}")]
    Probe {
        function: String,
        version: String,
        probe: String,
        detail: String,
    },
    #[error("logging in the probe account failed: {0}")]
    Login(String),
    #[error("AWS call {operation} failed: {detail}")]
    Aws {
        operation: &'static str,
        detail: String,
    },
}
