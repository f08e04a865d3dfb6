//! Portfolios: named, ordered collections of the caller's renders.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_core::studio::portfolios::Portfolio;
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// `Portfolio` of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioView {
    pub id: String,
    pub name: String,
    pub render_ids: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Portfolio> for PortfolioView {
    fn from(p: Portfolio) -> Self {
        PortfolioView {
            id: p.id.to_string(),
            name: p.name,
            render_ids: p.render_ids.iter().map(|r| r.to_string()).collect(),
            created_at: p.created_at,
        }
    }
}

/// `{"name"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NameBody {
    pub name: String,
}

/// `{"render_ids"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RendersBody {
    pub render_ids: Vec<String>,
}

/// The caller's portfolios.
#[utoipa::path(get, path = "/v1/portfolios", tag = "studio", responses((status = 200)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items: Vec<PortfolioView> = state
        .facetra
        .studio()
        .portfolios(&p.actor())
        .await?
        .into_iter()
        .map(PortfolioView::from)
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

/// Creates an empty portfolio.
#[utoipa::path(post, path = "/v1/portfolios", tag = "studio", request_body = NameBody, responses((status = 201, body = PortfolioView), (status = 400)))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<Response, ApiError> {
    let created = state
        .facetra
        .studio()
        .create_portfolio(&p.actor(), &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(PortfolioView::from(created))).into_response())
}

/// One portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = PortfolioView), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PortfolioView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .portfolio(&p.actor(), &id)
            .await?
            .into(),
    ))
}

/// Renames a portfolio.
#[utoipa::path(patch, path = "/v1/portfolios/{id}", tag = "studio", params(("id" = String, Path)), request_body = NameBody, responses((status = 200, body = PortfolioView), (status = 404)))]
pub async fn rename(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<Json<PortfolioView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .rename_portfolio(&p.actor(), &id, &body.name)
            .await?
            .into(),
    ))
}

/// Deletes a portfolio (its renders stay).
#[utoipa::path(delete, path = "/v1/portfolios/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .facetra
        .studio()
        .delete_portfolio(&p.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a portfolio's renders, in order; each must be the caller's.
#[utoipa::path(put, path = "/v1/portfolios/{id}/renders", tag = "studio", params(("id" = String, Path)), request_body = RendersBody, responses((status = 200, body = PortfolioView), (status = 404)))]
pub async fn set_renders(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RendersBody>,
) -> Result<Json<PortfolioView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .set_portfolio_renders(&p.actor(), &id, &body.render_ids)
            .await?
            .into(),
    ))
}
