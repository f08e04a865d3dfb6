//! The routes, one file per resource. Each handler carries its OpenAPI annotation.

pub mod admin;
pub mod auth;
pub mod bom;
pub mod credits;
pub mod health;
pub mod me;
pub mod messages;
pub mod onboarding;
pub mod payments;
pub mod portfolios;
pub mod privacy;
pub mod studio;
pub mod tokens;
pub mod uploads;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::{ApiError, AppState};

/// Every route of the API; Google sign-in only when configured, dev login only when enabled.
pub fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route("/auth/logout", post(auth::logout))
        .route("/v1/me", get(me::get_me).patch(me::patch_me))
        .route(
            "/v1/me/consents",
            get(me::get_consents).put(me::put_consents),
        )
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/waitlist", post(onboarding::waitlist))
        .route("/v1/demo-bookings", post(onboarding::demo))
        .route("/admin/v1/users", get(admin::users))
        .route("/admin/v1/waitlist", get(admin::waitlist))
        .route("/admin/v1/waitlist/{id}/approve", post(admin::approve))
        .route("/admin/v1/demos", get(admin::demos))
        .route("/admin/v1/privacy/requests", get(privacy::queue))
        .route(
            "/v1/privacy/requests",
            get(privacy::list).post(privacy::create),
        )
        .route("/v1/privacy/export", get(privacy::export))
        .route(
            "/v1/privacy/nominee",
            get(privacy::nominee)
                .put(privacy::set_nominee)
                .delete(privacy::clear_nominee),
        )
        .route("/v1/messages", get(messages::list).post(messages::create))
        .route("/v1/messages/{id}", get(messages::get))
        .route("/v1/messages/{id}/replies", post(messages::reply))
        .route("/v1/events", post(messages::event))
        .route("/admin/v1/users/{id}/credits", post(admin::grant))
        .route(
            "/admin/v1/users/{id}/roles",
            axum::routing::put(admin::set_roles),
        )
        .route("/v1/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/v1/packs", get(credits::packs))
        .route("/v1/credits", get(credits::balance))
        .route("/v1/credits/transactions", get(credits::transactions))
        .route("/v1/orders", post(payments::create_order))
        .route("/v1/payments/verify", post(payments::verify))
        .route("/v1/payment-links", post(payments::create_link))
        .route("/v1/payment-links/{id}", get(payments::link_status))
        .route("/webhooks/razorpay", post(payments::webhook))
        .route("/v1/renders", post(studio::create).get(studio::renders))
        .route("/v1/renders/quote", post(studio::quote))
        .route(
            "/v1/renders/{id}",
            get(studio::render).delete(studio::delete),
        )
        .route(
            "/v1/renders/{id}/selection",
            post(studio::select).delete(studio::unselect),
        )
        .route("/v1/renders/{id}/download", get(studio::download))
        .route("/v1/renders/{id}/bom", get(bom::get).put(bom::put))
        .route("/v1/renders/{id}/bom/generate", post(bom::generate))
        .route("/v1/renders/{id}/bom/history", get(bom::history))
        .route("/files/{blob}", get(studio::file))
        .route(
            "/v1/portfolios",
            get(portfolios::list).post(portfolios::create),
        )
        .route(
            "/v1/portfolios/{id}",
            get(portfolios::get)
                .patch(portfolios::rename)
                .delete(portfolios::delete),
        )
        .route(
            "/v1/portfolios/{id}/renders",
            axum::routing::put(portfolios::set_renders),
        )
        .route("/v1/jobs", get(studio::jobs))
        .route("/v1/jobs/{id}", get(studio::job))
        .route("/v1/jobs/{id}/cancel", post(studio::cancel))
        .route(
            "/v1/uploads",
            post(uploads::create).layer(axum::extract::DefaultBodyLimit::max(
                usize::try_from(state.facetra.config().upload_max_bytes)
                    .unwrap_or(usize::MAX)
                    .saturating_add(64 * 1024),
            )),
        );
    if state.facetra.config().google.is_some() {
        router = router
            .route("/auth/google/id-token", post(auth::google_id_token))
            .route("/auth/google/start", get(auth::google_start))
            .route("/auth/google/callback", get(auth::google_callback));
    }
    if state.facetra.config().dev_login {
        router = router.route("/auth/dev-login", post(auth::dev_login));
    }
    router
}

/// The JSON 404 for unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /openapi.json",
    )
}
