//! Router tests: every route and error case over the in-memory store, through `oneshot` (one binary, a file per feature).

mod comments;
mod docs;
mod helpers;
mod pagination;
mod posts;
mod versions;
