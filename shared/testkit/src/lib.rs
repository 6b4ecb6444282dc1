//! Test support shared by the service crates' integration tests (use only as a dev-dependency).
//!
//! - [`client`]: a builder-style [`TestClient`] over a service's router, with problem+json checks.
//! - [`concurrent`]: many copies of one task spawned at once, their outputs in order.
//! - [`fixtures`]: records several services' tests share (currency read-model records).
//! - [`moto`]: a moto server per test on a free loopback port (requests serialised so conditional
//!   writes are atomic like DynamoDB's), clients and SDK configuration for it, unique table names.
//! - [`openapi`]: checks every service's OpenAPI document must pass (bearer scheme, component schemas).
//! - [`process`]: a Lambda bootstrap binary run as a child process that never reaches AWS.
//! - [`tables`]: test tables as the template declares them (the currency read model seeded with records).

// Test support: a broken environment should stop the test with a clear message.
#![allow(clippy::panic)]

pub mod client;
pub mod concurrent;
pub mod fixtures;
pub mod moto;
pub mod openapi;
pub mod process;
pub mod tables;

pub use client::{Reply, TestClient};
pub use concurrent::concurrently;

/// `Deref<Target = TestClient>` for a service's test app, a struct holding its [`TestClient`] in `$field` beside
/// the test's handles on its stores, so that tests call `app.get(…)` as on the client:
/// `testkit::deref_to_client!(TestApp, client);`.
#[macro_export]
macro_rules! deref_to_client {
    ($app:ty, $field:ident) => {
        impl ::std::ops::Deref for $app {
            type Target = $crate::TestClient;

            fn deref(&self) -> &$crate::TestClient {
                &self.$field
            }
        }
    };
}
