//! A render's bill of materials: latest version, edits with optimistic concurrency,
//! generation, history.

use axum::extract::{Path, State};
use axum::Json;
use facetra_api::{Bom, BomEdit, List, ListQuery};

use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// The latest BOM.
#[utoipa::path(get, path = "/v1/renders/{id}/bom", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Bom), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Bom>, ApiError> {
    Ok(Json(
        state.facetra.studio().bom(&p.actor(), &id).await?.into(),
    ))
}

/// Saves an edit as a new version; a stale `version` is 409 `stale_version`.
#[utoipa::path(put, path = "/v1/renders/{id}/bom", tag = "studio", params(("id" = String, Path)), request_body = BomEdit,
    responses((status = 200, body = Bom), (status = 400), (status = 404), (status = 409, description = "stale_version")))]
pub async fn put(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BomEdit>,
) -> Result<Json<Bom>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .set_bom(
                &p.actor(),
                &id,
                body.version,
                body.items.into_iter().map(Into::into).collect(),
            )
            .await?
            .into(),
    ))
}

/// Generates a new version from the render's prompt.
#[utoipa::path(post, path = "/v1/renders/{id}/bom/generate", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Bom), (status = 404)))]
pub async fn generate(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Bom>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .generate_bom(&p.actor(), &id)
            .await?
            .into(),
    ))
}

/// Every version, newest first.
#[utoipa::path(get, path = "/v1/renders/{id}/bom/history", tag = "studio", params(("id" = String, Path), ListQuery), responses((status = 200, body = List<Bom>), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<Bom>>, ApiError> {
    let page = state
        .facetra
        .studio()
        .bom_history(&p.actor(), &id, &q.page()?)
        .await?;
    Ok(Json(List::from_page(page)))
}
