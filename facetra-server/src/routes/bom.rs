//! A render's bill of materials: latest version, edits with optimistic concurrency,
//! generation, history.

use axum::extract::{Path, State};
use axum::Json;
use facetra_core::studio::bom::{Bom, BomItem};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// `BOM` of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct BomView {
    pub render_id: String,
    pub version: i64,
    pub source: String,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<BomItem>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Bom> for BomView {
    fn from(b: Bom) -> Self {
        let source = serde_json::to_value(b.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        BomView {
            render_id: b.render_id.to_string(),
            version: b.version,
            source,
            items: b.items,
            updated_at: b.updated_at,
        }
    }
}

/// `PUT` body: the version the edit is based on, and the items.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BomEdit {
    pub version: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<BomItem>,
}

/// The latest BOM.
#[utoipa::path(get, path = "/v1/renders/{id}/bom", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = BomView), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<BomView>, ApiError> {
    Ok(Json(
        state.facetra.studio().bom(&p.actor(), &id).await?.into(),
    ))
}

/// Saves an edit as a new version; a stale `version` is 409 `stale_version`.
#[utoipa::path(put, path = "/v1/renders/{id}/bom", tag = "studio", params(("id" = String, Path)), request_body = BomEdit,
    responses((status = 200, body = BomView), (status = 400), (status = 404), (status = 409, description = "stale_version")))]
pub async fn put(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BomEdit>,
) -> Result<Json<BomView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .set_bom(&p.actor(), &id, body.version, body.items)
            .await?
            .into(),
    ))
}

/// Generates a new version from the render's prompt.
#[utoipa::path(post, path = "/v1/renders/{id}/bom/generate", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = BomView), (status = 404)))]
pub async fn generate(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<BomView>, ApiError> {
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
#[utoipa::path(get, path = "/v1/renders/{id}/bom/history", tag = "studio", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items: Vec<BomView> = state
        .facetra
        .studio()
        .bom_history(&p.actor(), &id)
        .await?
        .into_iter()
        .map(BomView::from)
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}
