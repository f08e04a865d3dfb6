//! The signed-in user's own account.

use axum::extract::State;
use axum::Json;
use facetra_core::accounts::User;
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// `User` of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub roles: Vec<String>,
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub consents: ConsentsView,
}

/// The consents as booleans.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentsView {
    pub analytics: bool,
    pub marketing: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name,
            avatar_url: u.avatar_url,
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            status: u.status.as_str().to_owned(),
            created_at: u.created_at,
            consents: ConsentsView {
                analytics: u.consents.analytics.granted,
                marketing: u.consents.marketing.granted,
            },
        }
    }
}

/// `PATCH /v1/me` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchMe {
    pub name: String,
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "account", responses((status = 200, body = UserView), (status = 401)))]
pub async fn get_me(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.facetra.accounts().me(&p.actor()).await?.into()))
}

/// Changes the caller's name.
#[utoipa::path(patch, path = "/v1/me", tag = "account", request_body = PatchMe,
    responses((status = 200, body = UserView), (status = 400), (status = 401), (status = 403), (status = 415)))]
pub async fn patch_me(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<PatchMe>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .accounts()
            .update_name(&p.actor(), &body.name)
            .await?
            .into(),
    ))
}
