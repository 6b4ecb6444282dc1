//! Router tests: every route and error case over the in-memory stores, through `oneshot` (one binary, a file
//! per feature).

mod access;
mod docs;
mod helpers;
mod idempotency;
mod invoices;
mod pagination;
mod payments;
mod retries;
mod text_hygiene;
