//! `LedgerStore` in SQL: an IMMEDIATE transaction checks the key, reads the last entry and
//! inserts the next, so appends are serialised and the balance check cannot race.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::clock::Timestamp;
use crate::credits::store::LedgerStore;
use crate::credits::{Appended, LedgerEntry, LedgerKind, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{LedgerId, UserId};
use crate::paging::{Cursor, Page, PageRequest};

const COLUMNS: &str =
    "id, user_id, seq, kind, amount, balance_after, reason, reference, idempotency_key, created_at";

fn entry_from(r: &Row<'_>) -> rusqlite::Result<(LedgerEntry, String)> {
    Ok((
        LedgerEntry {
            id: LedgerId::from_stored(r.get(0)?),
            user_id: UserId::from_stored(r.get(1)?),
            seq: r.get::<_, i64>(2)? as u64,
            kind: LedgerKind::Trial,
            amount: r.get(4)?,
            balance_after: r.get(5)?,
            reason: r.get(6)?,
            reference: r.get(7)?,
            idempotency_key: r.get(8)?,
            created_at: from_ms(r.get(9)?),
        },
        r.get(3)?,
    ))
}

fn finish((mut e, kind): (LedgerEntry, String)) -> Result<LedgerEntry> {
    e.kind = LedgerKind::parse(&kind)?;
    Ok(e)
}

fn by_key(c: &rusqlite::Connection, key: &str) -> Result<Option<LedgerEntry>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM ledger WHERE idempotency_key = ?1"),
        [key],
        entry_from,
    )
    .optional()
    .map_err(db_err)?
    .map(finish)
    .transpose()
}

/// Appends `new` inside the caller's IMMEDIATE transaction (so another write can join it): the
/// key checked, the last entry read and the next inserted, with the balance rule.
pub(super) fn append_in(
    tx: &rusqlite::Transaction<'_>,
    new: &NewLedgerEntry,
    at: Timestamp,
) -> Result<Appended> {
    if let Some(first) = by_key(tx, &new.idempotency_key)? {
        return if first.matches(new) {
            Ok(Appended::Replayed(first))
        } else {
            Err(Error::Conflict(
                "this idempotency key was used for a different change".into(),
            ))
        };
    }
    let last: Option<(i64, i64)> = tx
        .query_row(
            "SELECT seq, balance_after FROM ledger WHERE user_id = ?1 ORDER BY seq DESC LIMIT 1",
            [new.user_id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let entry = LedgerEntry::next(last.map(|(s, b)| (s as u64, b)), new, at)?;
    tx.execute(
        &format!("INSERT INTO ledger ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            entry.id.as_str(),
            entry.user_id.as_str(),
            entry.seq as i64,
            entry.kind.as_str(),
            entry.amount,
            entry.balance_after,
            entry.reason,
            entry.reference,
            entry.idempotency_key,
            ms(entry.created_at)
        ],
    )
    .map_err(db_err)?;
    Ok(Appended::Applied(entry))
}

#[async_trait]
impl LedgerStore for Sqlite {
    async fn append_ledger(&self, new: &NewLedgerEntry, at: Timestamp) -> Result<Appended> {
        let new = new.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let appended = append_in(&tx, &new, at)?;
            tx.commit().map_err(db_err)?;
            Ok(appended)
        })
        .await
    }

    async fn balance(&self, user: &UserId) -> Result<i64> {
        let user = user.as_str().to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT balance_after FROM ledger WHERE user_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .map_err(db_err)?
            .query_row([user], |r| r.get::<_, i64>(0))
            .optional()
            .map_err(db_err)?
            .unwrap_or(0))
        })
        .await
    }

    async fn ledger_entry_by_key(&self, key: &str) -> Result<Option<LedgerEntry>> {
        let key = key.to_owned();
        self.read(move |c| by_key(c, &key)).await
    }

    async fn ledger_page(&self, user: &UserId, page: &PageRequest) -> Result<Page<LedgerEntry>> {
        let (user, page) = (user.as_str().to_owned(), page.clone());
        self.read(move |c| {
            let (at, id) = match &page.after {
                Some(cur) => (ms(cur.created_at), cur.id.clone()),
                None => (i64::MAX, "\u{10FFFF}".to_owned()),
            };
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM ledger
                     WHERE user_id = ?1 AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
                     ORDER BY created_at DESC, id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![user, at, id, (page.limit + 1) as i64], entry_from)
                .map_err(db_err)?;
            let mut items = Vec::new();
            for row in rows {
                items.push(finish(row.map_err(db_err)?)?);
            }
            Ok(Page::from_overfetch(items, page.limit, |e| Cursor {
                created_at: e.created_at,
                id: e.id.to_string(),
            }))
        })
        .await
    }

    async fn ledger_entries(
        &self,
        user: &UserId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>> {
        let user = user.as_str().to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare(&format!("SELECT {COLUMNS} FROM ledger WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"))
                .map_err(db_err)?;
            let rows = stmt.query_map(params![user, after as i64, limit as i64], entry_from).map_err(db_err)?;
            rows.map(|r| finish(r.map_err(db_err)?)).collect()
        })
        .await
    }

    async fn ledger_accounts(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>> {
        let after = after.map(|u| u.as_str().to_owned()).unwrap_or_default();
        self.read(move |c| {
            let mut stmt = c
                .prepare("SELECT DISTINCT user_id FROM ledger WHERE user_id > ?1 ORDER BY user_id LIMIT ?2")
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![after, limit as i64], |r| Ok(UserId::from_stored(r.get(0)?)))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }
}
