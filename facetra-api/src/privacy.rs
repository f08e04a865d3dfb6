//! Privacy requests: the person's view (API.md `PrivacyRequest`) and the DPO's.

use facetra_core::privacy::requests::{Denial, Method, RequestStatus, RequestType, Urgency};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/privacy/requests` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrivacyRequestBody {
    /// `access`, `correction`, `erasure`, `withdraw_consent` or `grievance`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: RequestType,
    /// What the person asks for, in their words (at most 5,000 characters).
    #[serde(default)]
    pub message: Option<String>,
}

/// `PrivacyRequest` of API.md: a request as the person sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PrivacyRequest {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: RequestType,
    #[schema(value_type = String)]
    pub status: RequestStatus,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// What was done, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Why it was turned down, once rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub rejection: Option<Denial>,
}

impl From<facetra_core::privacy::requests::PrivacyRequest> for PrivacyRequest {
    fn from(r: facetra_core::privacy::requests::PrivacyRequest) -> Self {
        PrivacyRequest {
            id: r.id.to_string(),
            kind: r.kind,
            status: r.status,
            received_at: r.received_at,
            due_at: r.due_at,
            outcome: r.outcome,
            rejection: r.rejection.map(|j| j.reason),
        }
    }
}

/// A privacy request as the DPO sees it (`GET /admin/v1/privacy/requests`, `facetra-admin dsr`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StaffPrivacyRequest {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: RequestType,
    #[schema(value_type = String)]
    pub status: RequestStatus,
    /// `account` (made signed in) or `email` (recorded by the DPO).
    pub channel: String,
    /// The address to answer; `null` once the person is erased.
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub message: Option<String>,
    /// Made by the user's nominee on the user's behalf.
    pub nominee: bool,
    pub handler: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// `overdue`, `due_soon`, `on_time` or `closed`, on the day asked about.
    #[schema(value_type = String)]
    pub urgency: Urgency,
    /// How the person was verified, once they were: `session`, `code` or `override`.
    #[schema(value_type = Option<String>)]
    pub verified_by: Option<Method>,
    /// Why the due date moved, when it did.
    pub extension: Option<String>,
    #[schema(value_type = Option<String>)]
    pub rejection: Option<Denial>,
    pub rejection_note: Option<String>,
    pub outcome: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
}

impl StaffPrivacyRequest {
    /// The staff view of `r` on `day`.
    pub fn on(r: facetra_core::privacy::requests::PrivacyRequest, day: Timestamp) -> Self {
        StaffPrivacyRequest {
            urgency: r.urgency(day),
            id: r.id.to_string(),
            kind: r.kind,
            status: r.status,
            channel: r.channel.as_str().to_owned(),
            email: r.email.map(|e| e.as_str().to_owned()),
            user_id: r.user_id.map(|u| u.to_string()),
            message: r.message,
            nominee: r.nominee,
            handler: r.handler.map(|h| h.to_string()),
            received_at: r.received_at,
            due_at: r.due_at,
            verified_by: r.verification.map(|v| v.method),
            extension: r.extension,
            rejection: r.rejection.as_ref().map(|j| j.reason),
            rejection_note: r.rejection.and_then(|j| j.note),
            outcome: r.outcome,
            completed_at: r.completed_at,
        }
    }
}

/// `GET /admin/v1/privacy/requests` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct PrivacyRequestsQuery {
    /// Only requests with this status.
    pub status: Option<String>,
    /// Only requests of this type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only open requests past their due date.
    #[serde(default)]
    pub overdue: bool,
    /// Only open requests due within this many days.
    pub due_within: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// `GET /v1/privacy/export`: the caller's latest export (API.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PrivacyExport {
    /// `none` (no export, or it expired) or `ready`.
    pub status: String,
    /// A fresh signed link to the ZIP, valid until `expires_at`.
    pub url: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// When the ZIP itself is deleted (7 days after it was built).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub kept_until: Option<Timestamp>,
    pub size: Option<u64>,
}

impl From<facetra_core::privacy::export::ExportStatus> for PrivacyExport {
    fn from(s: facetra_core::privacy::export::ExportStatus) -> Self {
        use facetra_core::privacy::export::ExportStatus;
        match s {
            ExportStatus::None => PrivacyExport {
                status: "none".into(),
                url: None,
                expires_at: None,
                kept_until: None,
                size: None,
            },
            ExportStatus::Ready {
                url,
                link_expires_at,
                kept_until,
                size,
            } => PrivacyExport {
                status: "ready".into(),
                url: Some(url),
                expires_at: Some(link_expires_at),
                kept_until: Some(kept_until),
                size: Some(size),
            },
        }
    }
}

/// `PUT /v1/privacy/nominee` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NomineeBody {
    pub name: String,
    pub email: String,
}

/// A user's nominee (DPDP Act s.14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Nominee {
    pub name: String,
    pub email: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<facetra_core::privacy::nominee::Nominee> for Nominee {
    fn from(n: facetra_core::privacy::nominee::Nominee) -> Self {
        Nominee {
            name: n.name,
            email: n.email.as_str().to_owned(),
            created_at: n.created_at,
        }
    }
}
