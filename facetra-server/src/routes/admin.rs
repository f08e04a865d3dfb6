//! `/admin/v1`: staff over HTTP. A staff account signed in with Google (a session or an API
//! token) acts with the roles the store gives it; core decides every action through its role
//! table and audits it. The routes are throttled per IP, and locked for a client after
//! repeated failed authentication (the server's guard).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use facetra_api::{GrantBody, List, RolesBody, Signup, SignupQuery, Transaction, User, UsersQuery};
use facetra_core::paging::PageRequest;
use facetra_core::Actor;

use crate::http::{ApiJson, ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// The signed-in caller as staff: refused (403, recorded) unless the account holds a staff
/// role; which role an action needs is core's to decide.
pub struct StaffActor(pub Actor);

impl FromRequestParts<AppState> for StaffActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        Ok(StaffActor(
            state.facetra.accounts().staff_of(&principal).await?,
        ))
    }
}

/// One account by `email`, or a page of accounts, newest first.
#[utoipa::path(get, path = "/admin/v1/users", tag = "admin", params(UsersQuery),
    responses((status = 200, body = List<User>), (status = 401), (status = 403), (status = 429)))]
pub async fn users(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> Result<Json<List<User>>, ApiError> {
    let accounts = state.facetra.accounts();
    if let Some(email) = q.email.as_deref() {
        let found = match accounts.find_user(&staff, email).await {
            Ok(user) => vec![User::from(user)],
            Err(facetra_core::Error::NotFound(_)) => vec![],
            Err(e) => return Err(e.into()),
        };
        return Ok(Json(List {
            items: found,
            next_cursor: None,
        }));
    }
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from_page(
        accounts.list_users(&staff, &page).await?,
    )))
}

/// Grants credits to an account (admin), with the reason in the ledger and the audit log.
#[utoipa::path(post, path = "/admin/v1/users/{id}/credits", tag = "admin", request_body = GrantBody,
    responses((status = 201, body = Transaction), (status = 200, description = "The same idempotency key: the first grant"),
        (status = 400), (status = 401), (status = 403), (status = 404), (status = 429)))]
pub async fn grant(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantBody>,
) -> Result<(StatusCode, Json<Transaction>), ApiError> {
    let appended = state
        .facetra
        .credits()
        .grant(
            &staff,
            &id,
            body.amount,
            &body.reason,
            body.idempotency_key.as_deref(),
        )
        .await?;
    let status = match &appended {
        facetra_core::credits::Appended::Applied(_) => StatusCode::CREATED,
        facetra_core::credits::Appended::Replayed(_) => StatusCode::OK,
    };
    Ok((status, Json(appended.entry().clone().into())))
}

/// Replaces an account's roles (admin).
#[utoipa::path(put, path = "/admin/v1/users/{id}/roles", tag = "admin", request_body = RolesBody,
    responses((status = 200, body = User), (status = 400), (status = 401), (status = 403), (status = 404), (status = 429)))]
pub async fn set_roles(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RolesBody>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        state
            .facetra
            .accounts()
            .set_roles(&staff, &id, &body.roles)
            .await?
            .into(),
    ))
}

async fn signups(
    state: &AppState,
    staff: &Actor,
    kind: facetra_core::onboarding::SignupKind,
    q: &SignupQuery,
) -> Result<Json<List<Signup>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(facetra_core::onboarding::SignupStatus::parse)
        .transpose()?;
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let found = state
        .facetra
        .onboarding()
        .list(staff, kind, status, &page)
        .await?;
    Ok(Json(List::from_page(found)))
}

/// The waitlist, newest first (support, admin).
#[utoipa::path(get, path = "/admin/v1/waitlist", tag = "admin", params(SignupQuery),
    responses((status = 200, body = List<Signup>), (status = 401), (status = 403), (status = 429)))]
pub async fn waitlist(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    ApiQuery(q): ApiQuery<SignupQuery>,
) -> Result<Json<List<Signup>>, ApiError> {
    signups(
        &state,
        &staff,
        facetra_core::onboarding::SignupKind::Waitlist,
        &q,
    )
    .await
}

/// Demo bookings, newest first (support, admin).
#[utoipa::path(get, path = "/admin/v1/demos", tag = "admin", params(SignupQuery),
    responses((status = 200, body = List<Signup>), (status = 401), (status = 403), (status = 429)))]
pub async fn demos(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    ApiQuery(q): ApiQuery<SignupQuery>,
) -> Result<Json<List<Signup>>, ApiError> {
    signups(
        &state,
        &staff,
        facetra_core::onboarding::SignupKind::Demo,
        &q,
    )
    .await
}

/// Approves a waitlist entry (admin): an invitation for its email, and the "studio ready"
/// email.
#[utoipa::path(post, path = "/admin/v1/waitlist/{id}/approve", tag = "admin",
    responses((status = 200, body = Signup), (status = 401), (status = 403), (status = 404), (status = 429)))]
pub async fn approve(
    State(state): State<AppState>,
    StaffActor(staff): StaffActor,
    Path(id): Path<String>,
) -> Result<Json<Signup>, ApiError> {
    Ok(Json(
        state
            .facetra
            .onboarding()
            .approve(&staff, &id)
            .await?
            .into(),
    ))
}
