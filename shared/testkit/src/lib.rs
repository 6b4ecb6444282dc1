//! Test support shared by the service crates' integration tests (use only as a dev-dependency).
//!
//! - [`moto`]: a moto server per test on a free loopback port (requests serialised so conditional
//!   writes are atomic like DynamoDB's), clients for it, unique table names.

// Test support: a broken environment should stop the test with a clear message.
#![allow(clippy::panic)]

pub mod moto;
pub mod tables;
