//! In-app messages and page-view events.

use facetra_core::messages::{Author, MessageKind, ThreadStatus};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/messages` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewMessage {
    /// `support`, `feedback` or `grievance`.
    #[schema(value_type = String)]
    pub kind: MessageKind,
    pub subject: String,
    /// At most 10,000 characters.
    pub body: String,
}

/// `POST /v1/messages/{id}/replies` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplyBody {
    pub body: String,
}

/// One reply in a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageReply {
    /// `user` or `staff`.
    #[schema(value_type = String)]
    pub from: Author,
    pub body: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// `Message` of API.md: a thread as its user sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: MessageKind,
    pub subject: String,
    /// `open`, `answered` or `closed`.
    #[schema(value_type = String)]
    pub status: ThreadStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub replies: Vec<MessageReply>,
    pub body: String,
}

impl From<facetra_core::messages::Thread> for Message {
    fn from(t: facetra_core::messages::Thread) -> Self {
        Message {
            id: t.id.to_string(),
            kind: t.kind,
            subject: t.subject,
            status: t.status,
            created_at: t.created_at,
            replies: t
                .replies
                .into_iter()
                .map(|r| MessageReply {
                    from: r.from,
                    body: r.body,
                    created_at: r.created_at,
                })
                .collect(),
            body: t.body,
        }
    }
}

/// A thread as staff see it: the user's view, whose it is, and the grievance request it opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StaffMessage {
    #[serde(flatten)]
    pub message: Message,
    pub user_id: String,
    pub request_id: Option<String>,
}

impl From<facetra_core::messages::Thread> for StaffMessage {
    fn from(t: facetra_core::messages::Thread) -> Self {
        StaffMessage {
            user_id: t.user_id.to_string(),
            request_id: t.request_id.as_ref().map(|r| r.to_string()),
            message: Message::from(t),
        }
    }
}

/// `POST /v1/events` body: `{"type": "page_view", "path": "/studio"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
}
