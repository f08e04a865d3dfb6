//! The HTTP API's types (API.md), defined once. `facetra-server` answers them, `facetra
//! --json` prints them, and the CLI's remote client reads them, so the three can never drift.
//! Each type converts from core's domain type in exactly one `From`; nothing here decides
//! anything (core does). Conventions: a list is [`List`] (`{"items", "next_cursor"}`), a
//! single object is the object itself, times are RFC 3339 in UTC, variants are numbered from 1
//! everywhere a person sees them.

mod account;
mod credits;
mod messages;
mod onboarding;
mod privacy;
mod studio;

pub use account::{
    Consents, ConsentsBody, CreatedToken, DevLoginBody, GrantBody, IdTokenBody, NameBody, NewToken,
    RolesBody, SignedIn, Token, Tokens, User, UsersQuery,
};
pub use credits::{
    Balance, Checkout, Order, Pack, PackChoice, Packs, PaymentLink, Transaction, VerifyBody,
};
pub use messages::{EventBody, Message, MessageReply, NewMessage, ReplyBody, StaffMessage};
pub use onboarding::{Signup, SignupBody, SignupCreated, SignupQuery};
pub use privacy::{
    Nominee, NomineeBody, PrivacyExport, PrivacyRequest, PrivacyRequestBody, PrivacyRequestsQuery,
    StaffPrivacyRequest,
};
pub use studio::{
    Bom, BomEdit, BomItem, Download, Job, JobAccepted, Portfolio, PortfolioRenders, Provenance,
    Quote, Render, RenderQuery, RenderRequest, Upload, Variant,
};

use facetra_core::paging::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every error answer: `{"error": {"code", "message", "request_id"}}` (API.md, Conventions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable snake_case `code` (core's `Error::code`), a sentence for a
/// person, and the request id to quote in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// One page of a list: `{"items": [...], "next_cursor": "…" | null}`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// The API's page from core's, each item converted.
    pub fn from_page<U>(page: Page<U>) -> List<T>
    where
        T: From<U>,
    {
        List {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// `?cursor=&limit=` of every list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Where the previous page ended (its `next_cursor`).
    pub cursor: Option<String>,
    /// At most this many (1–100, default 50).
    pub limit: Option<usize>,
}

impl ListQuery {
    /// Core's page request, or the reason it is not one.
    pub fn page(&self) -> facetra_core::Result<PageRequest> {
        PageRequest::parse(self.cursor.as_deref(), self.limit)
    }
}
