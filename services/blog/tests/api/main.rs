//! Router tests: every route and error case over the in-memory store, through `oneshot` (one binary, a file per feature).

mod comments;
mod docs;
mod helpers;
mod operations;
mod pagination;
mod posts;
mod text_hygiene;
mod versions;
