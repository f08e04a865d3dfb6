//! The outbox port. Messages are claimed through the one lease primitive (`lease::LeaseStore`,
//! queue `Outbox`), so several senders never deliver the same message at once and a crashed
//! sender's messages come back; the state changes below are guarded by that lease.

use async_trait::async_trait;

use super::{MessageStatus, OutboxMessage};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::MessageId;
use crate::paging::{Page, PageRequest};

/// Persistence for the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message unless one with the same idempotency key exists; whether it was queued.
    async fn enqueue(&self, message: &OutboxMessage) -> Result<bool>;
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
    /// Forgets who a delivered or failed message went to (its address, bodies and last
    /// error), keeping that it was sent and when; false while it is still pending.
    async fn purge_recipient(&self, id: &MessageId) -> Result<bool>;
    /// Puts a failed message back in the queue, due at `at`; false unless it had failed.
    async fn requeue(&self, id: &MessageId, at: Timestamp) -> Result<bool>;
}
