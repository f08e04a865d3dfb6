//! The mail use cases: queue a rendered template once per subject, deliver what is due
//! (lease, send, then mark sent, retry later or give up), and the operator's view.

use std::sync::Arc;

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::templates::Rendered;
use super::{Mailer, MessageStatus, OutboxMessage};
use crate::accounts::StaffOp;
use crate::error::{Error, Result};
use crate::ids::{MessageId, UserId};
use crate::lease::{work_loop, Lease, Pass, Queue};
use crate::paging::{Page, PageRequest};
use crate::{Actor, Facetra};

/// How many times a message is tried before it is marked failed.
pub const MAX_ATTEMPTS: u32 = 10;
/// How long a sender holds a message it is delivering.
const LEASE_SECS: i64 = 120;

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
}

/// The mail domain, borrowed from the facade.
pub struct Mail<'a> {
    pub(crate) f: &'a Facetra,
}

/// The wait before attempt `attempts + 1`: 30 s doubling to at most an hour, ±25 % jitter,
/// and never shorter than the provider asked for.
pub fn backoff(attempts: u32, retry_after: Option<std::time::Duration>) -> Duration {
    let base = 30i64
        .saturating_mul(1 << attempts.saturating_sub(1).min(7))
        .min(3600);
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    let wait = Duration::milliseconds((base as f64 * 1000.0 * jitter) as i64);
    let asked = retry_after
        .map(|d| Duration::milliseconds(d.as_millis() as i64))
        .unwrap_or_default();
    wait.max(asked)
}

impl Mail<'_> {
    fn mailer(&self) -> &Arc<dyn Mailer> {
        self.f.mailer()
    }

    /// Queues a rendered message to `to`, once per `key`.
    pub(crate) async fn queue(
        &self,
        user: Option<&UserId>,
        to: &str,
        key: &str,
        r: Rendered,
    ) -> Result<()> {
        self.queue_as(&MessageId::new(self.f.now()), user, to, key, r)
            .await
    }

    /// Queues a rendered message under the id `id` (one its caller recorded first), once per
    /// `key`.
    pub(crate) async fn queue_as(
        &self,
        id: &MessageId,
        user: Option<&UserId>,
        to: &str,
        key: &str,
        r: Rendered,
    ) -> Result<()> {
        let now = self.f.now();
        let message = OutboxMessage {
            id: id.clone(),
            user_id: user.cloned(),
            to: to.to_owned(),
            template: r.template.to_owned(),
            subject: r.subject,
            text: r.text,
            html: r.html,
            idempotency_key: key.to_owned(),
            status: MessageStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            provider_message_id: None,
            created_at: now,
            sent_at: None,
        };
        self.f.store().outbox.enqueue(&message).await?;
        Ok(())
    }

    /// One delivery pass: leases what is due, one message at a time (up to `batch`), and
    /// tries each once.
    pub async fn deliver_due(&self, batch: usize) -> Result<DeliveryReport> {
        self.deliver(batch, None).await
    }

    /// Tries the one message `id` now, if it is due and nobody holds it.
    pub(crate) async fn deliver_one(&self, id: &MessageId) -> Result<DeliveryReport> {
        self.deliver(1, Some(id)).await
    }

    async fn deliver(&self, batch: usize, only: Option<&MessageId>) -> Result<DeliveryReport> {
        let (outbox, leases) = (&self.f.store().outbox, &self.f.store().leases);
        let lease = Lease::fresh("snd", self.f.now() + Duration::seconds(LEASE_SECS));
        let mut report = DeliveryReport::default();
        let from = self.f.config().email_from.clone();
        for _ in 0..batch {
            let Some(claimed) = leases
                .claim(
                    Queue::Outbox,
                    self.f.now(),
                    &lease,
                    only.map(MessageId::as_str),
                )
                .await?
            else {
                break;
            };
            let id = MessageId::parse(&claimed.id).ok_or_else(|| {
                Error::Corrupt(format!("an outbox id {:?} in the queue", claimed.id))
            })?;
            let Some(m) = outbox.outbox_message(&id).await? else {
                continue;
            };
            let attempts = m.attempts + 1;
            match self.mailer().send(&from, &m).await {
                Ok(provider_id) => {
                    outbox
                        .mark_sent(&m.id, &lease.holder, &provider_id, self.f.now())
                        .await?;
                    report.sent += 1;
                }
                Err(failure) if failure.permanent || attempts >= MAX_ATTEMPTS => {
                    let why = if failure.permanent {
                        failure.reason
                    } else {
                        format!("gave up after {attempts} attempts: {}", failure.reason)
                    };
                    tracing::warn!(message = %m.id, "mail failed for good");
                    outbox
                        .mark_failed(&m.id, &lease.holder, attempts, &why)
                        .await?;
                    report.failed += 1;
                }
                Err(failure) => {
                    let next = self.f.now() + backoff(attempts, failure.retry_after);
                    outbox
                        .mark_retry(&m.id, &lease.holder, attempts, next, &failure.reason)
                        .await?;
                    report.retried += 1;
                }
            }
        }
        Ok(report)
    }

    /// The server's mail sender: delivers due mail until `stop`, looking every `poll`; a
    /// failed pass is logged and tried again.
    pub async fn run_sender(
        &self,
        poll: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mail = self;
        let sent = work_loop(poll, stop, move || async move {
            Ok(match mail.deliver_due(50).await {
                Ok(r) if r.sent + r.retried + r.failed > 0 => {
                    tracing::info!(
                        sent = r.sent,
                        retried = r.retried,
                        failed = r.failed,
                        "mail delivery pass"
                    );
                    Pass::Worked
                }
                Ok(_) => Pass::Idle,
                Err(e) => {
                    tracing::warn!(error = %e, "mail delivery pass failed");
                    Pass::Idle
                }
            })
        })
        .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "mail sender stopped");
        }
    }

    /// The outbox, newest first (staff); only failed messages with `failed_only`.
    pub async fn outbox(
        &self,
        actor: &Actor,
        failed_only: bool,
        page: &PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        self.f.authorize(actor, StaffOp::ReadOutbox).await?;
        let status = failed_only.then_some(MessageStatus::Failed);
        self.f.store().outbox.list_outbox(status, page).await
    }

    /// Puts a failed message back in the queue (support or admin; audited).
    pub async fn retry(&self, actor: &Actor, id: &str) -> Result<()> {
        self.f.authorize(actor, StaffOp::RetryMail).await?;
        let id = MessageId::parse(id).ok_or(Error::NotFound("message"))?;
        let outbox = &self.f.store().outbox;
        let Some(message) = outbox.outbox_message(&id).await? else {
            return Err(Error::NotFound("message"));
        };
        if !outbox.requeue(&id, self.f.now()).await? {
            return Err(Error::Conflict(format!(
                "message {id} is {}, not failed",
                message.status.as_str()
            )));
        }
        self.f
            .audit_record(
                actor,
                "mail.retry",
                Some(id.as_str()),
                json!({ "template": message.template }),
            )
            .await
    }
}
