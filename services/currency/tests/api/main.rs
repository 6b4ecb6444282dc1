//! Router and projector tests over in-memory stores: every read and write route and error through `oneshot`,
//! the projector over SQS batches, and configuration (one binary, a file per feature).

mod commands;
mod config;
mod docs;
mod helpers;
mod lifecycle;
mod projector;
mod reads;
mod validation;
mod write_access;
