//! The signed-in user's privacy requests (verified by their session), and the DPO's queue.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use facetra_api::{
    List, ListQuery, Nominee, NomineeBody, PrivacyExport, PrivacyRequest, PrivacyRequestBody,
    PrivacyRequestsQuery, StaffPrivacyRequest,
};
use facetra_core::paging::PageRequest;
use facetra_core::privacy::dsr::RequestQuery;
use facetra_core::privacy::requests::{RequestStatus, RequestType};

use super::admin::StaffActor;
use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// Makes a privacy request; the person is emailed that it was received, with its due date.
#[utoipa::path(post, path = "/v1/privacy/requests", tag = "privacy", request_body = PrivacyRequestBody,
    responses((status = 201, body = PrivacyRequest), (status = 400), (status = 401), (status = 409)))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<PrivacyRequestBody>,
) -> Result<(StatusCode, Json<PrivacyRequest>), ApiError> {
    let r = state
        .facetra
        .privacy()
        .ask(&p.actor(), body.kind, body.message.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// The caller's privacy requests, newest first.
#[utoipa::path(get, path = "/v1/privacy/requests", tag = "privacy", params(ListQuery),
    responses((status = 200, body = List<PrivacyRequest>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<PrivacyRequest>>, ApiError> {
    let page = q.page()?;
    let found = state
        .facetra
        .privacy()
        .my_requests(&p.actor(), &page)
        .await?;
    Ok(Json(List::from_page(found)))
}

/// The DPO's queue, newest first (dpo).
#[utoipa::path(get, path = "/admin/v1/privacy/requests", tag = "admin", params(PrivacyRequestsQuery),
    responses((status = 200, body = List<StaffPrivacyRequest>), (status = 400), (status = 401), (status = 403), (status = 429)))]
pub async fn queue(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    ApiQuery(q): ApiQuery<PrivacyRequestsQuery>,
) -> Result<Json<List<StaffPrivacyRequest>>, ApiError> {
    let query = RequestQuery {
        status: q
            .status
            .as_deref()
            .map(|s| RequestStatus::parse("status", s))
            .transpose()?,
        kind: q
            .kind
            .as_deref()
            .map(|s| RequestType::parse("type", s))
            .transpose()?,
        due_within_days: q.due_within,
        overdue: q.overdue,
    };
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let day = state.facetra.now();
    let found = state
        .facetra
        .privacy()
        .requests(&staff, &query, day, &page)
        .await?;
    Ok(Json(List {
        next_cursor: found.next.map(|c| c.encode()),
        items: found
            .items
            .into_iter()
            .map(|r| StaffPrivacyRequest::on(r, day))
            .collect(),
    }))
}

/// The caller's latest export: a fresh signed link each call while the ZIP is kept (7 days).
/// An access request builds it (`POST /v1/privacy/requests` with `"type": "access"`).
#[utoipa::path(get, path = "/v1/privacy/export", tag = "privacy",
    responses((status = 200, body = PrivacyExport), (status = 401)))]
pub async fn export(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<PrivacyExport>, ApiError> {
    let status = state.facetra.privacy().my_export(&p.actor()).await?;
    Ok(Json(status.into()))
}

/// The caller's nominee (DPDP Act s.14): the person who may exercise their rights if they die
/// or cannot act; 404 when none is named.
#[utoipa::path(get, path = "/v1/privacy/nominee", tag = "privacy",
    responses((status = 200, body = Nominee), (status = 401), (status = 404)))]
pub async fn nominee(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Nominee>, ApiError> {
    let named = state.facetra.privacy().my_nominee(&p.actor()).await?;
    named
        .map(|n| Json(n.into()))
        .ok_or_else(|| facetra_core::Error::NotFound("nominee").into())
}

/// Names (or replaces) the caller's nominee.
#[utoipa::path(put, path = "/v1/privacy/nominee", tag = "privacy", request_body = NomineeBody,
    responses((status = 200, body = Nominee), (status = 400), (status = 401)))]
pub async fn set_nominee(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NomineeBody>,
) -> Result<Json<Nominee>, ApiError> {
    let privacy = state.facetra.privacy();
    let named = privacy
        .set_nominee(&p.actor(), &body.name, &body.email)
        .await?;
    Ok(Json(named.into()))
}

/// Removes the caller's nominee; 404 when none was named.
#[utoipa::path(delete, path = "/v1/privacy/nominee", tag = "privacy",
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn clear_nominee(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<StatusCode, ApiError> {
    if state.facetra.privacy().clear_nominee(&p.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(facetra_core::Error::NotFound("nominee").into())
    }
}
