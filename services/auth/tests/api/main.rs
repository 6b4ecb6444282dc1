//! Router tests: every auth route and error over in-memory stores, through `oneshot` (one binary, a file per
//! feature): registration, login and its limits, sessions, store failures, discovery, the configured issuer and
//! key rotation.

mod discovery;
mod helpers;
mod issuer;
mod key_rotation;
mod login;
mod login_limits;
mod register;
mod session;
mod store_failures;
