//! `AuditStore` in BSON: the entry's `_id` is its seq, and each append reads the last entry,
//! inserts the next and moves the head record in one transaction. Two appends that read the
//! same last entry collide (duplicate `_id` or a write conflict) and the loser retries.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use rand::Rng;

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, Mongo};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::privacy::audit::{AuditEntry, AuditHead, AuditStore, NewAuditEntry};

const HEAD_ID: &str = "audit_head";

fn entry_from(d: &Document) -> Result<AuditEntry> {
    let details = need("details", d.get_str("details"))?;
    Ok(AuditEntry {
        seq: need("_id", d.get_i64("_id"))? as u64,
        at: from_bdate(*need("at", d.get_datetime("at"))?),
        actor: need("actor", d.get_str("actor"))?.to_owned(),
        action: need("action", d.get_str("action"))?.to_owned(),
        target: d.get_str("target").ok().map(str::to_owned),
        details: serde_json::from_str(details)
            .unwrap_or_else(|_| serde_json::Value::String(details.to_owned())),
        prev_hash: need("prev_hash", d.get_str("prev_hash"))?.to_owned(),
        hash: need("hash", d.get_str("hash"))?.to_owned(),
    })
}

impl Mongo {
    fn audit(&self) -> mongodb::Collection<Document> {
        self.db.collection("audit_log")
    }
}

impl Mongo {
    /// One attempt: read the last entry, insert the next, move the head, in one transaction.
    async fn append_audit_once(
        &self,
        entry: &NewAuditEntry,
        at: Timestamp,
    ) -> mongodb::error::Result<AuditEntry> {
        let mut session = self.client.start_session().await?;
        session.start_transaction().await?;
        let last = self
            .audit()
            .find_one(doc! {})
            .sort(doc! { "_id": -1 })
            .session(&mut session)
            .await?
            .as_ref()
            .map(entry_from)
            .transpose()
            .map_err(|e| mongodb::error::Error::custom(e.to_string()))?;
        let sealed = AuditEntry::seal(last.as_ref().map(|l| (l.seq, l.hash.as_str())), entry, at);
        let mut d = doc! {
            "_id": sealed.seq as i64,
            "at": bdate(sealed.at),
            "actor": &sealed.actor,
            "action": &sealed.action,
            "details": serde_json::to_string(&sealed.details).unwrap_or_default(),
            "prev_hash": &sealed.prev_hash,
            "hash": &sealed.hash,
        };
        if let Some(target) = &sealed.target {
            d.insert("target", target);
        }
        self.audit().insert_one(d).session(&mut session).await?;
        self.meta()
            .update_one(
                doc! { "_id": HEAD_ID },
                doc! { "$set": { "seq": sealed.seq as i64, "hash": &sealed.hash } },
            )
            .upsert(true)
            .session(&mut session)
            .await?;
        session.commit_transaction().await?;
        Ok(sealed)
    }
}

#[async_trait]
impl AuditStore for Mongo {
    async fn append_audit(&self, entry: &NewAuditEntry, at: Timestamp) -> Result<AuditEntry> {
        for attempt in 0..200u32 {
            match self.append_audit_once(entry, at).await {
                Ok(sealed) => return Ok(sealed),
                Err(e) if is_duplicate(&e) || e.contains_label("TransientTransactionError") => {
                    let backoff = rand::thread_rng().gen_range(0..=(1u64 << attempt.min(5)));
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Err(e) => return Err(mongo_err(e)),
            }
        }
        Err(Error::Unavailable(
            "the audit log stayed contended; try again".into(),
        ))
    }

    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        let docs: Vec<Document> = self
            .audit()
            .find(doc! { "_id": { "$gt": after as i64 } })
            .sort(doc! { "_id": 1 })
            .limit(limit as i64)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.iter().map(entry_from).collect()
    }

    async fn audit_head(&self) -> Result<Option<AuditHead>> {
        let head = self
            .meta()
            .find_one(doc! { "_id": HEAD_ID })
            .await
            .map_err(mongo_err)?;
        head.map(|d| {
            Ok(AuditHead {
                seq: need("seq", d.get_i64("seq"))? as u64,
                hash: need("hash", d.get_str("hash"))?.to_owned(),
            })
        })
        .transpose()
    }
}
