//! DynamoDB and SQS stores against a moto server (one server per test, fresh tables), plus the whole
//! write → SQS → projector → read path over the real store implementations (one binary, a file per feature).

mod helpers;
mod pipeline;
mod store;
