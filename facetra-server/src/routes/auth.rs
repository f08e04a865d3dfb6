//! Sign-in and sign-out. Dev login exists only when enabled on a loopback server.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::{DevLoginBody, IdTokenBody, SignedIn, User};
use facetra_core::accounts::DevLogin;

use crate::http::{session_clear_cookie, session_cookie, session_set_cookie, ApiJson};
use crate::{ApiError, AppState};

/// Signs in by email (development only). Sets the session cookie; a session presented with
/// the request is revoked (the token rotates).
#[utoipa::path(post, path = "/auth/dev-login", tag = "auth", request_body = DevLoginBody,
    responses((status = 200, body = SignedIn), (status = 400), (status = 403), (status = 404, description = "Dev login is disabled")))]
pub async fn dev_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DevLoginBody>,
) -> Result<Response, ApiError> {
    let previous = session_cookie(&headers);
    let req = DevLogin {
        email: body.email,
        name: body.name,
        age_confirmed: body.age_confirmed,
    };
    let (user, token, new_account) = state
        .facetra
        .accounts()
        .dev_login(req, previous.as_ref())
        .await?;
    Ok(signed_in(&state, user, &token, new_account))
}

/// Signs in with a Google ID token (from Google Identity Services in the web app). Sets the
/// session cookie; a session presented with the request is revoked (the token rotates).
#[utoipa::path(post, path = "/auth/google/id-token", tag = "auth", request_body = IdTokenBody,
    responses((status = 200, body = SignedIn), (status = 400, description = "age_confirmed is needed for a new account"),
        (status = 401, description = "invalid_token"), (status = 403), (status = 409), (status = 503)))]
pub async fn google_id_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<IdTokenBody>,
) -> Result<Response, ApiError> {
    let previous = session_cookie(&headers);
    let (user, token, new_account) = state
        .facetra
        .accounts()
        .google_sign_in(&body.id_token, body.age_confirmed, None, previous.as_ref())
        .await?;
    Ok(signed_in(&state, user, &token, new_account))
}

/// The answer of a sign-in: the account, and the session cookie.
fn signed_in(
    state: &AppState,
    user: facetra_core::accounts::User,
    token: &facetra_core::security::RawToken,
    new_account: bool,
) -> Response {
    let cookie = session_set_cookie(state, token);
    let body = SignedIn {
        user: User::from(user),
        new_account,
    };
    ([(SET_COOKIE, cookie)], Json(body)).into_response()
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_cookie(&headers) {
        state.facetra.accounts().logout(&token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, session_clear_cookie(&state))],
    )
        .into_response())
}
