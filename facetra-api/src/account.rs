//! Accounts and sign-in.

use facetra_core::accounts::{Role, Scope, UserStatus};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `User` of API.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    #[schema(value_type = String)]
    pub status: UserStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub consents: Consents,
}

/// The consents as booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consents {
    pub analytics: bool,
    pub marketing: bool,
}

impl From<facetra_core::accounts::User> for User {
    fn from(u: facetra_core::accounts::User) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name,
            avatar_url: u.avatar_url,
            roles: u.roles,
            status: u.status,
            created_at: u.created_at,
            consents: Consents::from(&u.consents),
        }
    }
}

/// `PUT /v1/me/consents` body: a consent left out stays as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ConsentsBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<bool>,
}

impl From<&facetra_core::accounts::Consents> for Consents {
    fn from(c: &facetra_core::accounts::Consents) -> Self {
        Consents {
            analytics: c.analytics.granted,
            marketing: c.marketing.granted,
        }
    }
}

/// `{"name"}`: `PATCH /v1/me`, and portfolios.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NameBody {
    pub name: String,
}

/// `POST /auth/dev-login` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DevLoginBody {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub age_confirmed: bool,
}

/// `POST /auth/google/id-token` body (the token never shows in `Debug`).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct IdTokenBody {
    pub id_token: String,
    /// Needed when the sign-in creates the account.
    #[serde(default)]
    pub age_confirmed: bool,
}

impl std::fmt::Debug for IdTokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenBody")
            .field("id_token", &"(redacted)")
            .field("age_confirmed", &self.age_confirmed)
            .finish()
    }
}

/// A sign-in's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    pub user: User,
    pub new_account: bool,
}

/// `POST /v1/tokens` body: `expires_in_days` defaults to the most the server allows,
/// `scopes` to both (`read`, `write`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
}

/// An API token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl From<facetra_core::accounts::ApiToken> for Token {
    fn from(t: facetra_core::accounts::ApiToken) -> Self {
        Token {
            id: t.id.to_string(),
            name: t.name,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// `POST /v1/tokens` answer: the token itself, shown this once (and never in `Debug`).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub token: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

impl
    From<(
        facetra_core::accounts::ApiToken,
        facetra_core::security::RawToken,
    )> for CreatedToken
{
    fn from(
        (t, raw): (
            facetra_core::accounts::ApiToken,
            facetra_core::security::RawToken,
        ),
    ) -> Self {
        CreatedToken {
            id: t.id.to_string(),
            name: t.name,
            token: raw.expose().to_owned(),
            scopes: t.scopes,
            expires_at: t.expires_at,
        }
    }
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"fct_…(redacted)")
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `GET /v1/tokens` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    pub items: Vec<Token>,
}

/// `GET /admin/v1/users` query: one account by `email`, else a page of them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct UsersQuery {
    pub email: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// `POST /admin/v1/users/{id}/credits` body. The same `idempotency_key` grants once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantBody {
    pub amount: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// `PUT /admin/v1/users/{id}/roles` body: the whole set (`user` is always kept).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RolesBody {
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
}
