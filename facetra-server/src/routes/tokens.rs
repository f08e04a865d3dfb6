//! The caller's API tokens (`fct_…`) for the command line and scripts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use facetra_api::{CreatedToken, NewToken, Token, Tokens};

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// Creates a token; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "account", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400), (status = 401), (status = 403)))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = state
        .facetra
        .accounts()
        .create_token(&p.actor(), &body.name, body.expires_in_days, &body.scopes)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The caller's tokens, newest first (never their secrets).
#[utoipa::path(get, path = "/v1/tokens", tag = "account",
    responses((status = 200, body = Tokens), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Tokens>, ApiError> {
    let tokens = state.facetra.accounts().tokens(&p.actor()).await?;
    Ok(Json(Tokens {
        items: tokens.into_iter().map(Token::from).collect(),
    }))
}

/// Revokes one of the caller's tokens at once; another user's is 404.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "account",
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .facetra
        .accounts()
        .revoke_token(&p.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
