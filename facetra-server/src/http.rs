//! Request plumbing shared by every route: the request id, the baseline security headers, the
//! origin check for
//! cookie-authenticated writes, the request timeout, the process log line, the JSON body
//! extractor with API-style rejections, and authentication from cookie or bearer token.
//! Process logs carry only request id, route template, status and latency.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, ORIGIN, REFERER, RETRY_AFTER, USER_AGENT,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use facetra_core::accounts::{Access, Principal};
use facetra_core::ids::UserId;
use facetra_core::privacy::logs::RequestLog;
use facetra_core::security::events::with_client_ip;
use facetra_core::security::RawToken;
use serde::de::DeserializeOwned;

use crate::{origin_of, throttle, ApiError, AppState};

/// The session cookie's name; the policy promises it is the only cookie.
pub const SESSION_COOKIE: &str = "session_token";

tokio::task_local! {
    static REQUEST_ID: String;
    /// Who the request turned out to be, once authentication has said (the request log's
    /// user id).
    static SIGNED_IN: std::sync::OnceLock<UserId>;
}

/// The id of the request being served ("-" outside one).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

/// Wraps every request: id, origin check, timeout, one log line.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = facetra_core::ids::random("req");
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned());
    let timeout = state.web.request_timeout;
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| throttle::client_ip(c.0, req.headers(), &state.facetra.config().trusted_proxies));
    let user_agent =
        header_text(req.headers(), USER_AGENT).map(|ua| ua.chars().take(500).collect::<String>());
    let referrer = header_text(req.headers(), REFERER).and_then(|r| origin_of(&r));
    let method = req.method().to_string();
    let logger = state.request_logs.clone();
    let received_at = state.facetra.now();
    let handle = async move {
        if let Err(refused) = check_host(&state, req.headers()) {
            return refused.into_response();
        }
        let path = req.uri().path();
        if state.health.is_down() && !matches!(path, "/healthz" | "/openapi.json") {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable; try again shortly",
            )
            .into_response();
        }
        let signing_in =
            (state.facetra.config().dev_login && path == DEV_LOGIN) || path == GOOGLE_ID_TOKEN;
        if let Err(refused) = check_origin(&state, req.method(), req.headers(), signing_in) {
            return refused.into_response();
        }
        let group = throttle::Group::of(path);
        if let (Some(ip), Some(group)) = (ip, group) {
            if let Err(refused) = throttled(&state, group, ip).await {
                return refused;
            }
        }
        let handled = with_client_ip(ip, tokio::time::timeout(timeout, next.run(req))).await;
        if let (Ok(response), Some(ip), Some(throttle::Group::Admin)) = (&handled, ip, group) {
            if response.status() == StatusCode::UNAUTHORIZED {
                let recorded =
                    with_client_ip(Some(ip), state.facetra.guard().admin_auth_failed(ip)).await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "a failed admin sign-in could not be counted");
                }
            }
        }
        match handled {
            Ok(response) => {
                if response
                    .extensions()
                    .get::<crate::health::StoreFailed>()
                    .is_some()
                {
                    state.health.mark_down();
                }
                response
            }
            Err(_) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request took too long; try again",
            )
            .into_response(),
        }
    };
    let (mut response, user) = REQUEST_ID
        .scope(
            id.clone(),
            SIGNED_IN.scope(std::sync::OnceLock::new(), async move {
                let response = handle.await;
                (response, SIGNED_IN.with(|slot| slot.get().cloned()))
            }),
        )
        .await;
    // Health probes arrive every few seconds from the load balancer, carry no person and
    // would drown the log.
    let probe = matches!(route.as_str(), "/healthz" | "/readyz");
    if let Some(logger) = logger.filter(|_| !probe) {
        logger.push(RequestLog {
            at: received_at,
            ip: ip.map(|ip| ip.to_string()),
            user_agent,
            referrer,
            route: route.clone(),
            method,
            status: response.status().as_u16(),
            latency_ms: started.elapsed().as_millis() as u64,
            user_id: user,
        });
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", value);
    }
    // The baseline every answer carries: no type sniffing, no referrer leaving the API, never
    // framed by another page.
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    tracing::info!(
        request_id = %id,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// A header's value as text, if it is sent and is text.
fn header_text(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The per-IP budgets and, on admin routes, the stored lock-out: a refusal is 429
/// `rate_limited` with `Retry-After`, and a budget's hit is counted in the store.
async fn throttled(state: &AppState, group: throttle::Group, ip: IpAddr) -> Result<(), Response> {
    let refuse = |wait_secs: u64, why: &str| {
        let mut res =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", why).into_response();
        if let Ok(v) = HeaderValue::from_str(&wait_secs.max(1).to_string()) {
            res.headers_mut().insert(RETRY_AFTER, v);
        }
        res
    };
    if let Err(wait) = state.throttles.check(group, ip) {
        let guard = state.facetra.guard();
        if let Err(e) = with_client_ip(Some(ip), guard.rate_limited(group.as_str(), ip)).await {
            tracing::warn!(error = %e, "a rate-limit hit could not be counted");
        }
        return Err(refuse(
            wait.as_secs_f64().ceil() as u64,
            "too many requests from this address; wait and try again",
        ));
    }
    if group == throttle::Group::Admin {
        match state.facetra.guard().admin_locked_out(ip).await {
            Ok(Some(secs)) => {
                return Err(refuse(
                    secs.unsigned_abs(),
                    "too many failed sign-ins from this address; try again later",
                ))
            }
            Ok(None) => {}
            Err(e) => return Err(ApiError::from(e).into_response()),
        }
    }
    Ok(())
}

/// The dev-login route (it exists only when enabled).
const DEV_LOGIN: &str = "/auth/dev-login";
/// The ID-token sign-in: like dev login, it sets a cookie, so it must come from our own pages
/// (no one else's page may sign a visitor into an account of theirs).
const GOOGLE_ID_TOKEN: &str = "/auth/google/id-token";

/// With dev login on, the server answers only under its public URL's host: a page whose own
/// name resolves to 127.0.0.1 (DNS rebinding) sends its own `Host`, and is refused.
fn check_host(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.web.dev_login_host else {
        return Ok(());
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if host.as_deref() == Some(expected.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("this development server answers only as {expected}"),
    ))
}

/// Cookie-authenticated writes need an `Origin` (or `Referer`) we serve, and so does a dev
/// login (`signing_in`), though it carries no cookie yet; bearer requests and other requests
/// without a session cookie are not subject to it.
fn check_origin(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    signing_in: bool,
) -> Result<(), ApiError> {
    let unsafe_method = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let cookie_write = session_cookie(headers).is_some() && bearer_token(headers).is_none();
    if !unsafe_method || !(cookie_write || signing_in) {
        return Ok(());
    }
    let claimed = headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of)
        });
    match claimed.and_then(|o| origin_of(&o)) {
        Some(origin) if state.web.allowed_origins.contains(&origin) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this request must come from the Facetra web app (Origin check failed)",
        )),
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<RawToken> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| RawToken::from_client(token))
}

/// The `session_token` cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<RawToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| RawToken::from_client(value))
}

/// The `Set-Cookie` value that hands out `token` for a session.
pub fn session_set_cookie(state: &AppState, token: &RawToken) -> String {
    token_cookie(state, token, state.facetra.config().session_ttl_secs)
}

/// The `Set-Cookie` value that hands out `token` under the one cookie for `max_age` seconds
/// (a session, or a pre-sign-in session).
pub fn token_cookie(state: &AppState, token: &RawToken, max_age: i64) -> String {
    cookie(state, token.expose(), max_age)
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn session_clear_cookie(state: &AppState) -> String {
    cookie(state, "", 0)
}

/// The one cookie, with the attributes the policy promises.
fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.web.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={value}; HttpOnly{secure}; SameSite=Lax; Path=/; Max-Age={max_age}")
}

/// The signed-in caller, from `Authorization: Bearer` or the session cookie.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .or_else(|| session_cookie(&parts.headers))
            .ok_or_else(|| {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
            })?;
        let principal = state.facetra.accounts().authenticate(&token).await?;
        let access = if matches!(parts.method, Method::GET | Method::HEAD) {
            Access::Read
        } else {
            Access::Write
        };
        principal.permits(access)?;
        let _ = SIGNED_IN.try_with(|slot| slot.set(principal.user.id.clone()));
        Ok(Authenticated(principal))
    }
}

/// A query string; a rejection is the API's 400 envelope naming the field, never axum's bare
/// text.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(ApiQuery(q)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the query string is not valid: {detail}"),
                ))
            }
        }
    }
}

/// A JSON body; rejections use the API's error envelope (415, 413, 400).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the request body is too large",
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "the request body could not be read",
                    )
                }
            })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("the JSON body is not valid: {e}"),
            )
        })
    }
}
