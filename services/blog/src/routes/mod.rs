//! HTTP handlers by resource.

pub mod comments;
pub mod posts;
