//! The signed-in user's message threads (another user's are 404 on every route), and the web
//! app's page-view events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use facetra_api::{EventBody, List, ListQuery, Message, NewMessage, ReplyBody};

use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// Writes to Facetra; a grievance also opens a grievance privacy request (due in 30 days).
#[utoipa::path(post, path = "/v1/messages", tag = "messages", request_body = NewMessage,
    responses((status = 201, body = Message), (status = 400), (status = 401)))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let t = state
        .facetra
        .messages()
        .send(&p.actor(), body.kind, &body.subject, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// The caller's threads, newest first.
#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(ListQuery),
    responses((status = 200, body = List<Message>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<Message>>, ApiError> {
    let page = q.page()?;
    let found = state.facetra.messages().mine(&p.actor(), &page).await?;
    Ok(Json(List::from_page(found)))
}

/// One of the caller's threads with its answers.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages",
    responses((status = 200, body = Message), (status = 401), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Message>, ApiError> {
    let t = state.facetra.messages().get(&p.actor(), &id).await?;
    Ok(Json(t.into()))
}

/// The caller writes more in their own thread.
#[utoipa::path(post, path = "/v1/messages/{id}/replies", tag = "messages", request_body = ReplyBody,
    responses((status = 200, body = Message), (status = 400), (status = 401), (status = 404)))]
pub async fn reply(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> Result<Json<Message>, ApiError> {
    let t = state
        .facetra
        .messages()
        .reply(&p.actor(), &id, &body.body)
        .await?;
    Ok(Json(t.into()))
}

/// A page view from the web app: stored only with analytics consent (else accepted and
/// dropped), its path reduced to a route (no query string, no ids).
#[utoipa::path(post, path = "/v1/events", tag = "messages", request_body = EventBody,
    responses((status = 202), (status = 400), (status = 401), (status = 429)))]
pub async fn event(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<StatusCode, ApiError> {
    state
        .facetra
        .usage()
        .event(&p.actor(), &body.kind, &body.path)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
