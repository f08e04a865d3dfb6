//! `RequestStore` in SQL: the queried fields are columns, the rest of a request one JSON body;
//! the email is a column of its own, so erasure can drop it and keep the keyed hash.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, ms, Sqlite};
use crate::accounts::Email;
use crate::error::{Error, Result};
use crate::ids::RequestId;
use crate::paging::{Cursor, Page, PageRequest};
use crate::privacy::requests::{PrivacyRequest, RequestFilter, RequestStore};

fn from_row(r: &Row<'_>) -> rusqlite::Result<(String, Option<String>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn finish((id, email, body): (String, Option<String>, String)) -> Result<PrivacyRequest> {
    let mut request: PrivacyRequest = serde_json::from_str(&body)
        .map_err(|e| Error::Corrupt(format!("privacy request {id}: {e}")))?;
    request.email = email.map(Email::from_stored);
    Ok(request)
}

fn body(r: &PrivacyRequest) -> Result<String> {
    serde_json::to_string(r).map_err(|e| Error::Internal(e.to_string()))
}

#[async_trait]
impl RequestStore for Sqlite {
    async fn insert_request(&self, r: &PrivacyRequest) -> Result<()> {
        let (r, body) = (r.clone(), body(r)?);
        self.call(move |c| {
            c.execute(
                "INSERT INTO privacy_requests
                   (id, type, status, user_id, email, email_hash, received_at, due_at, version, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    r.id.as_str(),
                    r.kind.as_str(),
                    r.status.as_str(),
                    r.user_id.as_ref().map(|u| u.as_str().to_owned()),
                    r.email.as_ref().map(|e| e.as_str().to_owned()),
                    r.email_hash,
                    ms(r.received_at),
                    ms(r.due_at),
                    r.version,
                    body
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn request(&self, id: &RequestId) -> Result<Option<PrivacyRequest>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached("SELECT id, email, body FROM privacy_requests WHERE id = ?1")
                .map_err(db_err)?
                .query_row([id], from_row)
                .optional()
                .map_err(db_err)?
                .map(finish)
                .transpose()
        })
        .await
    }

    async fn update_request(&self, r: &PrivacyRequest) -> Result<bool> {
        let (r, body) = (r.clone(), body(r)?);
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE privacy_requests SET status = ?2, user_id = ?3, email = ?4,
                       due_at = ?5, version = ?6, body = ?7
                     WHERE id = ?1 AND version = ?6 - 1",
                    params![
                        r.id.as_str(),
                        r.status.as_str(),
                        r.user_id.as_ref().map(|u| u.as_str().to_owned()),
                        r.email.as_ref().map(|e| e.as_str().to_owned()),
                        ms(r.due_at),
                        r.version,
                        body
                    ],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn requests(
        &self,
        filter: &RequestFilter,
        page: &PageRequest,
    ) -> Result<Page<PrivacyRequest>> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| {
            let (at, id) = super::jobs::after(&page);
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, email, body FROM privacy_requests
                     WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2)
                       AND (?3 IS NULL OR user_id = ?3)
                       AND (?4 IS NULL OR (due_at < ?4 AND status NOT IN ('completed', 'rejected')))
                       AND (received_at < ?5 OR (received_at = ?5 AND id < ?6))
                     ORDER BY received_at DESC, id DESC LIMIT ?7",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![
                        filter.status.map(|s| s.as_str()),
                        filter.kind.map(|k| k.as_str()),
                        filter.user.as_ref().map(|u| u.as_str().to_owned()),
                        filter.open_due_before.map(ms),
                        at,
                        id,
                        (page.limit + 1) as i64
                    ],
                    from_row,
                )
                .map_err(db_err)?;
            let items = rows
                .map(|r| finish(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |r| Cursor {
                created_at: r.received_at,
                id: r.id.to_string(),
            }))
        })
        .await
    }
}
