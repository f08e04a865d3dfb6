//! The waitlist and demo bookings.

use facetra_core::onboarding::{SignupKind, SignupStatus};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/waitlist` and `POST /v1/demo-bookings` body (`company` is needed for a demo).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SignupBody {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to a form: the entry's id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignupCreated {
    pub id: String,
}

/// A waitlist entry or demo booking as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Signup {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: SignupKind,
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    pub role: Option<String>,
    pub message: Option<String>,
    #[schema(value_type = String)]
    pub status: SignupStatus,
    /// The account made from it, once there is one.
    pub user_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
}

impl From<facetra_core::onboarding::Signup> for Signup {
    fn from(s: facetra_core::onboarding::Signup) -> Self {
        Signup {
            id: s.id.to_string(),
            kind: s.kind,
            name: s.name,
            email: s.email.as_str().to_owned(),
            company: s.company,
            role: s.role,
            message: s.message,
            status: s.status,
            user_id: s.user_id.map(|u| u.to_string()),
            created_at: s.created_at,
            decided_at: s.decided_at,
        }
    }
}

impl From<SignupBody> for facetra_core::onboarding::SignupForm {
    fn from(b: SignupBody) -> Self {
        facetra_core::onboarding::SignupForm {
            name: b.name,
            email: b.email,
            company: b.company,
            role: b.role,
            message: b.message,
        }
    }
}

/// `GET /admin/v1/waitlist` and `/admin/v1/demos` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct SignupQuery {
    /// `pending`, `approved` or `joined`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}
