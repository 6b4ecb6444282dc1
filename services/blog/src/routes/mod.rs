//! HTTP handlers by resource.

pub mod comments;
pub mod operation;
pub mod posts;
