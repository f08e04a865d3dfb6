//! `OutboxStore` in SQL.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{MessageId, UserId};
use crate::mail::store::OutboxStore;
use crate::mail::{MessageStatus, OutboxMessage};
use crate::paging::{Cursor, Page, PageRequest};

const COLUMNS: &str = "id, user_id, to_email, template, subject, text_body, html_body, idempotency_key, \
                       status, attempts, next_attempt_at, last_error, provider_message_id, created_at, sent_at";

fn message_from(r: &Row<'_>) -> rusqlite::Result<(OutboxMessage, String)> {
    Ok((
        OutboxMessage {
            id: MessageId::from_stored(r.get(0)?),
            user_id: r.get::<_, Option<String>>(1)?.map(UserId::from_stored),
            to: r.get(2)?,
            template: r.get(3)?,
            subject: r.get(4)?,
            text: r.get(5)?,
            html: r.get(6)?,
            idempotency_key: r.get(7)?,
            status: MessageStatus::Pending,
            attempts: r.get::<_, i64>(9)? as u32,
            next_attempt_at: from_ms(r.get(10)?),
            last_error: r.get(11)?,
            provider_message_id: r.get(12)?,
            created_at: from_ms(r.get(13)?),
            sent_at: r.get::<_, Option<i64>>(14)?.map(from_ms),
        },
        r.get(8)?,
    ))
}

fn finish((mut m, status): (OutboxMessage, String)) -> Result<OutboxMessage> {
    m.status = MessageStatus::parse(&status)?;
    Ok(m)
}

#[async_trait]
impl OutboxStore for Sqlite {
    async fn enqueue(&self, m: &OutboxMessage) -> Result<bool> {
        let m = m.clone();
        self.call(move |c| {
            let n = c
                .execute(
                    &format!(
                        "INSERT INTO outbox ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                         ON CONFLICT (idempotency_key) DO NOTHING"
                    ),
                    params![
                        m.id.as_str(),
                        m.user_id.as_ref().map(|u| u.as_str().to_owned()),
                        m.to,
                        m.template,
                        m.subject,
                        m.text,
                        m.html,
                        m.idempotency_key,
                        m.status.as_str(),
                        m.attempts,
                        ms(m.next_attempt_at),
                        m.last_error,
                        m.provider_message_id,
                        ms(m.created_at),
                        m.sent_at.map(ms)
                    ],
                )
                .map_err(db_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn mark_sent(
        &self,
        id: &MessageId,
        holder: &str,
        provider_id: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let (id, holder, provider_id) = (
            id.as_str().to_owned(),
            holder.to_owned(),
            provider_id.to_owned(),
        );
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET status = 'sent', provider_message_id = ?3, sent_at = ?4, attempts = attempts + 1,
                    text_body = '', html_body = '', last_error = NULL, lease_holder = NULL, lease_until = NULL
                 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder, provider_id, ms(at)],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn purge_recipient(&self, id: &MessageId) -> Result<bool> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET to_email = '', text_body = '', html_body = '', last_error = NULL
                 WHERE id = ?1 AND status IN ('sent', 'failed')",
                [id],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn mark_retry(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        next: Timestamp,
        error: &str,
    ) -> Result<bool> {
        let (id, holder, error) = (id.as_str().to_owned(), holder.to_owned(), error.to_owned());
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET attempts = ?3, next_attempt_at = ?4, last_error = ?5, lease_holder = NULL, lease_until = NULL
                 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder, attempts, ms(next), error],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn mark_failed(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        error: &str,
    ) -> Result<bool> {
        let (id, holder, error) = (id.as_str().to_owned(), holder.to_owned(), error.to_owned());
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET status = 'failed', attempts = ?3, last_error = ?4, lease_holder = NULL, lease_until = NULL
                 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder, attempts, error],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn list_outbox(
        &self,
        status: Option<MessageStatus>,
        page: &PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        let (status, page) = (status.map(|s| s.as_str().to_owned()), page.clone());
        self.read(move |c| {
            let (at, id) = match &page.after {
                Some(cur) => (ms(cur.created_at), cur.id.clone()),
                None => (i64::MAX, "\u{10FFFF}".to_owned()),
            };
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM outbox
                     WHERE (?1 IS NULL OR status = ?1) AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
                     ORDER BY created_at DESC, id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map(params![status, at, id, (page.limit + 1) as i64], message_from).map_err(db_err)?;
            let items = rows.map(|r| finish(r.map_err(db_err)?)).collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |m| Cursor { created_at: m.created_at, id: m.id.to_string() }))
        })
        .await
    }

    async fn outbox_message(&self, id: &MessageId) -> Result<Option<OutboxMessage>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                message_from,
            )
            .optional()
            .map_err(db_err)?
            .map(finish)
            .transpose()
        })
        .await
    }

    async fn requeue(&self, id: &MessageId, at: Timestamp) -> Result<bool> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1 AND status = 'failed'",
                params![id, ms(at)],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }
}
