//! The OpenAPI document, assembled from the routes' annotations.

use utoipa::OpenApi;

use crate::routes::{auth, bom, credits, health, me, payments, portfolios, studio, uploads};

/// Facetra's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Facetra API",
        version = "1",
        description = "The HTTP contract of API.md."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::openapi,
        auth::dev_login,
        auth::logout,
        me::get_me,
        me::patch_me,
        credits::packs,
        credits::balance,
        credits::transactions,
        payments::create_order,
        payments::verify,
        payments::create_link,
        payments::link_status,
        payments::webhook,
        uploads::create,
        studio::create,
        studio::quote,
        studio::jobs,
        studio::job,
        studio::cancel,
        studio::renders,
        studio::render,
        studio::delete,
        studio::select,
        studio::unselect,
        studio::download,
        studio::file,
        portfolios::list,
        portfolios::create,
        portfolios::get,
        portfolios::rename,
        portfolios::delete,
        portfolios::set_renders,
        bom::get,
        bom::put,
        bom::generate,
        bom::history,
    ),
    components(schemas(
        bom::BomView,
        bom::BomEdit,
        portfolios::PortfolioView,
        portfolios::NameBody,
        portfolios::RendersBody,
        studio::RenderBody,
        studio::JobView,
        studio::VariantView,
        studio::RenderView,
        uploads::UploadView,
        payments::PackChoice,
        payments::OrderView,
        payments::VerifyBody,
        payments::PaymentLinkView,
        me::UserView,
        me::ConsentsView,
        me::PatchMe,
        auth::DevLoginBody,
        auth::SignedIn
    ))
)]
pub struct ApiDoc;
