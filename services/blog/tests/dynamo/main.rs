//! DynamoDB tests against a moto server (one server and one fresh table per test): the store, the router over
//! it, and configuration from Secrets Manager (one binary, a file per feature).

mod config;
mod helpers;
mod router;
mod store;
