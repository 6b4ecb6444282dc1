//! HTTP handlers by resource.

pub mod invoices;
pub mod payments;
