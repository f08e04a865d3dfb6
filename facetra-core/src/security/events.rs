//! The security-event port: sign-in failures, rate-limit hits, bad signatures, payment
//! webhooks that do not match their order, admin actions worth a second look. Built in its
//! final form at first use (payments) so later issues only add kinds. Events hold ids, kinds
//! and counts; an IP only where the event is about a request (kept under the 90-day log
//! retention). Events anyone can cause without an account (badly signed webhooks, later
//! rate-limit hits) are counted per kind and window instead of stored one by one, so a storm
//! of them cannot grow the store without bound.

use std::future::Future;
use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{SecurityEventId, UserId};
use crate::paging::{Page, PageRequest};

tokio::task_local! {
    static CLIENT_IP: Option<IpAddr>;
}

/// Runs `f` as the handling of a request from `ip`: the security events it records carry it.
/// The server wraps every request in it; work with no request behind it records no IP.
pub async fn with_client_ip<F: Future>(ip: Option<IpAddr>, f: F) -> F::Output {
    CLIENT_IP.scope(ip, f).await
}

/// The client IP of the request being handled, if any.
pub fn client_ip() -> Option<IpAddr> {
    CLIENT_IP.try_with(|ip| *ip).ok().flatten()
}

/// A recorded security event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    pub id: SecurityEventId,
    pub at: Timestamp,
    /// Dotted kind, e.g. `payment.webhook_mismatch`, `auth.dev_login`.
    pub kind: String,
    pub user_id: Option<UserId>,
    pub ip: Option<String>,
    /// Ids and counts only.
    pub details: serde_json::Value,
    /// How many times it happened: 1, or more for an event counted per window
    /// (`count_security_event`).
    pub count: u64,
}

/// How long a counted event's window is: a storm of them makes one record per kind and window.
pub const COUNT_WINDOW_SECS: i64 = 600;

/// Persistence for security events.
#[async_trait]
pub trait SecurityEventStore: Send + Sync {
    async fn record_security_event(&self, event: &SecurityEvent) -> Result<()>;
    /// Adds one to the event with `event.id` (the id of its kind, window and, for events per
    /// client, the client), creating it (with a count of 1, and `event.ip`) the first time;
    /// the store grows by one record per window, however many arrive. The count after.
    async fn count_security_event(&self, event: &SecurityEvent) -> Result<u64>;
    /// One event by id (a counted event's current count, for a lock-out).
    async fn security_event(&self, id: &SecurityEventId) -> Result<Option<SecurityEvent>>;
    /// Events, newest first; only those of `kind` when given.
    async fn security_events(
        &self,
        kind: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<SecurityEvent>>;
}
