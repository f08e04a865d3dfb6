//! `PaymentStore` and `SecurityEventStore` in SQL.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{PaymentId, SecurityEventId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::payments::store::{PaymentRef, PaymentStore};
use crate::payments::{Payment, PaymentKind, PaymentStatus};
use crate::security::events::{SecurityEvent, SecurityEventStore};

const COLUMNS: &str = "id, user_id, pack_id, credits, amount_paise, currency, kind, order_id, link_id, \
                       link_url, razorpay_payment_id, status, credits_refunded, created_at, updated_at";

type Raw = (Payment, String, String);

fn payment_from(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        Payment {
            id: PaymentId::from_stored(r.get(0)?),
            user_id: UserId::from_stored(r.get(1)?),
            pack_id: r.get(2)?,
            credits: r.get(3)?,
            amount_paise: r.get(4)?,
            currency: r.get(5)?,
            kind: PaymentKind::Order,
            order_id: r.get(7)?,
            link_id: r.get(8)?,
            link_url: r.get(9)?,
            razorpay_payment_id: r.get(10)?,
            status: PaymentStatus::Created,
            credits_refunded: r.get(12)?,
            created_at: from_ms(r.get(13)?),
            updated_at: from_ms(r.get(14)?),
        },
        r.get(6)?,
        r.get(11)?,
    ))
}

fn finish((mut p, kind, status): Raw) -> Result<Payment> {
    p.kind = PaymentKind::parse(&kind)?;
    p.status = PaymentStatus::parse(&status)?;
    Ok(p)
}

fn find(c: &rusqlite::Connection, column: &str, value: &str) -> Result<Option<Payment>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM payments WHERE {column} = ?1 ORDER BY created_at LIMIT 1"),
        [value],
        payment_from,
    )
    .optional()
    .map_err(db_err)?
    .map(finish)
    .transpose()
}

#[async_trait]
impl PaymentStore for Sqlite {
    async fn insert_payment(&self, p: &Payment) -> Result<()> {
        let p = p.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO payments ({COLUMNS}, status_rank)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ),
                params![
                    p.id.as_str(),
                    p.user_id.as_str(),
                    p.pack_id,
                    p.credits,
                    p.amount_paise,
                    p.currency,
                    p.kind.as_str(),
                    p.order_id,
                    p.link_id,
                    p.link_url,
                    p.razorpay_payment_id,
                    p.status.as_str(),
                    p.credits_refunded,
                    ms(p.created_at),
                    ms(p.updated_at),
                    p.status.rank()
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn find_payment(&self, by: PaymentRef<'_>) -> Result<Option<Payment>> {
        let (column, value) = match by {
            PaymentRef::Ours(id) => ("id", id.to_string()),
            PaymentRef::Order(o) => ("order_id", o.to_owned()),
            PaymentRef::Link(l) => ("link_id", l.to_owned()),
            PaymentRef::RazorpayPayment(p) => ("razorpay_payment_id", p.to_owned()),
        };
        self.read(move |c| find(c, column, &value)).await
    }

    async fn advance_payment(
        &self,
        id: &PaymentId,
        to: PaymentStatus,
        rzp: Option<&str>,
        at: Timestamp,
    ) -> Result<Payment> {
        let (id, rzp) = (id.as_str().to_owned(), rzp.map(str::to_owned));
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db_err)?;
            tx.execute(
                "UPDATE payments SET status = ?2, status_rank = ?3, updated_at = ?4,
                    razorpay_payment_id = CASE WHEN ?2 = 'credited' AND ?5 IS NOT NULL THEN ?5
                                               ELSE razorpay_payment_id END
                 WHERE id = ?1 AND status_rank < ?3",
                params![id, to.as_str(), to.rank(), ms(at), rzp],
            )
            .map_err(db_err)?;
            if let Some(rzp) = rzp {
                tx.execute(
                    "UPDATE payments SET razorpay_payment_id = ?2 WHERE id = ?1 AND razorpay_payment_id IS NULL",
                    params![id, rzp],
                )
                .map_err(db_err)?;
            }
            let after = find(&tx, "id", &id)?.ok_or(Error::NotFound("payment"))?;
            tx.commit().map_err(db_err)?;
            Ok(after)
        })
        .await
    }

    async fn add_refunded_credits(
        &self,
        id: &PaymentId,
        credits: i64,
        at: Timestamp,
    ) -> Result<()> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            c.execute(
                "UPDATE payments SET credits_refunded = credits_refunded + ?2, updated_at = ?3 WHERE id = ?1",
                params![id, credits, ms(at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn webhook_seen(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT 1 FROM webhook_events WHERE event_id = ?1",
                [event_id],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(db_err)
        })
        .await
    }

    async fn remember_webhook(&self, event_id: &str, at: Timestamp) -> Result<()> {
        let event_id = event_id.to_owned();
        self.call(move |c| {
            c.execute(
                "INSERT INTO webhook_events (event_id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![event_id, ms(at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}

/// A security event from `SELECT id, at, kind, user_id, ip, details, count`.
fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SecurityEvent> {
    let details: String = r.get(5)?;
    Ok(SecurityEvent {
        id: SecurityEventId::from_stored(r.get(0)?),
        at: from_ms(r.get(1)?),
        kind: r.get(2)?,
        user_id: r.get::<_, Option<String>>(3)?.map(UserId::from_stored),
        ip: r.get(4)?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
        count: r.get::<_, i64>(6)?.try_into().unwrap_or(0),
    })
}

#[async_trait]
impl SecurityEventStore for Sqlite {
    async fn record_security_event(&self, e: &SecurityEvent) -> Result<()> {
        let e = e.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO security_events (id, at, kind, user_id, ip, details, count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    e.id.as_str(),
                    ms(e.at),
                    e.kind,
                    e.user_id.as_ref().map(|u| u.as_str().to_owned()),
                    e.ip,
                    e.details.to_string(),
                    e.count as i64
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn count_security_event(&self, e: &SecurityEvent) -> Result<u64> {
        let e = e.clone();
        self.call(move |c| {
            let n: i64 = c
                .query_row(
                    "INSERT INTO security_events (id, at, kind, user_id, ip, details, count)
                     VALUES (?1, ?2, ?3, NULL, ?5, ?4, 1)
                     ON CONFLICT (id) DO UPDATE SET count = count + 1
                     RETURNING count",
                    params![e.id.as_str(), ms(e.at), e.kind, e.details.to_string(), e.ip],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            Ok(n.try_into().unwrap_or(0))
        })
        .await
    }

    async fn security_event(&self, id: &SecurityEventId) -> Result<Option<SecurityEvent>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, at, kind, user_id, ip, details, count FROM security_events WHERE id = ?1",
            )
            .map_err(db_err)?
            .query_row([id], event_from_row)
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn security_events(
        &self,
        kind: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<SecurityEvent>> {
        let (kind, page) = (kind.map(str::to_owned), page.clone());
        self.read(move |c| {
            let (at, id) = match &page.after {
                Some(cur) => (ms(cur.created_at), cur.id.clone()),
                None => (i64::MAX, "\u{10FFFF}".to_owned()),
            };
            let mut stmt = c
                .prepare(
                    "SELECT id, at, kind, user_id, ip, details, count FROM security_events
                     WHERE (?1 IS NULL OR kind = ?1) AND (at < ?2 OR (at = ?2 AND id < ?3))
                     ORDER BY at DESC, id DESC LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![kind, at, id, (page.limit + 1) as i64],
                    event_from_row,
                )
                .map_err(db_err)?;
            let items = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            Ok(Page::from_overfetch(items, page.limit, |e| Cursor {
                created_at: e.at,
                id: e.id.to_string(),
            }))
        })
        .await
    }
}
