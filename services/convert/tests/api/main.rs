//! Router tests: every `/convert` case over the in-memory rate store, through `oneshot` (one binary, a file per
//! feature).

mod conversion;
mod errors;
mod helpers;
mod service;
mod single_flight;
