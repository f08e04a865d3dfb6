//! `JobStore` in SQL: the job is one JSON row; each change reads, applies `studio::apply` and
//! writes back in an IMMEDIATE transaction (with the render row, for a finished variant).

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction};

use super::{db_err, ms, Sqlite};
use crate::clock::Timestamp;
use crate::credits::NewLedgerEntry;
use crate::error::{Error, Result};
use crate::ids::{JobId, RenderId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::studio::apply;
use crate::studio::jobs::{Job, JobStatus, Queued, Render, VariantOutcome};
use crate::studio::store::{JobStore, RenderFilter};

/// Where a newest-first page starts: after the cursor, or at the very top.
pub(super) fn after(page: &PageRequest) -> (i64, String) {
    match &page.after {
        Some(c) => (ms(c.created_at), c.id.clone()),
        None => (i64::MAX, "\u{10FFFF}".to_owned()),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Corrupt(format!("a stored job or render: {e}")))
}

/// The columns a job is read from: its body and how often it was leased.
const JOB_COLUMNS: &str = "body, lease_count";

fn job_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64)> {
    Ok((r.get(0)?, r.get(1)?))
}

fn finish_job((body, leases): (String, i64)) -> Result<Job> {
    let mut job: Job = from_json(&body)?;
    job.attempts = leases.try_into().unwrap_or(u32::MAX);
    Ok(job)
}

fn load(tx: &rusqlite::Connection, id: &str) -> Result<Option<Job>> {
    /// Built once: the statement cache is keyed by the text.
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"));
    tx.prepare_cached(&SQL)
        .map_err(db_err)?
        .query_row([id], job_from)
        .optional()
        .map_err(db_err)?
        .map(finish_job)
        .transpose()
}

fn save(tx: &Transaction<'_>, job: &Job) -> Result<()> {
    tx.execute(
        "UPDATE jobs SET status = ?2, body = ?3 WHERE id = ?1",
        params![job.id.as_str(), job.status.as_str(), to_json(job)?],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Loads, changes and saves a job in one transaction.
fn change<R>(
    c: &mut rusqlite::Connection,
    id: &str,
    f: impl FnOnce(&Transaction<'_>, &mut Job) -> Result<R>,
) -> Result<R> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut job = load(&tx, id)?.ok_or(Error::NotFound("job"))?;
    let out = f(&tx, &mut job)?;
    save(&tx, &job)?;
    tx.commit().map_err(db_err)?;
    Ok(out)
}

#[async_trait]
impl JobStore for Sqlite {
    async fn queue_job(
        &self,
        job: &Job,
        reservation: &NewLedgerEntry,
        at: Timestamp,
    ) -> Result<Queued> {
        let (job, reservation) = (job.clone(), reservation.clone());
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if let Some(key) = &job.idempotency_key {
                let first = tx
                    .query_row(
                        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ?1 AND idempotency_key = ?2"),
                        params![job.user_id.as_str(), key],
                        job_from,
                    )
                    .optional()
                    .map_err(db_err)?;
                if let Some(first) = first {
                    return Ok(Queued::Existing(Box::new(finish_job(first)?)));
                }
            }
            super::ledger::append_in(&tx, &reservation, at)?;
            crate::faults::hit("queue_job.reserved");
            tx.execute(
                "INSERT INTO jobs (id, user_id, status, idempotency_key, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![job.id.as_str(), job.user_id.as_str(), job.status.as_str(), job.idempotency_key, ms(job.created_at), to_json(&job)?],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(Queued::Created)
        })
        .await
    }

    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> Result<Option<Job>> {
        let (owner, id) = (owner.map(|o| o.as_str().to_owned()), id.as_str().to_owned());
        self.read(move |c| {
            Ok(load(c, &id)?.filter(|j| owner.as_deref().is_none_or(|o| j.user_id.as_str() == o)))
        })
        .await
    }

    async fn job_by_key(&self, owner: &UserId, key: &str) -> Result<Option<Job>> {
        let (owner, key) = (owner.as_str().to_owned(), key.to_owned());
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ?1 AND idempotency_key = ?2"
                ),
                params![owner, key],
                job_from,
            )
            .optional()
            .map_err(db_err)?
            .map(finish_job)
            .transpose()
        })
        .await
    }

    async fn jobs(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Job>> {
        let (owner, page) = (owner.as_str().to_owned(), page.clone());
        self.read(move |c| {
            let (at, id) = after(&page);
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ?1
                       AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
                     ORDER BY created_at DESC, id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![owner, at, id, (page.limit + 1) as i64], job_from)
                .map_err(db_err)?;
            let jobs = rows
                .map(|r| finish_job(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(jobs, page.limit, |j| Cursor {
                created_at: j.created_at,
                id: j.id.to_string(),
            }))
        })
        .await
    }

    async fn finish_variant(
        &self,
        id: &JobId,
        index: u32,
        outcome: &VariantOutcome,
        render: Option<&Render>,
        at: Timestamp,
    ) -> Result<bool> {
        let (id, outcome, render) = (id.as_str().to_owned(), outcome.clone(), render.cloned());
        self.call(move |c| {
            change(c, &id, |tx, job| {
                if !apply::finish_variant(job, index, &outcome, at) {
                    return Ok(false);
                }
                if let Some(r) = &render {
                    tx.execute(
                        "INSERT INTO renders (id, job_id, user_id, variant, created_at, body, blob_id, selected)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            r.id.as_str(),
                            r.job_id.as_str(),
                            r.user_id.as_str(),
                            r.variant,
                            ms(r.created_at),
                            to_json(r)?,
                            r.blob_id.as_str(),
                            r.selected
                        ],
                    )
                    .map_err(db_err)?;
                }
                Ok(true)
            })
        })
        .await
    }

    async fn set_job_status(&self, id: &JobId, status: JobStatus, at: Timestamp) -> Result<Job> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            change(c, &id, |_, job| {
                apply::set_status(job, status, at);
                Ok(job.clone())
            })
        })
        .await
    }

    async fn add_job_refund(&self, id: &JobId, credits: i64) -> Result<()> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            change(c, &id, |_, job| {
                apply::add_refund(job, credits);
                Ok(())
            })
        })
        .await
    }

    async fn render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT body FROM renders WHERE id = ?1 AND user_id = ?2",
                params![id, owner],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db_err)?
            .map(|b| from_json(&b))
            .transpose()
        })
        .await
    }

    async fn job_renders(&self, job: &JobId) -> Result<Vec<Render>> {
        let job = job.as_str().to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare("SELECT body FROM renders WHERE job_id = ?1 ORDER BY variant")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([job], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| from_json(&r.map_err(db_err)?)).collect()
        })
        .await
    }
}

impl Sqlite {
    fn render_query(
        &self,
        sql: &'static str,
        args: Vec<String>,
    ) -> impl std::future::Future<Output = Result<Vec<Render>>> + '_ {
        self.read(move |c| {
            let mut stmt = c.prepare(sql).map_err(db_err)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db_err)?;
            rows.map(|r| from_json(&r.map_err(db_err)?)).collect()
        })
    }
}

#[async_trait]
impl crate::studio::store::RenderStore for Sqlite {
    async fn renders(
        &self,
        owner: &UserId,
        filter: &RenderFilter,
        page: &PageRequest,
    ) -> Result<Page<Render>> {
        let (owner, page, selected_only) = (
            owner.as_str().to_owned(),
            page.clone(),
            filter.selected_only,
        );
        let among = filter.among.as_ref().map(to_json).transpose()?;
        self.read(move |c| {
            let (at, id) = after(&page);
            let mut stmt = c
                .prepare(
                    "SELECT body FROM renders WHERE user_id = ?1 AND (?2 = 0 OR selected = 1)
                       AND (?6 IS NULL OR id IN (SELECT value FROM json_each(?6)))
                       AND (created_at < ?3 OR (created_at = ?3 AND id < ?4))
                     ORDER BY created_at DESC, id DESC LIMIT ?5",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![owner, selected_only, at, id, (page.limit + 1) as i64, among],
                    |r| r.get::<_, String>(0),
                )
                .map_err(db_err)?;
            let renders = rows
                .map(|r| from_json::<Render>(&r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(renders, page.limit, |r| Cursor {
                created_at: r.created_at,
                id: r.id.to_string(),
            }))
        })
        .await
    }

    async fn set_selected(
        &self,
        owner: &UserId,
        id: &RenderId,
        selected: bool,
    ) -> Result<Option<Render>> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM renders WHERE id = ?1 AND user_id = ?2",
                    params![id, owner],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let Some(body) = body else { return Ok(None) };
            let mut render: Render = from_json(&body)?;
            render.selected = selected;
            tx.execute(
                "UPDATE renders SET body = ?2, selected = ?3 WHERE id = ?1",
                params![id, to_json(&render)?, selected],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(Some(render))
        })
        .await
    }

    async fn delete_render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.call(move |c| {
            let body: Option<String> = c
                .query_row(
                    "DELETE FROM renders WHERE id = ?1 AND user_id = ?2 RETURNING body",
                    params![id, owner],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            body.map(|b| from_json(&b)).transpose()
        })
        .await
    }

    async fn render_by_blob(&self, blob: &crate::ids::BlobId) -> Result<Option<Render>> {
        Ok(self
            .render_query(
                "SELECT body FROM renders WHERE blob_id = ?1 LIMIT 1",
                vec![blob.as_str().to_owned()],
            )
            .await?
            .into_iter()
            .next())
    }
}
