//! `ThreadStore` in SQL: the queried fields as columns of `messages`, the thread itself (its
//! words and replies) one JSON body.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{db_err, ms, Sqlite};
use crate::error::{Error, Result};
use crate::ids::ThreadId;
use crate::messages::store::ThreadStore;
use crate::messages::{Thread, ThreadFilter};
use crate::paging::{Cursor, Page, PageRequest};

fn body(t: &Thread) -> Result<String> {
    serde_json::to_string(t).map_err(|e| Error::Internal(e.to_string()))
}

fn thread(id: &str, body: &str) -> Result<Thread> {
    serde_json::from_str(body).map_err(|e| Error::Corrupt(format!("message {id}: {e}")))
}

#[async_trait]
impl ThreadStore for Sqlite {
    async fn insert_thread(&self, t: &Thread) -> Result<()> {
        let (t, body) = (t.clone(), body(t)?);
        self.call(move |c| {
            c.execute(
                "INSERT INTO messages (id, user_id, kind, status, created_at, updated_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    t.id.as_str(),
                    t.user_id.as_str(),
                    t.kind.as_str(),
                    t.status.as_str(),
                    ms(t.created_at),
                    ms(t.updated_at),
                    body
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn thread(&self, id: &ThreadId) -> Result<Option<Thread>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            let found: Option<String> = c
                .prepare_cached("SELECT body FROM messages WHERE id = ?1")
                .map_err(db_err)?
                .query_row([&id], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            found.map(|b| thread(&id, &b)).transpose()
        })
        .await
    }

    async fn update_thread(&self, t: &Thread) -> Result<()> {
        let (t, body) = (t.clone(), body(t)?);
        self.call(move |c| {
            c.execute(
                "UPDATE messages SET status = ?2, updated_at = ?3, body = ?4 WHERE id = ?1",
                params![t.id.as_str(), t.status.as_str(), ms(t.updated_at), body],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn threads(&self, filter: &ThreadFilter, page: &PageRequest) -> Result<Page<Thread>> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| {
            let (at, id) = super::jobs::after(&page);
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, body FROM messages
                     WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR kind = ?2)
                       AND (?3 IS NULL OR status = ?3)
                       AND (created_at < ?4 OR (created_at = ?4 AND id < ?5))
                     ORDER BY created_at DESC, id DESC LIMIT ?6",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![
                        filter.user.as_ref().map(|u| u.as_str().to_owned()),
                        filter.kind.map(|k| k.as_str()),
                        filter.status.map(|s| s.as_str()),
                        at,
                        id,
                        (page.limit + 1) as i64
                    ],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .map_err(db_err)?;
            let items = rows
                .map(|r| {
                    let (id, b) = r.map_err(db_err)?;
                    thread(&id, &b)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |t| Cursor {
                created_at: t.created_at,
                id: t.id.to_string(),
            }))
        })
        .await
    }
}
