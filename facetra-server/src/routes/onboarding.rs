//! The public waitlist and demo-booking forms.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use facetra_api::{SignupBody, SignupCreated};
use facetra_core::onboarding::SignupKind;

use crate::http::ApiJson;
use crate::{ApiError, AppState};

async fn submit(
    state: &AppState,
    kind: SignupKind,
    body: SignupBody,
) -> Result<(StatusCode, Json<SignupCreated>), ApiError> {
    let entry = state.facetra.onboarding().submit(kind, body.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupCreated {
            id: entry.id.to_string(),
        }),
    ))
}

/// Joins the waitlist (rate-limited per IP). The same email twice while pending is the same
/// entry.
#[utoipa::path(post, path = "/v1/waitlist", tag = "onboarding", request_body = SignupBody,
    responses((status = 201, body = SignupCreated), (status = 400), (status = 415), (status = 429)))]
pub async fn waitlist(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<SignupCreated>), ApiError> {
    submit(&state, SignupKind::Waitlist, body).await
}

/// Books a demo (`company` needed); confirmed by email.
#[utoipa::path(post, path = "/v1/demo-bookings", tag = "onboarding", request_body = SignupBody,
    responses((status = 201, body = SignupCreated), (status = 400), (status = 415), (status = 429)))]
pub async fn demo(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<SignupCreated>), ApiError> {
    submit(&state, SignupKind::Demo, body).await
}
