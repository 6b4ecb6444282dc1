//! The shared moto helper (moved to `shared/testkit`).

pub use testkit::moto::*;
