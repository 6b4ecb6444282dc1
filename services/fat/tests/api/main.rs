//! The fat app: routing every request to the module that owns it and serving the docs, and the merged OpenAPI
//! document (one binary, a file per feature).

mod helpers;
mod openapi;
mod routing;
