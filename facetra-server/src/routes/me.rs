//! The signed-in user's own account.

use axum::extract::State;
use axum::Json;
use facetra_api::{Consents, ConsentsBody, NameBody, User};

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "account", responses((status = 200, body = User), (status = 401)))]
pub async fn get_me(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.facetra.accounts().me(&p.actor()).await?.into()))
}

/// Changes the caller's name.
#[utoipa::path(patch, path = "/v1/me", tag = "account", request_body = NameBody,
    responses((status = 200, body = User), (status = 400), (status = 401), (status = 403), (status = 415)))]
pub async fn patch_me(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        state
            .facetra
            .accounts()
            .update_name(&p.actor(), &body.name)
            .await?
            .into(),
    ))
}

/// The caller's consents (off until given).
#[utoipa::path(get, path = "/v1/me/consents", tag = "account", responses((status = 200, body = Consents), (status = 401)))]
pub async fn get_consents(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Consents>, ApiError> {
    let me = state.facetra.accounts().me(&p.actor()).await?;
    Ok(Json(Consents::from(&me.consents)))
}

/// Gives or withdraws consents; each change records when, under which notice and how.
#[utoipa::path(put, path = "/v1/me/consents", tag = "account", request_body = ConsentsBody,
    responses((status = 200, body = Consents), (status = 401), (status = 403), (status = 415)))]
pub async fn put_consents(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<ConsentsBody>,
) -> Result<Json<Consents>, ApiError> {
    let me = state
        .facetra
        .accounts()
        .set_consents(&p.actor(), body.analytics, body.marketing, "web")
        .await?;
    Ok(Json(Consents::from(&me.consents)))
}
