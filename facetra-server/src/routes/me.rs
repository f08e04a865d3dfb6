//! The signed-in user's own account.

use axum::extract::State;
use axum::Json;
use facetra_api::{NameBody, User};

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
