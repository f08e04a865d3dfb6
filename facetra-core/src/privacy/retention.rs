//! Retention (DESIGN §5): a loop over the registry, each kind's rule turned into a cut-off on
//! a given day, the store asked to expire what is past it (`PersonalDataStore::expire`), and
//! built exports deleted after their 7 days. `plan` counts, `apply` does the same and its
//! counts equal the plan's. `--as-of` moves only the day used to decide what is due: payment
//! records (and the pseudonymous ledger entries kept with them) are deleted only once their
//! real retention has ended, so a plan for a later day shows them as kept.

use chrono::{Datelike, TimeZone};
use serde::Serialize;
use serde_json::json;

use super::data::{Kind, Retention, REGISTRY};
use super::requests::{RequestFilter, RequestType};
use super::Privacy;
use crate::accounts::StaffOp;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::lease::{work_loop, Lease, Pass, Queue};
use crate::paging::PageRequest;
use crate::Actor;

/// The scheduled task's record in the `Schedules` queue.
const TASK: &str = "retention";
/// How long one server holds the task while it runs.
const TASK_LEASE_MINUTES: i64 = 30;

/// One kind's line of a retention run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionLine {
    pub kind: &'static str,
    /// The rule, in words.
    pub rule: &'static str,
    /// What happens to a record past its time: `anonymise`, `delete`, `purge bodies`, or
    /// `none` (kept while the account is, or until the person deletes it).
    pub action: &'static str,
    /// Records made (or ended) before this are due.
    pub cutoff: Option<Timestamp>,
    /// Records due on the day asked about.
    pub due: u64,
    /// Of those, the ones kept anyway because their real retention has not ended (payment
    /// records under `--as-of`).
    pub kept: u64,
    /// Records changed (by `apply`; what `plan` says `apply` would change).
    pub changed: u64,
}

/// What a retention run found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub as_of: Timestamp,
    pub applied: bool,
    pub lines: Vec<RetentionLine>,
}

/// The first moment after the financial years whose payment records may go on `day`: a
/// payment made before it ended its financial year (31 March) `years` or more years ago.
pub fn payment_cutoff(day: Timestamp, years: i32) -> Timestamp {
    let back = day.year() - years;
    // The financial year that ended most recently on or before `day - years`.
    let april_first = |y: i32| {
        chrono::Utc
            .with_ymd_and_hms(y, 4, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    };
    let shifted = day.with_year(back).unwrap_or(day);
    if shifted >= april_first(back) {
        april_first(back)
    } else {
        april_first(back - 1)
    }
}

fn action(retention: Retention) -> &'static str {
    match retention {
        Retention::NinetyDaysThenAnonymised => "anonymise",
        Retention::UntilDelivered => "purge bodies",
        Retention::SessionLifetime
        | Retention::UntilExpiredOrRevoked
        | Retention::TenMinutes
        | Retention::SevenYears
        | Retention::LedgerEntries
        | Retention::SignupEntries => "delete",
        Retention::WhileActive | Retention::UntilDeleted | Retention::RequestRecords => "none",
    }
}

impl Privacy<'_> {
    /// The cut-off the rule sets on `day`.
    fn cutoff(&self, retention: Retention, day: Timestamp) -> Option<Timestamp> {
        let policy = &self.f.config().retention;
        match retention {
            Retention::NinetyDaysThenAnonymised => {
                Some(day - chrono::Duration::days(policy.log_days))
            }
            Retention::SessionLifetime
            | Retention::UntilExpiredOrRevoked
            | Retention::TenMinutes
            | Retention::UntilDelivered => Some(day),
            Retention::SevenYears | Retention::LedgerEntries => {
                Some(payment_cutoff(day, policy.payment_years))
            }
            Retention::SignupEntries => Some(day - chrono::Duration::days(policy.signup_days)),
            Retention::WhileActive | Retention::UntilDeleted | Retention::RequestRecords => None,
        }
    }

    /// Plans (`apply` false) or applies the retention policy as of `as_of` (today unless
    /// given; never earlier). Applying is audited with the counts.
    pub async fn retention(
        &self,
        actor: &Actor,
        as_of: Option<Timestamp>,
        apply: bool,
    ) -> Result<RetentionReport> {
        self.f.authorize(actor, StaffOp::RunRetention).await?;
        let now = self.f.now();
        let day = as_of.unwrap_or(now);
        if day < now {
            return Err(Error::invalid(
                "as-of",
                "must be today or later (it shows what a future date will bring)",
            ));
        }
        let store = &self.f.store().personal_data;
        let mut lines = Vec::new();
        for info in REGISTRY {
            let cutoff = self.cutoff(info.retention, day);
            let mut line = RetentionLine {
                kind: info.name,
                rule: info.retention.describe(),
                action: action(info.retention),
                cutoff,
                due: 0,
                kept: 0,
                changed: 0,
            };
            if let Some(cutoff) = cutoff {
                line.due = store.expire(info.kind, cutoff, true).await?;
                // Payment records go only once their real retention has ended.
                let real = match info.kind {
                    Kind::Payments | Kind::Ledger => self
                        .cutoff(info.retention, now)
                        .map_or(cutoff, |c| c.min(cutoff)),
                    _ => cutoff,
                };
                let deletable = if real == cutoff {
                    line.due
                } else {
                    store.expire(info.kind, real, true).await?
                };
                line.kept = line.due - deletable.min(line.due);
                line.changed = if apply {
                    store.expire(info.kind, real, false).await?
                } else {
                    deletable
                };
            }
            lines.push(line);
        }
        lines.push(self.expire_exports(day, apply).await?);
        if apply {
            let counts: serde_json::Map<String, serde_json::Value> = lines
                .iter()
                .filter(|l| l.changed > 0)
                .map(|l| (l.kind.to_owned(), json!(l.changed)))
                .collect();
            self.f
                .audit_record(
                    actor,
                    "privacy.retention",
                    None,
                    json!({ "as_of": day, "changed": counts }),
                )
                .await?;
        }
        Ok(RetentionReport {
            as_of: day,
            applied: apply,
            lines,
        })
    }

    /// One scheduled pass: when retention is due and no other server holds it, claims it
    /// (the one lease primitive), applies the policy as the system, and sets the next run
    /// `interval` later. Whether it ran.
    pub async fn run_scheduled_retention(&self, interval: std::time::Duration) -> Result<bool> {
        let store = self.f.store();
        let now = self.f.now();
        store.schedules.ensure_schedule(TASK, now).await?;
        let lease = Lease::fresh("ret", now + chrono::Duration::minutes(TASK_LEASE_MINUTES));
        let claimed = store
            .leases
            .claim(Queue::Schedules, now, &lease, Some(TASK))
            .await?;
        if claimed.is_none() {
            return Ok(false);
        }
        let ran = self.retention(&Actor::System, None, true).await;
        let next = self.f.now()
            + chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(1));
        store
            .schedules
            .finish_run(TASK, &lease.holder, next)
            .await?;
        let report = ran?;
        let changed: u64 = report.lines.iter().map(|l| l.changed).sum();
        tracing::info!(changed, "retention applied");
        Ok(true)
    }

    /// The server's retention schedule: a pass every `interval` (looked for at least once a
    /// minute), until `stop`; a failed pass is logged and tried at the next.
    pub async fn run_retention_schedule(
        &self,
        interval: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let poll = interval.min(std::time::Duration::from_secs(60));
        let ran = work_loop(poll, stop, || async move {
            if let Err(e) = self.run_scheduled_retention(interval).await {
                tracing::warn!(error = %e, "retention pass failed");
            }
            Ok(Pass::Idle)
        })
        .await;
        if let Err(e) = ran {
            tracing::warn!(error = %e, "retention schedule stopped");
        }
    }

    /// Built exports past their days: their ZIPs deleted, the requests keeping the record.
    async fn expire_exports(&self, day: Timestamp, apply: bool) -> Result<RetentionLine> {
        let requests = &self.f.store().requests;
        let mut page = PageRequest {
            after: None,
            limit: PageRequest::MAX_LIMIT,
        };
        let filter = RequestFilter {
            kind: Some(RequestType::Access),
            ..RequestFilter::default()
        };
        let mut due = Vec::new();
        loop {
            let batch = requests.requests(&filter, &page).await?;
            for r in &batch.items {
                if r.export.as_ref().is_some_and(|e| e.expires_at < day) {
                    due.push(r.id.clone());
                }
            }
            match batch.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let mut changed = 0;
        if apply {
            for id in &due {
                let mut blob = None;
                self.change(id, |r| {
                    blob = r.export.take().map(|e| e.blob);
                    Ok(())
                })
                .await?;
                if let Some(blob) = blob {
                    self.f.store().blobs.delete_blob(&blob).await?;
                    changed += 1;
                }
            }
        } else {
            changed = due.len() as u64;
        }
        Ok(RetentionLine {
            kind: "exports",
            rule: "a built export is kept 7 days, then deleted",
            action: "delete",
            cutoff: Some(day),
            due: due.len() as u64,
            kept: 0,
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .unwrap()
    }

    #[test]
    fn payments_go_seven_years_after_the_end_of_their_financial_year() {
        // Made in March 2019 (financial year 2018–19, ended 31 March 2019): due 1 April 2026.
        assert_eq!(
            payment_cutoff(at(2026, 3, 31), 7),
            payment_cutoff(at(2025, 4, 2), 7)
        );
        assert!(at(2019, 3, 15) < payment_cutoff(at(2026, 4, 1), 7));
        assert!(at(2019, 3, 15) >= payment_cutoff(at(2026, 3, 31), 7));
        // Made in April 2019 (financial year 2019–20): kept until 1 April 2027.
        assert!(at(2019, 4, 2) >= payment_cutoff(at(2027, 3, 31), 7));
        assert!(at(2019, 4, 2) < payment_cutoff(at(2027, 4, 1), 7));
    }
}
