//! `AuditStore` in SQL: an IMMEDIATE transaction reads the last entry, seals the next one and
//! moves the head record, so appends from any number of tasks form one chain.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{db_err, from_ms, ms, Sqlite};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::privacy::audit::{AuditEntry, AuditHead, AuditStore, NewAuditEntry};

#[async_trait]
impl AuditStore for Sqlite {
    async fn append_audit(&self, entry: &NewAuditEntry, at: Timestamp) -> Result<AuditEntry> {
        let entry = entry.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let last: Option<(i64, String)> = tx
                .query_row(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            let sealed = AuditEntry::seal(
                last.as_ref().map(|(s, h)| (*s as u64, h.as_str())),
                &entry,
                at,
            );
            tx.execute(
                "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    sealed.seq as i64,
                    ms(sealed.at),
                    sealed.actor,
                    sealed.action,
                    sealed.target,
                    serde_json::to_string(&sealed.details)
                        .map_err(|e| Error::Internal(e.to_string()))?,
                    sealed.prev_hash,
                    sealed.hash
                ],
            )
            .map_err(db_err)?;
            tx.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                 WHERE excluded.seq > audit_head.seq",
                params![sealed.seq as i64, sealed.hash],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(sealed)
        })
        .await
    }

    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT seq, at, actor, action, target, details, prev_hash, hash
                     FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![after as i64, limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, at, actor, action, target, details, prev_hash, hash) =
                    row.map_err(db_err)?;
                out.push(AuditEntry {
                    seq: seq as u64,
                    at: from_ms(at),
                    actor,
                    action,
                    target,
                    // An unparsable details column still verifies as "altered", not as an error.
                    details: serde_json::from_str(&details)
                        .unwrap_or(serde_json::Value::String(details)),
                    prev_hash,
                    hash,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<AuditHead>> {
        self.read(|c| {
            c.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok(AuditHead {
                    seq: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                })
            })
            .optional()
            .map_err(db_err)
        })
        .await
    }
}
