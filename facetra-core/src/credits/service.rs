//! The credits use cases: packs, balances, history, trial and staff grants, and `verify`,
//! which replays every ledger.

use serde_json::json;

use super::{Appended, LedgerEntry, LedgerKind, NewLedgerEntry, Pack};
use crate::accounts::StaffOp;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::paging::{Page, PageRequest};
use crate::{Actor, Facetra};

/// A ledger that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerProblem {
    pub user_id: UserId,
    pub seq: u64,
    pub problem: String,
}

/// The result of replaying every ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerReport {
    pub accounts: u64,
    pub entries: u64,
    pub problems: Vec<LedgerProblem>,
}

/// The credits domain, borrowed from the facade.
pub struct Credits<'a> {
    pub(crate) f: &'a Facetra,
}

impl Credits<'_> {
    /// The packs on sale.
    pub fn packs(&self) -> &[Pack] {
        &self.f.config().packs
    }

    /// One pack by id.
    pub fn pack(&self, id: &str) -> Result<&Pack> {
        self.packs().iter().find(|p| p.id == id).ok_or_else(|| {
            let ids: Vec<&str> = self.packs().iter().map(|p| p.id.as_str()).collect();
            Error::invalid(
                "pack_id",
                format!("unknown pack {id:?}; choose one of {}", ids.join(", ")),
            )
        })
    }

    /// The actor's balance.
    pub async fn balance(&self, actor: &Actor) -> Result<i64> {
        let me = self.f.accounts().me(actor).await?;
        self.f.store().ledger.balance(&me.id).await
    }

    /// The actor's ledger, newest first.
    pub async fn transactions(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<LedgerEntry>> {
        let me = self.f.accounts().me(actor).await?;
        self.f.store().ledger.ledger_page(&me.id, page).await
    }

    /// Appends an entry (for the domains that charge, refund and credit).
    pub(crate) async fn append(&self, entry: NewLedgerEntry) -> Result<Appended> {
        self.f
            .store()
            .ledger
            .append_ledger(&entry, self.f.now())
            .await
    }

    /// Gives a new account its trial credits, once (key `trial:{user}`).
    pub(crate) async fn grant_trial(&self, user: &UserId) -> Result<()> {
        let amount = self.f.config().trial_credits;
        if amount <= 0 {
            return Ok(());
        }
        self.append(NewLedgerEntry {
            user_id: user.clone(),
            kind: LedgerKind::Trial,
            amount,
            reason: "trial credits for a new account".into(),
            reference: None,
            idempotency_key: format!("trial:{user}"),
        })
        .await?;
        Ok(())
    }

    /// Grants credits to a user (needs `admin`; a reason is required; audited).
    pub async fn grant(
        &self,
        actor: &Actor,
        user: &str,
        amount: i64,
        reason: &str,
        key: Option<&str>,
    ) -> Result<Appended> {
        self.f.authorize(actor, StaffOp::GrantCredits).await?;
        if amount <= 0 {
            return Err(Error::invalid(
                "amount",
                "must be a positive number of credits",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(Error::invalid("reason", "say why (1 to 500 characters)"));
        }
        let target = self.f.accounts().lookup(user).await?;
        let key = match key {
            Some(k) if !k.trim().is_empty() => format!("grant:{}", k.trim()),
            _ => format!("grant:{}", crate::ids::random("g")),
        };
        let appended = self
            .append(NewLedgerEntry {
                user_id: target.id.clone(),
                kind: LedgerKind::Grant,
                amount,
                reason: reason.to_owned(),
                reference: None,
                idempotency_key: key,
            })
            .await?;
        if let Appended::Applied(entry) = &appended {
            self.f
                .audit_record(
                    actor,
                    "credits.grant",
                    Some(target.id.as_str()),
                    json!({ "amount": amount, "entry": entry.id }),
                )
                .await?;
        }
        Ok(appended)
    }

    /// A user's ledger, newest first (staff).
    pub async fn ledger(
        &self,
        actor: &Actor,
        user: &str,
        page: &PageRequest,
    ) -> Result<Page<LedgerEntry>> {
        self.f.authorize(actor, StaffOp::ReadLedgers).await?;
        let target = self.f.accounts().lookup(user).await?;
        self.f.store().ledger.ledger_page(&target.id, page).await
    }

    /// Replays every person's ledger: each entry's balance must equal the running sum, never
    /// below zero, with contiguous sequence numbers. Pseudonymous ledgers (what erasures kept)
    /// are skipped.
    pub async fn verify(&self, actor: &Actor) -> Result<LedgerReport> {
        self.f.authorize(actor, StaffOp::VerifyLedgers).await?;
        let ledger = &self.f.store().ledger;
        let mut report = LedgerReport {
            accounts: 0,
            entries: 0,
            problems: Vec::new(),
        };
        let mut after: Option<UserId> = None;
        loop {
            let accounts = ledger.ledger_accounts(after.as_ref(), 500).await?;
            let Some(last) = accounts.last().cloned() else {
                break;
            };
            for user in accounts {
                // A pseudonym's ledger keeps only what an erasure had to keep (purchases and
                // payment refunds): it is not meant to add up.
                if crate::privacy::data::Pseudonym::is_pseudonym(user.as_str()) {
                    continue;
                }
                report.accounts += 1;
                let (mut seq, mut sum) = (0u64, 0i64);
                loop {
                    let entries = ledger.ledger_entries(&user, seq, 1000).await?;
                    if entries.is_empty() {
                        break;
                    }
                    for e in entries {
                        report.entries += 1;
                        let mut problem = |what: String| {
                            report.problems.push(LedgerProblem {
                                user_id: user.clone(),
                                seq: e.seq,
                                problem: what,
                            })
                        };
                        if e.seq != seq + 1 {
                            problem(format!("entry {} follows entry {seq}", e.seq));
                        }
                        sum += e.amount;
                        if e.balance_after != sum {
                            problem(format!(
                                "balance {} but the entries sum to {sum}",
                                e.balance_after
                            ));
                        }
                        if sum < 0 {
                            problem(format!("the balance went below zero ({sum})"));
                        }
                        seq = e.seq;
                    }
                }
            }
            after = Some(last);
        }
        Ok(report)
    }
}
