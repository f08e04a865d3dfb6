//! The outbox port. Messages are claimed with an expiring lease (`store::Lease`, the lease
//! primitive render jobs share: a holder and an expiry on the record, taken only when free or
//! expired), so several senders
//! never deliver the same message at once, and a crashed sender's messages come back.

use async_trait::async_trait;

use super::{MessageStatus, OutboxMessage};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::MessageId;
pub use crate::store::Lease;
use crate::store::{Page, PageRequest};

/// Persistence for the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message unless one with the same idempotency key exists; whether it was queued.
    async fn enqueue(&self, message: &OutboxMessage) -> Result<bool>;
    /// Leases up to `limit` pending messages that are due at `now` and not leased by anyone
    /// else (or whose lease expired), oldest due first.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: &Lease,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>>;
    /// Marks a leased message sent and purges its body; false if the lease was lost.
    async fn mark_sent(
        &self,
        id: &MessageId,
        holder: &str,
        provider_id: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Schedules another attempt and releases the lease.
    async fn mark_retry(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        next: Timestamp,
        error: &str,
    ) -> Result<bool>;
    /// Gives up on a message, keeping the reason, and releases the lease.
    async fn mark_failed(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        error: &str,
    ) -> Result<bool>;
    /// Messages, newest first; only those with `status` when given.
    async fn list_outbox(
        &self,
        status: Option<MessageStatus>,
        page: &PageRequest,
    ) -> Result<Page<OutboxMessage>>;
    async fn outbox_message(&self, id: &MessageId) -> Result<Option<OutboxMessage>>;
    /// Puts a failed message back in the queue, due at `at`; false unless it had failed.
    async fn requeue(&self, id: &MessageId, at: Timestamp) -> Result<bool>;
}
