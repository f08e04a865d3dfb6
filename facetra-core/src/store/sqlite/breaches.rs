//! `BreachStore` in SQL: `breaches` (no one's personal data) and `breach_notices` (one row
//! per person told, keyed by breach and person, so a person is told once).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{BreachId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::privacy::breach::{Authority, Breach, BreachNotice, BreachStore};

const COLUMNS: &str = "id, detected_at, opened_at, summary, board_due, cert_in_due, board_told_at, cert_in_told_at, notified";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Breach> {
    Ok(Breach {
        id: BreachId::from_stored(r.get(0)?),
        detected_at: from_ms(r.get(1)?),
        opened_at: from_ms(r.get(2)?),
        summary: r.get(3)?,
        board_due: from_ms(r.get(4)?),
        cert_in_due: from_ms(r.get(5)?),
        board_told_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
        cert_in_told_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
        notified: r.get::<_, i64>(8)?.max(0) as u64,
    })
}

#[async_trait]
impl BreachStore for Sqlite {
    async fn insert_breach(&self, b: &Breach) -> Result<()> {
        let b = b.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO breaches ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    b.id.as_str(),
                    ms(b.detected_at),
                    ms(b.opened_at),
                    b.summary,
                    ms(b.board_due),
                    ms(b.cert_in_due),
                    b.board_told_at.map(ms),
                    b.cert_in_told_at.map(ms),
                    b.notified as i64
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn breach(&self, id: &BreachId) -> Result<Option<Breach>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM breaches WHERE id = ?1"))
                .map_err(db_err)?
                .query_row([id], from_row)
                .optional()
                .map_err(db_err)
        })
        .await
    }

    async fn breaches(&self, page: &PageRequest) -> Result<Page<Breach>> {
        let page = page.clone();
        self.read(move |c| {
            let (at, id) = super::jobs::after(&page);
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM breaches
                     WHERE opened_at < ?1 OR (opened_at = ?1 AND id < ?2)
                     ORDER BY opened_at DESC, id DESC LIMIT ?3"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![at, id, (page.limit + 1) as i64], from_row)
                .map_err(db_err)?;
            let items = rows
                .map(|r| r.map_err(db_err))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |b| Cursor {
                created_at: b.opened_at,
                id: b.id.to_string(),
            }))
        })
        .await
    }

    async fn mark_told(&self, id: &BreachId, authority: Authority, at: Timestamp) -> Result<bool> {
        let column = match authority {
            Authority::Board => "board_told_at",
            Authority::CertIn => "cert_in_told_at",
        };
        let sql = format!("UPDATE breaches SET {column} = ?2 WHERE id = ?1 AND {column} IS NULL");
        let id = id.as_str().to_owned();
        self.call(move |c| Ok(c.execute(&sql, params![id, ms(at)]).map_err(db_err)? > 0))
            .await
    }

    async fn insert_notice(&self, n: &BreachNotice) -> Result<bool> {
        let n = n.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let added = tx
                .execute(
                    "INSERT INTO breach_notices (breach_id, user_id, message_id, notified_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![
                        n.breach_id.as_str(),
                        n.user_id.as_str(),
                        n.message_id.as_str(),
                        ms(n.notified_at)
                    ],
                )
                .map_err(db_err)?
                > 0;
            if added {
                tx.execute(
                    "UPDATE breaches SET notified = notified + 1 WHERE id = ?1",
                    [n.breach_id.as_str()],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(added)
        })
        .await
    }

    async fn notified(&self, id: &BreachId, user: &UserId) -> Result<bool> {
        let (id, user) = (id.as_str().to_owned(), user.as_str().to_owned());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM breach_notices WHERE breach_id = ?1 AND user_id = ?2",
            )
            .map_err(db_err)?
            .query_row([id, user], |_| Ok(()))
            .optional()
            .map_err(db_err)?
            .is_some())
        })
        .await
    }
}
