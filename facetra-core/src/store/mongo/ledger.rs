//! `LedgerStore` in BSON without transactions: an entry's (user_id, seq) and its idempotency
//! key are both unique, so one insert is the whole atomic step. Two appends that read the same
//! last entry collide on (user_id, seq); the loser re-reads and retries. A repeated key
//! collides on its index (or finds the balance spent) and then returns the first result.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use rand::Rng;

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::clock::Timestamp;
use crate::credits::store::LedgerStore;
use crate::credits::{Appended, LedgerEntry, LedgerKind, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{LedgerId, UserId};
use crate::paging::{Cursor, Page, PageRequest};

pub(super) fn entry_from(d: &Document) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        id: LedgerId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        seq: need("seq", d.get_i64("seq"))? as u64,
        kind: LedgerKind::parse(need("kind", d.get_str("kind"))?)?,
        amount: need("amount", d.get_i64("amount"))?,
        balance_after: need("balance_after", d.get_i64("balance_after"))?,
        reason: need("reason", d.get_str("reason"))?.to_owned(),
        reference: d.get_str("reference").ok().map(str::to_owned),
        idempotency_key: need("idempotency_key", d.get_str("idempotency_key"))?.to_owned(),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
    })
}

pub(super) fn entry_doc(e: &LedgerEntry) -> Document {
    let mut d = doc! {
        "_id": e.id.as_str(),
        "user_id": e.user_id.as_str(),
        "seq": e.seq as i64,
        "kind": e.kind.as_str(),
        "amount": e.amount,
        "balance_after": e.balance_after,
        "reason": &e.reason,
        "idempotency_key": &e.idempotency_key,
        "created_at": bdate(e.created_at),
    };
    if let Some(r) = &e.reference {
        d.insert("reference", r);
    }
    d
}

impl Mongo {
    async fn replay(&self, new: &NewLedgerEntry) -> Result<Option<Appended>> {
        match self.ledger_entry_by_key(&new.idempotency_key).await? {
            Some(first) if first.matches(new) => Ok(Some(Appended::Replayed(first))),
            Some(_) => Err(Error::Conflict(
                "this idempotency key was used for a different change".into(),
            )),
            None => Ok(None),
        }
    }

    async fn last_entry(&self, user: &UserId) -> Result<Option<LedgerEntry>> {
        self.ledger()
            .find_one(doc! { "user_id": user.as_str() })
            .sort(doc! { "seq": -1 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(entry_from)
            .transpose()
    }
}

#[async_trait]
impl LedgerStore for Mongo {
    async fn append_ledger(&self, new: &NewLedgerEntry, at: Timestamp) -> Result<Appended> {
        // The common path is two round trips (last entry, insert); a used key is found by its
        // unique index and only then looked up.
        for attempt in 0..500u32 {
            let last = self.last_entry(&new.user_id).await?;
            let entry = match LedgerEntry::next(last.map(|l| (l.seq, l.balance_after)), new, at) {
                Ok(entry) => entry,
                Err(short @ Error::InsufficientCredits { .. }) => {
                    // A replayed charge must return its first result, not "insufficient".
                    return match self.replay(new).await? {
                        Some(done) => Ok(done),
                        None => Err(short),
                    };
                }
                Err(e) => return Err(e),
            };
            match self.ledger().insert_one(entry_doc(&entry)).await {
                Ok(_) => return Ok(Appended::Applied(entry)),
                Err(e) if is_duplicate(&e) => {
                    if let Some(done) = self.replay(new).await? {
                        return Ok(done);
                    }
                    let ceiling = 1u64 << attempt.min(6);
                    let pause = rand::thread_rng().gen_range(0..=ceiling);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Err(e) => return Err(mongo_err(e)),
            }
        }
        Err(Error::Unavailable(
            "the ledger stayed contended; try again".into(),
        ))
    }

    async fn balance(&self, user: &UserId) -> Result<i64> {
        Ok(self.last_entry(user).await?.map_or(0, |e| e.balance_after))
    }

    async fn ledger_entry_by_key(&self, key: &str) -> Result<Option<LedgerEntry>> {
        self.ledger()
            .find_one(doc! { "idempotency_key": key })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(entry_from)
            .transpose()
    }

    async fn ledger_page(&self, user: &UserId, page: &PageRequest) -> Result<Page<LedgerEntry>> {
        let filter = doc! { "user_id": user.as_str() };
        newest_first(
            &self.ledger(),
            filter,
            TimeKey::Date("created_at"),
            page,
            entry_from,
            |e| Cursor {
                created_at: e.created_at,
                id: e.id.to_string(),
            },
        )
        .await
    }

    async fn ledger_entries(
        &self,
        user: &UserId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>> {
        let docs: Vec<Document> = self
            .ledger()
            .find(doc! { "user_id": user.as_str(), "seq": { "$gt": after as i64 } })
            .sort(doc! { "seq": 1 })
            .limit(limit as i64)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.iter().map(entry_from).collect()
    }

    async fn ledger_accounts(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>> {
        let after = after.map(|u| u.as_str().to_owned()).unwrap_or_default();
        let pipeline = vec![
            doc! { "$match": { "user_id": { "$gt": after } } },
            doc! { "$group": { "_id": "$user_id" } },
            doc! { "$sort": { "_id": 1 } },
            doc! { "$limit": limit as i64 },
        ];
        let docs: Vec<Document> = self
            .ledger()
            .aggregate(pipeline)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.iter()
            .map(|d| {
                Ok(UserId::from_stored(
                    need("_id", d.get_str("_id"))?.to_owned(),
                ))
            })
            .collect()
    }
}
