//! Portfolios: named, ordered collections of the caller's renders.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::{List, ListQuery, NameBody, Portfolio, PortfolioRenders};

use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// The caller's portfolios.
#[utoipa::path(get, path = "/v1/portfolios", tag = "studio", params(ListQuery), responses((status = 200, body = List<Portfolio>), (status = 400)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<Portfolio>>, ApiError> {
    let page = state
        .facetra
        .studio()
        .portfolios(&p.actor(), &q.page()?)
        .await?;
    Ok(Json(List::from_page(page)))
}

/// Creates an empty portfolio.
#[utoipa::path(post, path = "/v1/portfolios", tag = "studio", request_body = NameBody, responses((status = 201, body = Portfolio), (status = 400)))]
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
    Ok((StatusCode::CREATED, Json(Portfolio::from(created))).into_response())
}

/// One portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Portfolio), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Portfolio>, ApiError> {
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
#[utoipa::path(patch, path = "/v1/portfolios/{id}", tag = "studio", params(("id" = String, Path)), request_body = NameBody, responses((status = 200, body = Portfolio), (status = 404)))]
pub async fn rename(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<Json<Portfolio>, ApiError> {
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
#[utoipa::path(put, path = "/v1/portfolios/{id}/renders", tag = "studio", params(("id" = String, Path)), request_body = PortfolioRenders, responses((status = 200, body = Portfolio), (status = 404)))]
pub async fn set_renders(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PortfolioRenders>,
) -> Result<Json<Portfolio>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .set_portfolio_renders(&p.actor(), &id, &body.render_ids)
            .await?
            .into(),
    ))
}
