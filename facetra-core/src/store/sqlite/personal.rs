//! `PersonalDataStore` in SQL. Count and export are loops over the registry's tables for the
//! kind (`privacy::data::REGISTRY`), the person found by the column the registry names;
//! erasure follows the kind's rule, and ends with a checkpoint that truncates the WAL, so the
//! removed bytes are gone from every file (`secure_delete` zeroes them in the database file).

use std::collections::VecDeque;

use async_trait::async_trait;
use base64::Engine;
use futures::StreamExt;
use rusqlite::params;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

use super::{db_err, from_ms, ms, Sqlite};
use crate::blobs::BlobStore;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, UserId};
use crate::privacy::data::{
    Erased, Kind, Location, PersonalDataStore, Place, Pseudonym, Record, Records,
};

/// Rows read per query while exporting.
const PAGE: i64 = 100;

/// The registry's tables for `kind` (its directories are reached through them).
/// The kind's tables that name a person: (table, location, the person's column).
fn tables(kind: Kind) -> Vec<(&'static str, &'static Location, &'static str)> {
    kind.info()
        .sqlite
        .iter()
        .filter_map(|l| match (l.place, l.person) {
            (Place::Table(t), Some(person)) => Some((t, l, person)),
            _ => None,
        })
        .collect()
}

/// A column's value as an export shows it: times as RFC 3339, JSON columns as JSON.
fn value(column: &str, v: ValueRef<'_>) -> Value {
    let is_time = column == "at" || column.ends_with("_at") || column.ends_with("_until");
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) if is_time => Value::String(from_ms(i).to_rfc3339()),
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t).into_owned();
            let json = matches!(
                column,
                "consents" | "body" | "items" | "render_ids" | "details"
            );
            if json {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            } else {
                Value::String(text)
            }
        }
        ValueRef::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// The consents of an erased account: none.
fn no_consents() -> Result<String> {
    serde_json::to_string(&crate::accounts::Consents::default())
        .map_err(|e| Error::Internal(e.to_string()))
}

impl Sqlite {
    /// One page of a table's rows for the person, after `rowid`: (last rowid, records).
    async fn export_page(
        &self,
        table: &'static str,
        location: &'static Location,
        column: &'static str,
        person: String,
        after: i64,
    ) -> Result<(i64, Vec<Record>)> {
        let sql = format!(
            "SELECT rowid, {} FROM {table} WHERE {column} = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
            location.fields.join(", "),
        );
        self.read(move |c| {
            let mut stmt = c.prepare(&sql).map_err(db_err)?;
            let mut rows = stmt.query(params![person, after, PAGE]).map_err(db_err)?;
            let mut last = after;
            let mut page = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                last = row.get(0).map_err(db_err)?;
                let mut fields = Map::new();
                for (i, column) in location.fields.iter().enumerate() {
                    let v = row.get_ref(i + 1).map_err(db_err)?;
                    fields.insert((*column).to_owned(), value(column, v));
                }
                page.push(Record {
                    from: table,
                    fields,
                });
            }
            Ok((last, page))
        })
        .await
    }

    /// Deletes the person's rows in each of the kind's tables; how many.
    async fn delete_rows(&self, kind: Kind, person: String) -> Result<u64> {
        let tables = tables(kind);
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let mut removed = 0u64;
            for (table, _, column) in tables {
                let sql = format!("DELETE FROM {table} WHERE {column} = ?1");
                removed += tx.execute(&sql, [&person]).map_err(db_err)? as u64;
            }
            tx.commit().map_err(db_err)?;
            Ok(removed)
        })
        .await
    }

    /// Checkpoints the WAL into the database file and truncates it, so deleted bytes linger in
    /// neither; retried briefly while another process reads.
    async fn checkpoint(&self) -> Result<()> {
        for _ in 0..50 {
            let busy: i64 = self
                .call(|c| {
                    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                        .map_err(db_err)
                })
                .await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(Error::Unavailable(
            "another process kept reading the database, so the WAL could not be truncated; run \
             the erasure again"
                .into(),
        ))
    }
}

#[async_trait]
impl PersonalDataStore for Sqlite {
    async fn containers(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                     AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )
                .map_err(db_err)?;
            let names = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            names.map(|n| n.map_err(db_err)).collect()
        })
        .await
    }

    async fn count(&self, kind: Kind, person: &UserId) -> Result<u64> {
        let (tables, person) = (tables(kind), person.as_str().to_owned());
        self.read(move |c| {
            let mut total = 0u64;
            for (table, _, column) in tables {
                let sql = format!("SELECT count(*) FROM {table} WHERE {column} = ?1");
                let n: i64 = c.query_row(&sql, [&person], |r| r.get(0)).map_err(db_err)?;
                total += n as u64;
            }
            Ok(total)
        })
        .await
    }

    fn export(&self, kind: Kind, person: &UserId) -> Records {
        let start = (
            self.clone(),
            person.as_str().to_owned(),
            tables(kind),
            0usize,
            0i64,
            VecDeque::new(),
        );
        futures::stream::try_unfold(start, |state| async move {
            let (db, person, tables, mut i, mut after, mut buffered) = state;
            loop {
                if let Some(record) = buffered.pop_front() {
                    return Ok(Some((record, (db, person, tables, i, after, buffered))));
                }
                let Some((table, location, column)) = tables.get(i).copied() else {
                    return Ok(None);
                };
                let (last, page) = db
                    .export_page(table, location, column, person.clone(), after)
                    .await?;
                if page.is_empty() {
                    (i, after) = (i + 1, 0);
                    continue;
                }
                after = last;
                buffered.extend(page);
            }
        })
        .boxed()
    }

    async fn erase(
        &self,
        kind: Kind,
        person: &UserId,
        pseudonym: &Pseudonym,
        at: Timestamp,
    ) -> Result<Erased> {
        let (p, psn) = (person.as_str().to_owned(), pseudonym.as_str().to_owned());
        let erased = match kind {
            Kind::Account => {
                let (now, consents) = (ms(at), no_consents()?);
                self.call(move |c| {
                    let tx = c
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                        .map_err(db_err)?;
                    let removed = tx
                        .execute("DELETE FROM instance WHERE owner_id = ?1", [&p])
                        .map_err(db_err)? as u64;
                    let anonymised = tx
                        .execute(
                            "UPDATE users SET email = id || '@erased.invalid', name = 'Erased account',
                                avatar_url = NULL, google_subject = NULL, roles = 'user',
                                consents = ?2, status = 'erased', updated_at = ?3
                             WHERE id = ?1",
                            params![p, consents, now],
                        )
                        .map_err(db_err)? as u64;
                    tx.commit().map_err(db_err)?;
                    Ok(Erased {
                        removed,
                        anonymised,
                        kept: 0,
                    })
                })
                .await?
            }
            Kind::Files => {
                let ids: Vec<String> = self
                    .call(move |c| {
                        let mut stmt = c
                            .prepare("SELECT id FROM blobs WHERE owner_id = ?1")
                            .map_err(db_err)?;
                        let ids = stmt
                            .query_map([&p], |r| r.get::<_, String>(0))
                            .map_err(db_err)?;
                        ids.map(|i| i.map_err(db_err)).collect()
                    })
                    .await?;
                let mut removed = 0;
                for id in ids {
                    if self.delete_blob(&BlobId::from_stored(id)).await? {
                        removed += 1;
                    }
                }
                Erased {
                    removed,
                    ..Erased::default()
                }
            }
            Kind::Ledger => {
                self.call(move |c| {
                    let tx = c
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                        .map_err(db_err)?;
                    let kept = tx
                        .execute(
                            "UPDATE ledger SET user_id = ?2 WHERE user_id = ?1
                               AND (kind = 'purchase' OR (kind = 'refund' AND reference LIKE 'pay\\_%' ESCAPE '\\'))",
                            params![p, psn],
                        )
                        .map_err(db_err)? as u64;
                    let removed = tx
                        .execute("DELETE FROM ledger WHERE user_id = ?1", [&p])
                        .map_err(db_err)? as u64;
                    tx.commit().map_err(db_err)?;
                    Ok(Erased {
                        removed,
                        anonymised: 0,
                        kept,
                    })
                })
                .await?
            }
            Kind::Payments => {
                let kept = self
                    .call(move |c| {
                        Ok(c.execute(
                            "UPDATE payments SET user_id = ?2 WHERE user_id = ?1",
                            params![p, psn],
                        )
                        .map_err(db_err)? as u64)
                    })
                    .await?;
                Erased {
                    kept,
                    ..Erased::default()
                }
            }
            Kind::SecurityEvents | Kind::RequestLogs => {
                let sql = match kind {
                    Kind::SecurityEvents => {
                        "UPDATE security_events SET user_id = NULL, ip = NULL WHERE user_id = ?1"
                    }
                    _ => {
                        "UPDATE request_logs SET user_id = NULL, ip = NULL, user_agent = NULL
                         WHERE user_id = ?1"
                    }
                };
                let anonymised = self
                    .call(move |c| Ok(c.execute(sql, [&p]).map_err(db_err)? as u64))
                    .await?;
                Erased {
                    anonymised,
                    ..Erased::default()
                }
            }
            Kind::PrivacyRequests => {
                let anonymised = self
                    .call(move |c| {
                        Ok(c.execute(
                            "UPDATE privacy_requests SET email = NULL,
                               body = json_remove(body, '$.message')
                             WHERE user_id = ?1",
                            [&p],
                        )
                        .map_err(db_err)? as u64)
                    })
                    .await?;
                Erased {
                    anonymised,
                    ..Erased::default()
                }
            }
            Kind::Sessions
            | Kind::ApiTokens
            | Kind::Uploads
            | Kind::Jobs
            | Kind::Renders
            | Kind::Boms
            | Kind::Portfolios
            | Kind::Outbox
            | Kind::SignInAttempts
            | Kind::Signups
            | Kind::UsageEvents
            | Kind::BreachNotices
            | Kind::Nominees
            | Kind::Messages => Erased {
                removed: self.delete_rows(kind, p).await?,
                ..Erased::default()
            },
        };
        self.checkpoint().await?;
        Ok(erased)
    }

    async fn plan_erase(&self, kind: Kind, person: &UserId) -> Result<Erased> {
        let p = person.as_str().to_owned();
        let one = |sql: &'static str| {
            let p = p.clone();
            async move {
                self.read(move |c| {
                    c.query_row(sql, [&p], |r| r.get::<_, i64>(0))
                        .map_err(db_err)
                })
                .await
                .map(|n| n as u64)
            }
        };
        Ok(match kind {
            Kind::Account => Erased {
                removed: one("SELECT count(*) FROM instance WHERE owner_id = ?1").await?,
                anonymised: one("SELECT count(*) FROM users WHERE id = ?1").await?,
                kept: 0,
            },
            Kind::Ledger => {
                let kept = one(
                    "SELECT count(*) FROM ledger WHERE user_id = ?1
                       AND (kind = 'purchase' OR (kind = 'refund' AND reference LIKE 'pay\\_%' ESCAPE '\\'))",
                )
                .await?;
                let all = one("SELECT count(*) FROM ledger WHERE user_id = ?1").await?;
                Erased {
                    removed: all - kept,
                    anonymised: 0,
                    kept,
                }
            }
            _ => Erased::by_rule(kind, self.count(kind, person).await?),
        })
    }

    async fn anonymise_shared_ips(
        &self,
        person: &UserId,
        dry_run: bool,
    ) -> Result<Vec<(Kind, u64)>> {
        const IPS: &str = "SELECT ip FROM request_logs WHERE user_id = ?1 AND ip IS NOT NULL
                           UNION SELECT ip FROM security_events WHERE user_id = ?1 AND ip IS NOT NULL";
        let others = |table: &str| {
            format!("{table} WHERE (user_id IS NULL OR user_id != ?1) AND ip IN ({IPS})")
        };
        let plan = [
            (
                Kind::RequestLogs,
                others("request_logs"),
                "ip = NULL, user_agent = CASE WHEN user_id IS NULL THEN NULL ELSE user_agent END",
            ),
            (Kind::SecurityEvents, others("security_events"), "ip = NULL"),
        ];
        let p = person.as_str().to_owned();
        let touched = self
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(db_err)?;
                let mut touched = Vec::new();
                for (kind, scope, strip) in plan {
                    let n = if dry_run {
                        tx.query_row(&format!("SELECT count(*) FROM {scope}"), [&p], |r| {
                            r.get::<_, i64>(0)
                        })
                        .map_err(db_err)? as u64
                    } else {
                        let (table, rest) = scope.split_once(" WHERE ").unwrap_or((&scope, "1"));
                        tx.execute(&format!("UPDATE {table} SET {strip} WHERE {rest}"), [&p])
                            .map_err(db_err)? as u64
                    };
                    touched.push((kind, n));
                }
                tx.commit().map_err(db_err)?;
                Ok(touched)
            })
            .await?;
        if !dry_run {
            self.checkpoint().await?;
        }
        Ok(touched)
    }

    async fn settle(&self) -> Result<()> {
        self.checkpoint().await
    }

    async fn expire(&self, kind: Kind, cutoff: Timestamp, dry_run: bool) -> Result<u64> {
        // (table, the change, which records it is due for: `?1` is the cut-off)
        let (table, change, due) = match kind {
            Kind::RequestLogs => (
                "request_logs",
                "SET user_id = NULL, ip = NULL, user_agent = NULL",
                "at < ?1 AND (user_id IS NOT NULL OR ip IS NOT NULL OR user_agent IS NOT NULL)",
            ),
            Kind::SecurityEvents => (
                "security_events",
                "SET user_id = NULL, ip = NULL",
                "at < ?1 AND (user_id IS NOT NULL OR ip IS NOT NULL)",
            ),
            Kind::UsageEvents => (
                "usage_events",
                "SET user_id = NULL",
                "at < ?1 AND user_id IS NOT NULL",
            ),
            Kind::Sessions => ("sessions", "DELETE", "expires_at < ?1"),
            Kind::ApiTokens => ("api_tokens", "DELETE", "expires_at < ?1"),
            Kind::SignInAttempts => ("sign_in_attempts", "DELETE", "expires_at < ?1"),
            Kind::Payments => ("payments", "DELETE", "created_at < ?1"),
            Kind::Ledger => (
                "ledger",
                "DELETE",
                "created_at < ?1 AND user_id LIKE 'psn\\_%' ESCAPE '\\'",
            ),
            Kind::Signups => ("signups", "DELETE", "created_at < ?1 AND user_id IS NULL"),
            Kind::Outbox => (
                "outbox",
                "SET text_body = '', html_body = ''",
                "status = 'sent' AND sent_at < ?1 AND (text_body != '' OR html_body != '')",
            ),
            Kind::Account
            | Kind::Uploads
            | Kind::Files
            | Kind::Jobs
            | Kind::Renders
            | Kind::Boms
            | Kind::Portfolios
            | Kind::PrivacyRequests
            | Kind::BreachNotices
            | Kind::Nominees
            | Kind::Messages => return Ok(0),
        };
        let cutoff = ms(cutoff);
        if dry_run {
            let sql = format!("SELECT count(*) FROM {table} WHERE {due}");
            return Ok(self
                .read(move |c| {
                    c.query_row(&sql, [cutoff], |r| r.get::<_, i64>(0))
                        .map_err(db_err)
                })
                .await? as u64);
        }
        let sql = match change {
            "DELETE" => format!("DELETE FROM {table} WHERE {due}"),
            set => format!("UPDATE {table} {set} WHERE {due}"),
        };
        let n = self
            .call(move |c| Ok(c.execute(&sql, [cutoff]).map_err(db_err)? as u64))
            .await?;
        if n > 0 {
            self.checkpoint().await?;
        }
        Ok(n)
    }
}
