//! A Lambda bootstrap binary run as a child process that never reaches AWS.

use std::process::{Command, Stdio};

/// `binary` with an empty environment but for a region, no instance metadata lookups and every AWS endpoint on
/// a closed loopback port; its output piped. Add the variables under test, then spawn it.
pub fn offline_lambda(binary: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
