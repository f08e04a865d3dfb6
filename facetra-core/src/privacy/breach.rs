//! Breach notices (DESIGN §5, privacy policy §7): a breach is recorded with when it was
//! detected and its deadlines — the Data Protection Board's 72 hours and CERT-In's 6 hours —
//! which `breach list` shows until they are met; affected users are emailed through the outbox
//! (once each per breach) and who was told when is recorded. The breach's own record holds no
//! one's personal data; the notices (one per person told) are a registered kind.

use async_trait::async_trait;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Privacy;
use crate::accounts::{StaffOp, User, UserStatus};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BreachId, UserId};
use crate::mail::templates;
use crate::paging::{Page, PageRequest};
use crate::Actor;

/// Hours from detection within which the Data Protection Board must be told.
pub const BOARD_HOURS: i64 = 72;
/// Hours from detection within which CERT-In must be told.
pub const CERT_IN_HOURS: i64 = 6;

/// Who must be told of a breach, besides the people affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// The Data Protection Board of India (72 hours).
    Board,
    /// CERT-In (6 hours).
    CertIn,
}

impl Authority {
    pub fn parse(s: &str) -> Result<Authority> {
        match s.trim() {
            "board" => Ok(Authority::Board),
            "cert-in" | "cert_in" | "certin" => Ok(Authority::CertIn),
            other => Err(Error::invalid(
                "to",
                format!("{other:?} is not board or cert-in"),
            )),
        }
    }
}

/// A recorded breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub id: BreachId,
    pub detected_at: Timestamp,
    pub opened_at: Timestamp,
    /// What happened, in the DPO's words (no one's personal data).
    pub summary: String,
    pub board_due: Timestamp,
    pub cert_in_due: Timestamp,
    pub board_told_at: Option<Timestamp>,
    pub cert_in_told_at: Option<Timestamp>,
    /// How many people have been emailed.
    pub notified: u64,
}

/// Where one deadline stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    Met,
    Open,
    Missed,
}

impl Breach {
    /// The Board's and CERT-In's deadlines on `day`.
    pub fn deadlines(&self, day: Timestamp) -> (Deadline, Deadline) {
        let state = |told: Option<Timestamp>, due: Timestamp| match told {
            Some(_) => Deadline::Met,
            None if day > due => Deadline::Missed,
            None => Deadline::Open,
        };
        (
            state(self.board_told_at, self.board_due),
            state(self.cert_in_told_at, self.cert_in_due),
        )
    }
}

/// One person told of a breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachNotice {
    pub breach_id: BreachId,
    pub user_id: UserId,
    pub message_id: crate::ids::MessageId,
    pub notified_at: Timestamp,
}

/// Persistence for breaches and their notices.
#[async_trait]
pub trait BreachStore: Send + Sync {
    async fn insert_breach(&self, breach: &Breach) -> Result<()>;
    async fn breach(&self, id: &BreachId) -> Result<Option<Breach>>;
    /// Breaches, newest first (by when they were recorded).
    async fn breaches(&self, page: &PageRequest) -> Result<Page<Breach>>;
    /// Records that `authority` was told at `at`; false when it was already.
    async fn mark_told(&self, id: &BreachId, authority: Authority, at: Timestamp) -> Result<bool>;
    /// Records a notice unless the person was told of this breach already; whether it was
    /// new (and the breach's count then grows by one).
    async fn insert_notice(&self, notice: &BreachNotice) -> Result<bool>;
    /// Whether the person was told of the breach.
    async fn notified(&self, id: &BreachId, user: &UserId) -> Result<bool>;
}

/// Who a breach notice goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// Every active account.
    All,
    /// These accounts, by id or email.
    Listed(Vec<String>),
}

/// What a notice run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NoticeReport {
    pub breach: String,
    pub dry_run: bool,
    /// Emailed now (or, dry, would be).
    pub notified: u64,
    /// Told before: not emailed again.
    pub already: u64,
    /// Listed but not an active account.
    pub skipped: Vec<String>,
}

fn summary_text(summary: &str) -> Result<String> {
    let s = summary.trim();
    if s.is_empty() || s.chars().count() > 2000 || s.contains('\0') {
        return Err(Error::invalid(
            "summary",
            "say what happened in at most 2,000 characters",
        ));
    }
    Ok(s.to_owned())
}

impl Privacy<'_> {
    /// Records a breach detected at `detected_at` (not in the future) with its deadlines.
    pub async fn open_breach(
        &self,
        actor: &Actor,
        detected_at: Timestamp,
        summary: &str,
    ) -> Result<Breach> {
        self.f.authorize(actor, StaffOp::HandleBreaches).await?;
        let now = self.f.now();
        if detected_at > now {
            return Err(Error::invalid(
                "detected-at",
                "is in the future; give when the breach was detected",
            ));
        }
        let breach = Breach {
            id: BreachId::new(now),
            detected_at,
            opened_at: now,
            summary: summary_text(summary)?,
            board_due: detected_at + Duration::hours(BOARD_HOURS),
            cert_in_due: detected_at + Duration::hours(CERT_IN_HOURS),
            board_told_at: None,
            cert_in_told_at: None,
            notified: 0,
        };
        self.f.store().breaches.insert_breach(&breach).await?;
        self.f
            .audit_record(actor, "breach.open", Some(breach.id.as_str()), json!({}))
            .await?;
        Ok(breach)
    }

    /// Breaches, newest first.
    pub async fn breaches(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Breach>> {
        self.f.authorize(actor, StaffOp::HandleBreaches).await?;
        self.f.store().breaches.breaches(page).await
    }

    async fn breach_by(&self, id: &str) -> Result<Breach> {
        let id = BreachId::parse(id.trim()).ok_or(Error::NotFound("breach"))?;
        self.f
            .store()
            .breaches
            .breach(&id)
            .await?
            .ok_or(Error::NotFound("breach"))
    }

    /// Records that the Board or CERT-In was told, now.
    pub async fn report_breach(
        &self,
        actor: &Actor,
        id: &str,
        authority: Authority,
    ) -> Result<Breach> {
        self.f.authorize(actor, StaffOp::HandleBreaches).await?;
        let breach = self.breach_by(id).await?;
        let store = &self.f.store().breaches;
        if !store.mark_told(&breach.id, authority, self.f.now()).await? {
            return Err(Error::Conflict(format!(
                "that authority was told of {} already",
                breach.id
            )));
        }
        self.f
            .audit_record(
                actor,
                "breach.report",
                Some(breach.id.as_str()),
                json!({ "to": authority }),
            )
            .await?;
        self.breach_by(breach.id.as_str()).await
    }

    /// Emails the affected people (once each per breach) through the outbox and records who
    /// was told when; with `dry_run`, counts and changes nothing. `message` replaces the
    /// standard notice's paragraph about what happened.
    pub async fn notify_breach(
        &self,
        actor: &Actor,
        id: &str,
        recipients: &Recipients,
        message: Option<&str>,
        dry_run: bool,
    ) -> Result<NoticeReport> {
        self.f.authorize(actor, StaffOp::HandleBreaches).await?;
        let breach = self.breach_by(id).await?;
        let what = match message {
            Some(m) => summary_text(m)?,
            None => breach.summary.clone(),
        };
        let mut report = NoticeReport {
            breach: breach.id.to_string(),
            dry_run,
            ..NoticeReport::default()
        };
        let mut users: Vec<User> = Vec::new();
        match recipients {
            Recipients::All => {
                let mut page = PageRequest {
                    after: None,
                    limit: PageRequest::MAX_LIMIT,
                };
                loop {
                    let batch = self.f.store().accounts.list_users(&page).await?;
                    users.extend(
                        batch
                            .items
                            .into_iter()
                            .filter(|u| u.status == UserStatus::Active),
                    );
                    match batch.next {
                        Some(next) => page.after = Some(next),
                        None => break,
                    }
                }
            }
            Recipients::Listed(names) => {
                for name in names {
                    match self.f.accounts().lookup(name).await {
                        Ok(u) if u.status == UserStatus::Active => users.push(u),
                        Ok(_) | Err(Error::NotFound(_) | Error::Invalid { .. }) => {
                            report.skipped.push(name.clone());
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        let store = &self.f.store().breaches;
        for user in users {
            if store.notified(&breach.id, &user.id).await? {
                report.already += 1;
                continue;
            }
            report.notified += 1;
            if dry_run {
                continue;
            }
            let message_id = crate::ids::MessageId::new(self.f.now());
            self.f
                .mail()
                .queue_as(
                    &message_id,
                    Some(&user.id),
                    user.email.as_str(),
                    &format!("breach:{}:{}", breach.id, user.id),
                    templates::breach_notice(&user.name, &what, breach.detected_at),
                )
                .await?;
            store
                .insert_notice(&BreachNotice {
                    breach_id: breach.id.clone(),
                    user_id: user.id.clone(),
                    message_id,
                    notified_at: self.f.now(),
                })
                .await?;
        }
        if !dry_run {
            self.f
                .audit_record(
                    actor,
                    "breach.notify",
                    Some(breach.id.as_str()),
                    json!({ "notified": report.notified, "already": report.already, "skipped": report.skipped.len() }),
                )
                .await?;
        }
        Ok(report)
    }
}
