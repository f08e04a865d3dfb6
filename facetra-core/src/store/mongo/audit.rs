//! `AuditStore` in BSON: the entry's `_id` is its seq, so two appends that read the same last
//! entry collide on the unique `_id` and the loser re-reads and retries. The head record in
//! `meta` only moves forward (`$max`-style conditional update).

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

#[async_trait]
impl AuditStore for Mongo {
    async fn append_audit(&self, entry: &NewAuditEntry, at: Timestamp) -> Result<AuditEntry> {
        for attempt in 0..200u32 {
            let last = self
                .audit()
                .find_one(doc! {})
                .sort(doc! { "_id": -1 })
                .await
                .map_err(mongo_err)?
                .as_ref()
                .map(entry_from)
                .transpose()?;
            let sealed =
                AuditEntry::seal(last.as_ref().map(|l| (l.seq, l.hash.as_str())), entry, at);
            let mut d = doc! {
                "_id": sealed.seq as i64,
                "at": bdate(sealed.at),
                "actor": &sealed.actor,
                "action": &sealed.action,
                "details": serde_json::to_string(&sealed.details).map_err(|e| Error::Internal(e.to_string()))?,
                "prev_hash": &sealed.prev_hash,
                "hash": &sealed.hash,
            };
            if let Some(target) = &sealed.target {
                d.insert("target", target);
            }
            match self.audit().insert_one(d).await {
                Ok(_) => {
                    let moved = self
                        .meta()
                        .update_one(
                            doc! { "_id": HEAD_ID, "seq": { "$lt": sealed.seq as i64 } },
                            doc! { "$set": { "seq": sealed.seq as i64, "hash": &sealed.hash } },
                        )
                        .upsert(true)
                        .await;
                    // A duplicate here means the head is already past this entry: fine.
                    if let Err(e) = moved {
                        if !is_duplicate(&e) {
                            return Err(mongo_err(e));
                        }
                    }
                    return Ok(sealed);
                }
                Err(e) if is_duplicate(&e) => {
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
