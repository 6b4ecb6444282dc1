//! HTTP handlers: [`read`] (public, cached) and [`write`] (admin, queued commands).

pub mod read;
pub mod write;
