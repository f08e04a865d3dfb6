//! Render jobs, renders and signed downloads.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_core::studio::{Job, Render, RenderSpec};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// `POST /v1/renders` (and `/quote`) body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RenderBody {
    pub prompt: String,
    pub sketch_id: String,
    #[serde(default)]
    pub reference_ids: Vec<String>,
    #[serde(default = "one")]
    pub variants: u32,
    #[serde(default = "square")]
    pub aspect_ratio: String,
    #[serde(default)]
    pub style: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn one() -> u32 {
    1
}

fn square() -> String {
    "1:1".into()
}

impl From<RenderBody> for RenderSpec {
    fn from(b: RenderBody) -> Self {
        RenderSpec {
            prompt: b.prompt,
            sketch_id: b.sketch_id,
            reference_ids: b.reference_ids,
            variants: b.variants,
            aspect_ratio: b.aspect_ratio,
            style: b.style,
            idempotency_key: b.idempotency_key,
        }
    }
}

/// A variant of a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantView {
    pub index: u32,
    pub status: String,
    pub render_id: Option<String>,
    pub failure_class: Option<String>,
    pub reason: Option<String>,
}

/// `Job` of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub status: String,
    pub status_seq: u64,
    pub variants: Vec<VariantView>,
    pub credits_reserved: i64,
    pub credits_charged: i64,
    pub credits_refunded: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        JobView {
            id: j.id.to_string(),
            status: j.status.as_str().to_owned(),
            status_seq: j.status_seq,
            variants: j
                .variants
                .iter()
                .map(|v| VariantView {
                    index: v.index,
                    status: snake(&v.status),
                    render_id: v.render_id.as_ref().map(|r| r.to_string()),
                    failure_class: v.failure_class.as_ref().map(snake),
                    reason: v.reason.clone(),
                })
                .collect(),
            credits_reserved: j.credits_reserved,
            credits_charged: j.credits_charged,
            credits_refunded: j.credits_refunded,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// `Render` of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderView {
    pub id: String,
    pub job_id: String,
    pub selected: bool,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub provenance: serde_json::Value,
}

impl From<Render> for RenderView {
    fn from(r: Render) -> Self {
        RenderView {
            id: r.id.to_string(),
            job_id: r.job_id.to_string(),
            selected: r.selected,
            mime: r.mime,
            width: r.width,
            height: r.height,
            created_at: r.created_at,
            provenance: serde_json::to_value(&r.provenance).unwrap_or_default(),
        }
    }
}

/// `?selected=true&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RenderQuery {
    pub selected: Option<bool>,
    pub limit: Option<usize>,
}

/// `?exp=&kid=&sig=` of a signed link.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Signed {
    pub exp: Option<String>,
    pub kid: Option<String>,
    pub sig: Option<String>,
}

/// Reserves the credits and queues a render job.
#[utoipa::path(post, path = "/v1/renders", tag = "studio", request_body = RenderBody,
    responses((status = 202, body = JobView), (status = 400), (status = 402, description = "insufficient_credits"), (status = 404)))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<Response, ApiError> {
    let job = state
        .facetra
        .studio()
        .request(&p.actor(), &body.into())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job": JobView::from(job) })),
    )
        .into_response())
}

/// Prices a render request; reserves nothing.
#[utoipa::path(post, path = "/v1/renders/quote", tag = "studio", request_body = RenderBody, responses((status = 200), (status = 400)))]
pub async fn quote(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credits = state
        .facetra
        .studio()
        .quote(&p.actor(), &body.into())
        .await?;
    Ok(Json(json!({ "credits": credits })))
}

/// The caller's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "studio", responses((status = 200)))]
pub async fn jobs(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jobs: Vec<JobView> = state
        .facetra
        .studio()
        .jobs(&p.actor(), 50)
        .await?
        .into_iter()
        .map(JobView::from)
        .collect();
    Ok(Json(json!({ "items": jobs, "next_cursor": null })))
}

/// One of the caller's jobs.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = JobView), (status = 404)))]
pub async fn job(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(
        state.facetra.studio().job(&p.actor(), &id).await?.into(),
    ))
}

/// Cancels a job; variants not started are refunded.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = JobView), (status = 404)))]
pub async fn cancel(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(
        state.facetra.studio().cancel(&p.actor(), &id).await?.into(),
    ))
}

/// The caller's renders, newest first.
#[utoipa::path(get, path = "/v1/renders", tag = "studio", params(RenderQuery), responses((status = 200)))]
pub async fn renders(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Query<RenderQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items: Vec<RenderView> = state
        .facetra
        .studio()
        .renders(
            &p.actor(),
            q.selected.unwrap_or(false),
            q.limit.unwrap_or(50),
        )
        .await?
        .into_iter()
        .map(RenderView::from)
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

/// One of the caller's renders.
#[utoipa::path(get, path = "/v1/renders/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = RenderView), (status = 404)))]
pub async fn render(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RenderView>, ApiError> {
    Ok(Json(
        state.facetra.studio().render(&p.actor(), &id).await?.into(),
    ))
}

/// Deletes a render and its image.
#[utoipa::path(delete, path = "/v1/renders/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .facetra
        .studio()
        .delete_render(&p.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Selects a render.
#[utoipa::path(post, path = "/v1/renders/{id}/selection", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = RenderView), (status = 404)))]
pub async fn select(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RenderView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .select(&p.actor(), &id, true)
            .await?
            .into(),
    ))
}

/// Unselects a render.
#[utoipa::path(delete, path = "/v1/renders/{id}/selection", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = RenderView), (status = 404)))]
pub async fn unselect(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RenderView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .studio()
            .select(&p.actor(), &id, false)
            .await?
            .into(),
    ))
}

/// A signed, expiring link to a render's image.
#[utoipa::path(get, path = "/v1/renders/{id}/download", tag = "studio", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn download(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (path, expires_at) = state
        .facetra
        .studio()
        .download_link(&p.actor(), &id)
        .await?;
    Ok(Json(
        json!({ "url": format!("{}{path}", state.web.public_url), "expires_at": expires_at }),
    ))
}

/// The file behind a signed link (no session needed).
#[utoipa::path(get, path = "/files/{blob}", tag = "studio", params(("blob" = String, Path), Signed),
    responses((status = 200), (status = 403, description = "invalid_signature or expired_link"), (status = 404)))]
pub async fn file(
    State(state): State<AppState>,
    Path(blob): Path<String>,
    Query(q): Query<Signed>,
) -> Result<Response, ApiError> {
    let (meta, reader) = state
        .facetra
        .studio()
        .open_signed(&blob, q.exp.as_deref(), q.kid.as_deref(), q.sig.as_deref())
        .await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CONTENT_LENGTH, meta.size.to_string()),
            (header::CACHE_CONTROL, "private, max-age=60".to_owned()),
        ],
        body,
    )
        .into_response())
}
