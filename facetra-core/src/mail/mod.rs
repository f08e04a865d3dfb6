//! Transactional mail: templates, the outbox in the store, and the sender that delivers it
//! through Resend (or, on the embedded default, into files under `<data dir>/outbox/`).
//! Nothing is lost when the provider is down (messages wait in the outbox and are retried with
//! jittered exponential backoff) and nothing is sent twice (each message is leased by one
//! sender at a time and carries an `Idempotency-Key`). Bodies are purged once delivered.

pub mod file;
pub mod resend;
mod service;
pub mod store;
pub mod templates;

pub use service::{DeliveryReport, Mail};

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{MessageId, UserId};

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    Sent,
    /// Given up: a permanent error, or too many attempts.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<MessageStatus> {
        match s {
            "pending" => Ok(MessageStatus::Pending),
            "sent" => Ok(MessageStatus::Sent),
            "failed" => Ok(MessageStatus::Failed),
            other => Err(Error::Corrupt(format!("unknown message status {other:?}"))),
        }
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub user_id: Option<UserId>,
    pub to: String,
    /// The template's name (`welcome`, `payment_receipt`, …).
    pub template: String,
    pub subject: String,
    /// Emptied once delivered.
    pub text: String,
    pub html: String,
    /// What the message is about (`welcome:{user}`, `receipt:{payment}`): queued once.
    pub idempotency_key: String,
    pub status: MessageStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// A delivery that did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Whether trying again cannot help (validation errors, quota exhausted, bad key).
    pub permanent: bool,
    /// The provider's own wait, when it gave one (`retry-after`).
    pub retry_after: Option<Duration>,
    pub reason: String,
}

/// Something that delivers one message.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Delivers `message` from `from`; the provider's message id.
    async fn send(
        &self,
        from: &str,
        message: &OutboxMessage,
    ) -> std::result::Result<String, SendFailure>;

    /// Removes any copy of a sent message this mailer keeps (the file mailer's file); whether
    /// there was one. A provider's own records (Resend's log) are the provider's.
    async fn forget(&self, _message: &MessageId) -> Result<bool> {
        Ok(false)
    }
}
