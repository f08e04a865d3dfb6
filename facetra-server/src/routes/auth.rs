//! Sign-in and sign-out. Dev login exists only when enabled on a loopback server.

use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::{DevLoginBody, IdTokenBody, SignedIn, User};
use facetra_core::accounts::{Callback, DevLogin};

use crate::http::{
    session_clear_cookie, session_cookie, session_set_cookie, token_cookie, ApiJson, ApiQuery,
};
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

/// `GET /auth/google/start`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct StartQuery {
    /// A local path to come back to (anything else is `/`).
    pub return_to: Option<String>,
    /// Needed when the sign-in creates the account.
    #[serde(default)]
    pub age_confirmed: bool,
}

/// `GET /auth/google/callback`'s query, as Google sends it.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

fn callback_uri(state: &AppState) -> String {
    format!("{}/auth/google/callback", state.web.public_url)
}

/// Starts the browser sign-in: a pre-sign-in session in the `session_token` cookie (10
/// minutes) and a redirect to Google with `state`, `nonce` and a PKCE S256 challenge.
#[utoipa::path(get, path = "/auth/google/start", tag = "auth", params(StartQuery),
    responses((status = 302, description = "To Google's authorization endpoint"), (status = 503)))]
pub async fn google_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StartQuery>,
) -> Result<Response, ApiError> {
    let previous = session_cookie(&headers);
    let started = state
        .facetra
        .accounts()
        .google_start(
            &callback_uri(&state),
            q.return_to.as_deref(),
            q.age_confirmed,
            previous.as_ref(),
        )
        .await?;
    Ok((
        StatusCode::FOUND,
        [
            (LOCATION, started.authorization_url),
            (
                SET_COOKIE,
                token_cookie(&state, &started.token, started.lifetime_secs),
            ),
        ],
    )
        .into_response())
}

/// Google's redirect back: on success a new session cookie and a redirect to `return_to`; on
/// failure a redirect to `return_to?error=<code>` with the cookie cleared.
#[utoipa::path(get, path = "/auth/google/callback", tag = "auth", params(CallbackQuery),
    responses((status = 302, description = "To return_to, signed in or with ?error=")))]
pub async fn google_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let cookie = session_cookie(&headers);
    let back = Callback {
        code: q.code.as_deref(),
        state: q.state.as_deref(),
        error: q.error.as_deref(),
    };
    let outcome = state
        .facetra
        .accounts()
        .google_callback(cookie.as_ref(), &callback_uri(&state), back)
        .await?;
    let base = &state.web.app_base;
    let (location, cookie) = match outcome.result {
        Ok((_, token, _)) => (
            format!("{base}{}", outcome.return_to),
            session_set_cookie(&state, &token),
        ),
        Err(code) => {
            let join = if outcome.return_to.contains('?') {
                '&'
            } else {
                '?'
            };
            (
                format!("{base}{}{join}error={code}", outcome.return_to),
                session_clear_cookie(&state),
            )
        }
    };
    Ok((
        StatusCode::FOUND,
        [(LOCATION, location), (SET_COOKIE, cookie)],
    )
        .into_response())
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
