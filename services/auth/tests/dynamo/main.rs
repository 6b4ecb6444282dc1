//! The DynamoDB store, revocation table and Secrets Manager key loading against a real moto server.
//!
//! Each test starts its own moto server (`testkit::moto`: the repository's `.venv`, a free loopback port, every
//! request serialised as DynamoDB applies a conditional write or a transaction atomically), creates uniquely
//! named tables, and kills the server when it ends. A missing `.venv/bin/moto_server` fails the test with
//! instructions (never a silent skip).

mod flow;
mod helpers;
mod login_attempts;
mod users;
