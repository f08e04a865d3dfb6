//! Privacy requests (DESIGN §5): what a person asked for, who handles it, by when, how the
//! person was verified and what was done. The model and its port; the use cases are in
//! `dsr` (intake, verification, the queue) and `erasure`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::accounts::Email;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{MessageId, RequestId, UserId};
use crate::names::names;
use crate::paging::{Page, PageRequest};

/// Days from receipt to the due date (privacy policy §5: "within 30 days").
pub const DUE_DAYS: i64 = 30;
/// A request due within this many days stands out as due soon.
pub const DUE_SOON_DAYS: i64 = 7;
/// How long a verification code is valid.
pub const CODE_MINUTES: i64 = 10;
/// Wrong codes after which the request is void.
pub const CODE_TRIES: u32 = 3;

names!(
    /// What the person asks for (privacy policy §6).
    RequestType {
        Access => "access",
        Correction => "correction",
        Erasure => "erasure",
        WithdrawConsent => "withdraw_consent",
        Grievance => "grievance",
    }
);

names!(
    /// Where a request is: `received → verified → in_progress → completed | rejected`.
    RequestStatus {
        Received => "received",
        Verified => "verified",
        InProgress => "in_progress",
        Completed => "completed",
        Rejected => "rejected",
    }
);

names!(
    /// Why a request was turned down: a fixed list (DESIGN §5).
    Denial {
        InsufficientVerification => "insufficient_verification",
        NoMatch => "no_match",
        NotCovered => "not_covered",
        SuspectedFraud => "suspected_fraud",
        TooManyRequests => "too_many_requests",
        Other => "other",
    }
);

names!(
    /// How the request reached us.
    Channel {
        Account => "account",
        Email => "email",
    }
);

names!(
    /// How the person was verified.
    Method {
        Session => "session",
        Code => "code",
        Override => "override",
    }
);

impl RequestStatus {
    /// Whether the request is finished either way.
    pub fn is_closed(self) -> bool {
        matches!(self, RequestStatus::Completed | RequestStatus::Rejected)
    }
}

impl Denial {
    /// The reason in the person's words, for the rejection email.
    pub fn describe(self) -> &'static str {
        match self {
            Denial::InsufficientVerification => {
                "we could not verify that the request came from the account's owner"
            }
            Denial::NoMatch => "we hold no data matching the request",
            Denial::NotCovered => "the request is not one the privacy policy or the law covers",
            Denial::SuspectedFraud => {
                "the request looked like an attempt to reach someone else's data"
            }
            Denial::TooManyRequests => "the same request was made too many times in a short while",
            Denial::Other => "of the reason given below",
        }
    }
}

/// How and when the person was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub method: Method,
    pub at: Timestamp,
    /// The staff member who verified (a code or an override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserId>,
    /// Why an override was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A verification code mailed and not yet used: only its keyed hash is kept.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub hash: String,
    pub expires_at: Timestamp,
    pub wrong_tries: u32,
}

impl std::fmt::Debug for PendingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCode")
            .field("expires_at", &self.expires_at)
            .field("wrong_tries", &self.wrong_tries)
            .finish_non_exhaustive()
    }
}

/// Why a request was turned down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub reason: Denial,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One kind's line of an erasure report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindReport {
    pub kind: String,
    pub removed: u64,
    pub anonymised: u64,
    pub kept: u64,
    /// Why what is kept is kept (the kind's retention), when something is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_kept: Option<String>,
}

/// An erasure's recorded progress, so an interrupted one resumes where it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureProgress {
    /// What kept records are re-keyed to (random: no way back to the person).
    pub pseudonym: String,
    /// Rows of others that carried one of the person's IP addresses, anonymised (per kind);
    /// `None` until that step has run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_ips: Option<Vec<KindReport>>,
    /// The kinds finished, with what each did.
    #[serde(default)]
    pub done: Vec<KindReport>,
    /// The completion notice, queued before the data goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<MessageId>,
    /// Credits forfeited with the account.
    #[serde(default)]
    pub forfeited_credits: i64,
}

/// A built export: the ZIP, kept as a blob of the person's until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    pub blob: crate::ids::BlobId,
    pub size: u64,
    pub files: u64,
    pub expires_at: Timestamp,
}

/// A privacy request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRequest {
    pub id: RequestId,
    #[serde(rename = "type")]
    pub kind: RequestType,
    pub status: RequestStatus,
    pub channel: Channel,
    /// The account it is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Where to write to the person; gone once the person is erased (the hash stays).
    #[serde(skip)]
    pub email: Option<Email>,
    /// The keyed hash of the email: what an erased person's request keeps.
    pub email_hash: String,
    /// The person's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Made by the user's nominee (the email is the nominee's).
    #[serde(default)]
    pub nominee: bool,
    /// The staff member handling it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<UserId>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    /// Why the due date was moved, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<PendingCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// How it was answered (what was done, by whom), in the DPO's words; no personal values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<ErasureProgress>,
    /// An access request's export, once built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportFile>,
    pub updated_at: Timestamp,
    /// Bumped by every change: a change based on an older version is refused.
    pub version: u32,
}

/// How close a request is to its due date, on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Closed,
    Overdue,
    DueSoon,
    OnTime,
}

impl PrivacyRequest {
    /// How close to its due date the request is on `day`.
    pub fn urgency(&self, day: Timestamp) -> Urgency {
        if self.status.is_closed() {
            Urgency::Closed
        } else if self.due_at < day {
            Urgency::Overdue
        } else if self.due_at < day + chrono::Duration::days(DUE_SOON_DAYS) {
            Urgency::DueSoon
        } else {
            Urgency::OnTime
        }
    }

    /// Whether the person has been verified (nothing is exported or erased before).
    pub fn is_verified(&self) -> bool {
        self.verification.is_some()
    }
}

/// Which requests a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub kind: Option<RequestType>,
    pub user: Option<UserId>,
    /// Only open requests due before this time.
    pub open_due_before: Option<Timestamp>,
}

/// Persistence for privacy requests.
#[async_trait]
pub trait RequestStore: Send + Sync {
    async fn insert_request(&self, request: &PrivacyRequest) -> Result<()>;
    async fn request(&self, id: &RequestId) -> Result<Option<PrivacyRequest>>;
    /// Replaces the request when it is still at `request.version - 1`; false when another
    /// change came first (read it again).
    async fn update_request(&self, request: &PrivacyRequest) -> Result<bool>;
    /// Requests newest first.
    async fn requests(
        &self,
        filter: &RequestFilter,
        page: &PageRequest,
    ) -> Result<Page<PrivacyRequest>>;
}
