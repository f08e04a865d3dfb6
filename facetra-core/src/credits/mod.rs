//! Credits: the packs on sale and the append-only ledger. Every change of a balance is an
//! entry with a signed amount, the balance after it, a reason, a reference and an idempotency
//! key; the store appends an entry only if the balance stays at or above zero and the key is
//! new, so no concurrency can overdraw an account or apply a key twice. It never stores money
//! movements without an entry, and never edits or deletes one.

mod service;
pub mod store;

pub use service::{Credits, LedgerProblem, LedgerReport};

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{LedgerId, UserId};

/// A credit pack on sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub name: String,
    pub credits: i64,
    /// Price in paise.
    pub price_paise: i64,
    pub currency: String,
}

/// The packs on sale when none are configured (DESIGN §4).
pub fn default_packs() -> Vec<Pack> {
    vec![
        pack("starter", "Starter", 50, 49_900),
        pack("studio", "Studio", 200, 149_900),
        pack("pro", "Pro", 1_000, 599_900),
    ]
}

fn pack(id: &str, name: &str, credits: i64, price_paise: i64) -> Pack {
    Pack {
        id: id.into(),
        name: name.into(),
        credits,
        price_paise,
        currency: "INR".into(),
    }
}

/// Parses `id:Name:credits:price_paise` entries separated by commas (FACETRA_PACKS).
pub fn parse_packs(spec: &str) -> Result<Vec<Pack>> {
    let bad = |why: &str| {
        Error::Config(format!(
            "FACETRA_PACKS {why}; write it as id:Name:credits:price_paise,… e.g. starter:Starter:50:49900"
        ))
    };
    let mut packs: Vec<Pack> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        let [id, name, credits, price] = parts.as_slice() else {
            return Err(bad("has an entry without four fields"));
        };
        let credits: i64 = credits
            .parse()
            .map_err(|_| bad("has credits that are not a number"))?;
        let price: i64 = price
            .parse()
            .map_err(|_| bad("has a price that is not a number"))?;
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok || name.is_empty() || credits <= 0 || price < 100 {
            return Err(bad(
                "has an entry with an empty id or name, no credits, or a price under ₹1",
            ));
        }
        if packs.iter().any(|p| p.id == *id) {
            return Err(bad("names a pack twice"));
        }
        packs.push(pack(id, name, credits, price));
    }
    if packs.is_empty() {
        return Err(bad("is empty"));
    }
    Ok(packs)
}

/// Why a balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Purchase,
    Trial,
    Render,
    Bom,
    Refund,
    Grant,
    Adjustment,
}

impl LedgerKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Purchase => "purchase",
            LedgerKind::Trial => "trial",
            LedgerKind::Render => "render",
            LedgerKind::Bom => "bom",
            LedgerKind::Refund => "refund",
            LedgerKind::Grant => "grant",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    /// Parses a stored kind.
    pub fn parse(s: &str) -> Result<LedgerKind> {
        [
            LedgerKind::Purchase,
            LedgerKind::Trial,
            LedgerKind::Render,
            LedgerKind::Bom,
            LedgerKind::Refund,
            LedgerKind::Grant,
            LedgerKind::Adjustment,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| Error::Corrupt(format!("unknown ledger kind {s:?}")))
    }
}

/// A change to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEntry {
    pub user_id: UserId,
    pub kind: LedgerKind,
    /// Signed: credits added (positive) or taken (negative).
    pub amount: i64,
    pub reason: String,
    pub reference: Option<String>,
    /// Unique across the ledger; repeating it returns the first result.
    pub idempotency_key: String,
}

/// A stored ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: LedgerId,
    pub user_id: UserId,
    /// Position in the account's ledger: 1, 2, 3, … without gaps.
    pub seq: u64,
    pub kind: LedgerKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub reference: Option<String>,
    pub idempotency_key: String,
    pub created_at: Timestamp,
}

impl LedgerEntry {
    /// Whether this entry is what `new` asked for (same account, kind and amount).
    pub fn matches(&self, new: &NewLedgerEntry) -> bool {
        self.user_id == new.user_id && self.kind == new.kind && self.amount == new.amount
    }

    /// Builds the entry that follows `last` (or opens the ledger), checking the balance.
    pub fn next(
        last: Option<(u64, i64)>,
        new: &NewLedgerEntry,
        at: Timestamp,
    ) -> Result<LedgerEntry> {
        let (seq, balance) = last.unwrap_or((0, 0));
        let after = balance + new.amount;
        if after < 0 {
            return Err(Error::InsufficientCredits {
                needed: -new.amount,
                balance,
            });
        }
        Ok(LedgerEntry {
            id: LedgerId::new(at),
            user_id: new.user_id.clone(),
            seq: seq + 1,
            kind: new.kind,
            amount: new.amount,
            balance_after: after,
            reason: new.reason.clone(),
            reference: new.reference.clone(),
            idempotency_key: new.idempotency_key.clone(),
            created_at: at,
        })
    }
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The entry was written.
    Applied(LedgerEntry),
    /// The key had been used: this is the first result, nothing was written.
    Replayed(LedgerEntry),
}

impl Appended {
    /// The entry, new or first.
    pub fn entry(&self) -> &LedgerEntry {
        match self {
            Appended::Applied(e) | Appended::Replayed(e) => e,
        }
    }
}
