//! Accounts and sign-in.

use facetra_core::accounts::{Role, UserStatus};
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
            consents: Consents {
                analytics: u.consents.analytics.granted,
                marketing: u.consents.marketing.granted,
            },
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

/// A sign-in's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    pub user: User,
    pub new_account: bool,
}
