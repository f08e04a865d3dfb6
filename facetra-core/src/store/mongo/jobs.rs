//! `JobStore` in BSON: a job is a document (the `Job` fields plus `_id`, `created_ms` and the
//! lease, which only `leases.rs` writes), changed by read–apply–`$set` guarded on `status_seq`
//! (optimistic concurrency; a lost race re-reads and retries). A job and its credit
//! reservation are inserted in one transaction, and so are a finished variant and its render.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};
use mongodb::ClientSession;
use rand::Rng;

use super::{is_duplicate, mongo_err, newest_first, Mongo, TimeKey};
use crate::clock::Timestamp;
use crate::credits::{LedgerEntry, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{JobId, RenderId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::studio::apply;
use crate::studio::jobs::{Job, JobStatus, Queued, Render, VariantOutcome};
use crate::studio::store::{JobStore, RenderFilter};

/// The job's own fields (never the lease's).
fn job_doc(job: &Job) -> Result<Document> {
    let mut d = bson::to_document(job).map_err(|e| Error::Internal(e.to_string()))?;
    d.insert("_id", job.id.as_str());
    d.insert("created_ms", job.created_at.timestamp_millis());
    if job.idempotency_key.is_none() {
        d.remove("idempotency_key");
    }
    Ok(d)
}

fn job_from(d: Document) -> Result<Job> {
    let leases = match d.get("lease_count") {
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        _ => 0,
    };
    let mut job: Job =
        bson::from_document(d).map_err(|e| Error::Corrupt(format!("a stored job: {e}")))?;
    job.attempts = leases.try_into().unwrap_or(0);
    Ok(job)
}

/// The `$set` that stores a changed job without touching its lease.
fn job_set(job: &Job) -> Result<Document> {
    let mut fields = job_doc(job)?;
    fields.remove("_id");
    Ok(doc! { "$set": fields })
}

/// Why one attempt at queueing a job stopped.
enum QueueError {
    /// A domain refusal (not enough credits): final.
    Refused(Error),
    /// The driver's error: a conflict to retry, or a failure.
    Driver(mongodb::error::Error),
}

impl From<mongodb::error::Error> for QueueError {
    fn from(e: mongodb::error::Error) -> Self {
        QueueError::Driver(e)
    }
}

fn render_doc(r: &Render) -> Result<Document> {
    let mut d = bson::to_document(r).map_err(|e| Error::Internal(e.to_string()))?;
    d.insert("_id", r.id.as_str());
    d.insert("created_ms", r.created_at.timestamp_millis());
    Ok(d)
}

fn render_from(d: Document) -> Result<Render> {
    bson::from_document(d).map_err(|e| Error::Corrupt(format!("a stored render: {e}")))
}

impl Mongo {
    /// Reads the job, applies `f`, and replaces it if nobody changed it meanwhile.
    async fn mutate<R>(&self, id: &JobId, mut f: impl FnMut(&mut Job) -> R) -> Result<R> {
        for attempt in 0..200u32 {
            let d = self
                .jobs()
                .find_one(doc! { "_id": id.as_str() })
                .await
                .map_err(mongo_err)?
                .ok_or(Error::NotFound("job"))?;
            let mut job = job_from(d)?;
            let before = job.status_seq as i64;
            let out = f(&mut job);
            if job.status_seq as i64 == before {
                return Ok(out);
            }
            let replaced = self
                .jobs()
                .update_one(
                    doc! { "_id": id.as_str(), "status_seq": before },
                    job_set(&job)?,
                )
                .await
                .map_err(mongo_err)?;
            if replaced.matched_count == 1 {
                return Ok(out);
            }
            tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(20)))).await;
        }
        Err(Error::Unavailable(
            "the job stayed contended; try again".into(),
        ))
    }

    async fn finish_once(
        &self,
        session: &mut ClientSession,
        id: &JobId,
        index: u32,
        outcome: &VariantOutcome,
        render: Option<&Render>,
        at: Timestamp,
    ) -> mongodb::error::Result<bool> {
        session.start_transaction().await?;
        let Some(d) = self
            .jobs()
            .find_one(doc! { "_id": id.as_str() })
            .session(&mut *session)
            .await?
        else {
            session.abort_transaction().await?;
            return Ok(false);
        };
        let custom = |e: Error| mongodb::error::Error::custom(e.to_string());
        let mut job = job_from(d).map_err(custom)?;
        let before = job.status_seq as i64;
        if !apply::finish_variant(&mut job, index, outcome, at) {
            session.abort_transaction().await?;
            return Ok(false);
        }
        let replaced = self
            .jobs()
            .update_one(
                doc! { "_id": id.as_str(), "status_seq": before },
                job_set(&job).map_err(custom)?,
            )
            .session(&mut *session)
            .await?;
        if replaced.matched_count != 1 {
            session.abort_transaction().await?;
            return Err(mongodb::error::Error::custom("retry: the job changed"));
        }
        if let Some(r) = render {
            self.renders()
                .insert_one(render_doc(r).map_err(custom)?)
                .session(&mut *session)
                .await?;
        }
        session.commit_transaction().await?;
        Ok(true)
    }

    /// The owner's job under `job`'s idempotency key, if it has one.
    async fn same_key(&self, job: &Job) -> Result<Option<Job>> {
        match &job.idempotency_key {
            Some(key) => self.job_by_key(&job.user_id, key).await,
            None => Ok(None),
        }
    }

    /// One transaction: the reservation (the next ledger entry) and the job.
    async fn queue_job_once(
        &self,
        session: &mut ClientSession,
        job: &Job,
        reservation: &NewLedgerEntry,
        at: Timestamp,
    ) -> std::result::Result<(), QueueError> {
        session.start_transaction().await?;
        let custom = |e: Error| mongodb::error::Error::custom(e.to_string());
        let last = self
            .ledger()
            .find_one(doc! { "user_id": reservation.user_id.as_str() })
            .sort(doc! { "seq": -1 })
            .session(&mut *session)
            .await?
            .as_ref()
            .map(super::ledger::entry_from)
            .transpose()
            .map_err(custom)?;
        let entry = match LedgerEntry::next(last.map(|l| (l.seq, l.balance_after)), reservation, at)
        {
            Ok(entry) => entry,
            Err(refused) => {
                session.abort_transaction().await?;
                return Err(QueueError::Refused(refused));
            }
        };
        self.ledger()
            .insert_one(super::ledger::entry_doc(&entry))
            .session(&mut *session)
            .await?;
        crate::faults::hit("queue_job.reserved");
        self.jobs()
            .insert_one(job_doc(job).map_err(custom)?)
            .session(&mut *session)
            .await?;
        session.commit_transaction().await?;
        Ok(())
    }
}

#[async_trait]
impl JobStore for Mongo {
    async fn queue_job(
        &self,
        job: &Job,
        reservation: &NewLedgerEntry,
        at: Timestamp,
    ) -> Result<Queued> {
        if let Some(first) = self.same_key(job).await? {
            return Ok(Queued::Existing(Box::new(first)));
        }
        let mut session = self.client.start_session().await.map_err(mongo_err)?;
        for attempt in 0..200u32 {
            match self
                .queue_job_once(&mut session, job, reservation, at)
                .await
            {
                Ok(()) => return Ok(Queued::Created),
                Err(QueueError::Refused(e)) => return Err(e),
                Err(QueueError::Driver(e)) => {
                    let _ = session.abort_transaction().await;
                    if is_duplicate(&e) {
                        // Our own commit that was reported lost, a job under the same key, or
                        // another ledger entry that took our seq (then try again).
                        if self.job(None, &job.id).await?.is_some() {
                            return Ok(Queued::Created);
                        }
                        if let Some(first) = self.same_key(job).await? {
                            return Ok(Queued::Existing(Box::new(first)));
                        }
                    } else if !e.contains_label("TransientTransactionError")
                        && !e.contains_label("UnknownTransactionCommitResult")
                    {
                        return Err(mongo_err(e));
                    }
                    let pause = rand::thread_rng().gen_range(0..=(1u64 << attempt.min(6)));
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            }
        }
        Err(Error::Unavailable(
            "the ledger stayed contended; try again".into(),
        ))
    }

    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> Result<Option<Job>> {
        let mut filter = doc! { "_id": id.as_str() };
        if let Some(o) = owner {
            filter.insert("user_id", o.as_str());
        }
        self.jobs()
            .find_one(filter)
            .await
            .map_err(mongo_err)?
            .map(job_from)
            .transpose()
    }

    async fn job_by_key(&self, owner: &UserId, key: &str) -> Result<Option<Job>> {
        self.jobs()
            .find_one(doc! { "user_id": owner.as_str(), "idempotency_key": key })
            .await
            .map_err(mongo_err)?
            .map(job_from)
            .transpose()
    }

    async fn jobs(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Job>> {
        newest_first(
            &self.jobs(),
            doc! { "user_id": owner.as_str() },
            TimeKey::Millis("created_ms"),
            page,
            |d| job_from(d.clone()),
            |j| Cursor {
                created_at: j.created_at,
                id: j.id.to_string(),
            },
        )
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
        let mut session = self.client.start_session().await.map_err(mongo_err)?;
        for attempt in 0..100u32 {
            match self
                .finish_once(&mut session, id, index, outcome, render, at)
                .await
            {
                Ok(done) => return Ok(done),
                Err(e)
                    if e.contains_label("TransientTransactionError")
                        || e.to_string().contains("retry: the job changed") =>
                {
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(20)))).await;
                }
                Err(e) if is_duplicate(&e) => return Ok(false),
                Err(e) => return Err(mongo_err(e)),
            }
        }
        Err(Error::Unavailable(
            "the job stayed contended; try again".into(),
        ))
    }

    async fn set_job_status(&self, id: &JobId, status: JobStatus, at: Timestamp) -> Result<Job> {
        self.mutate(id, |job| {
            apply::set_status(job, status, at);
            job.clone()
        })
        .await
    }

    async fn add_job_refund(&self, id: &JobId, credits: i64) -> Result<()> {
        self.mutate(id, |job| apply::add_refund(job, credits)).await
    }

    async fn render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>> {
        self.renders()
            .find_one(doc! { "_id": id.as_str(), "user_id": owner.as_str() })
            .await
            .map_err(mongo_err)?
            .map(render_from)
            .transpose()
    }

    async fn job_renders(&self, job: &JobId) -> Result<Vec<Render>> {
        let docs: Vec<Document> = self
            .renders()
            .find(doc! { "job_id": job.as_str() })
            .sort(doc! { "variant": 1 })
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.into_iter().map(render_from).collect()
    }
}

#[async_trait]
impl crate::studio::store::RenderStore for Mongo {
    async fn renders(
        &self,
        owner: &UserId,
        which: &RenderFilter,
        page: &PageRequest,
    ) -> Result<Page<Render>> {
        let mut filter = doc! { "user_id": owner.as_str() };
        if which.selected_only {
            filter.insert("selected", true);
        }
        if let Some(ids) = &which.among {
            let ids: Vec<&str> = ids.iter().map(|r| r.as_str()).collect();
            filter.insert("_id", doc! { "$in": ids });
        }
        newest_first(
            &self.renders(),
            filter,
            TimeKey::Millis("created_ms"),
            page,
            |d| render_from(d.clone()),
            |r| Cursor {
                created_at: r.created_at,
                id: r.id.to_string(),
            },
        )
        .await
    }

    async fn set_selected(
        &self,
        owner: &UserId,
        id: &RenderId,
        selected: bool,
    ) -> Result<Option<Render>> {
        let updated = self
            .renders()
            .find_one_and_update(
                doc! { "_id": id.as_str(), "user_id": owner.as_str() },
                doc! { "$set": { "selected": selected } },
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(mongo_err)?;
        updated.map(render_from).transpose()
    }

    async fn delete_render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>> {
        let gone = self
            .renders()
            .find_one_and_delete(doc! { "_id": id.as_str(), "user_id": owner.as_str() })
            .await
            .map_err(mongo_err)?;
        gone.map(render_from).transpose()
    }

    async fn render_by_blob(&self, blob: &crate::ids::BlobId) -> Result<Option<Render>> {
        self.renders()
            .find_one(doc! { "blob_id": blob.as_str() })
            .await
            .map_err(mongo_err)?
            .map(render_from)
            .transpose()
    }
}
