//! DynamoDB tests against a moto server (one server, fresh tables per test): the idempotency store,
//! the payment races and conversion through a real currency table (one binary, a file per feature).

mod conversion;
mod failures;
mod helpers;
mod idempotency;
mod payments;
