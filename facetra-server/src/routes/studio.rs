//! Render jobs, renders and signed downloads.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::{
    Download, Job, JobAccepted, List, ListQuery, Quote, Render, RenderQuery, RenderRequest,
};
use facetra_core::paging::PageRequest;
use facetra_core::studio::strip::Format;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// `?exp=&kid=&sig=` of a signed link.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Signed {
    pub exp: Option<String>,
    pub kid: Option<String>,
    pub sig: Option<String>,
}

/// Reserves the credits and queues a render job.
#[utoipa::path(post, path = "/v1/renders", tag = "studio", request_body = RenderRequest,
    responses((status = 202, body = JobAccepted), (status = 400), (status = 402, description = "insufficient_credits"), (status = 404), (status = 409, description = "idempotency_conflict")))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<RenderRequest>,
) -> Result<Response, ApiError> {
    let job = state
        .facetra
        .studio()
        .request(&p.actor(), &body.into())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobAccepted {
            job: Job::from(job),
        }),
    )
        .into_response())
}

/// Prices a render request; reserves nothing.
#[utoipa::path(post, path = "/v1/renders/quote", tag = "studio", request_body = RenderRequest, responses((status = 200, body = Quote), (status = 400)))]
pub async fn quote(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<RenderRequest>,
) -> Result<Json<Quote>, ApiError> {
    let credits = state
        .facetra
        .studio()
        .quote(&p.actor(), &body.into())
        .await?;
    Ok(Json(Quote { credits }))
}

/// The caller's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "studio", params(ListQuery), responses((status = 200, body = List<Job>), (status = 400)))]
pub async fn jobs(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<Job>>, ApiError> {
    let page = state.facetra.studio().jobs(&p.actor(), &q.page()?).await?;
    Ok(Json(List::from_page(page)))
}

/// One of the caller's jobs.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Job), (status = 404)))]
pub async fn job(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(
        state.facetra.studio().job(&p.actor(), &id).await?.into(),
    ))
}

/// Cancels a job; variants not started are refunded.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Job), (status = 404)))]
pub async fn cancel(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(
        state.facetra.studio().cancel(&p.actor(), &id).await?.into(),
    ))
}

/// The caller's renders, newest first.
#[utoipa::path(get, path = "/v1/renders", tag = "studio", params(RenderQuery), responses((status = 200, body = List<Render>), (status = 400)))]
pub async fn renders(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<RenderQuery>,
) -> Result<Json<List<Render>>, ApiError> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let selected = q.selected.unwrap_or(false);
    let studio = state.facetra.studio();
    let page = match q.portfolio_id.as_deref().filter(|p| !p.is_empty()) {
        Some(portfolio) => {
            studio
                .portfolio_renders(&p.actor(), portfolio, selected, &page)
                .await?
        }
        None => studio.renders(&p.actor(), selected, &page).await?,
    };
    Ok(Json(List::from_page(page)))
}

/// One of the caller's renders.
#[utoipa::path(get, path = "/v1/renders/{id}", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Render), (status = 404)))]
pub async fn render(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Render>, ApiError> {
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
#[utoipa::path(post, path = "/v1/renders/{id}/selection", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Render), (status = 404)))]
pub async fn select(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Render>, ApiError> {
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
#[utoipa::path(delete, path = "/v1/renders/{id}/selection", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Render), (status = 404)))]
pub async fn unselect(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Render>, ApiError> {
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
#[utoipa::path(get, path = "/v1/renders/{id}/download", tag = "studio", params(("id" = String, Path)), responses((status = 200, body = Download), (status = 404)))]
pub async fn download(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Download>, ApiError> {
    let (path, expires_at) = state
        .facetra
        .studio()
        .download_link(&p.actor(), &id)
        .await?;
    Ok(Json(Download {
        url: format!("{}{path}", state.web.public_url),
        expires_at,
    }))
}

/// The file behind a signed link (no session needed).
#[utoipa::path(get, path = "/files/{blob}", tag = "studio", params(("blob" = String, Path), Signed),
    responses((status = 200), (status = 403, description = "invalid_signature or expired_link"), (status = 404)))]
pub async fn file(
    State(state): State<AppState>,
    Path(blob): Path<String>,
    ApiQuery(q): ApiQuery<Signed>,
) -> Result<Response, ApiError> {
    let (meta, reader) = state
        .facetra
        .studio()
        .open_signed(&blob, q.exp.as_deref(), q.kid.as_deref(), q.sig.as_deref())
        .await?;
    // Only image types were ever stored (core reads them from the bytes); a stored type that
    // is not one of them is served as bytes to download, never rendered.
    let format = Format::from_mime(&meta.content_type);
    let export = meta.content_type == facetra_core::privacy::export::ZIP;
    let content_type = match format {
        Some(f) => f.mime(),
        None if export => facetra_core::privacy::export::ZIP,
        None => "application/octet-stream",
    };
    let ext = format.map_or(if export { "zip" } else { "bin" }, Format::extension);
    let name = format!("{}.{ext}", meta.id);
    let disposition = match format {
        Some(_) => format!("inline; filename=\"{name}\""),
        None => format!("attachment; filename=\"{name}\""),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, meta.size.to_string()),
            (header::CACHE_CONTROL, "private, max-age=60".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        body,
    )
        .into_response())
}
