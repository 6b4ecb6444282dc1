//! Routes by resource: accounts (register/login/logout/me) and the well-known documents.

pub mod accounts;
pub mod well_known;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Every auth route, with its OpenAPI operation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .routes(routes!(well_known::jwks))
        .routes(routes!(well_known::openid_configuration))
}
