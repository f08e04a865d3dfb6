//! `JobStore` in BSON: a job is a document (the `Job` fields plus `_id`, `created_ms` and the
//! lease), changed by read–apply–replace guarded on `status_seq` (optimistic concurrency; a
//! lost race re-reads and retries). A finished variant and its render are written in one
//! transaction.

use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};
use mongodb::ClientSession;

use super::{is_duplicate, mongo_err, Mongo};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{JobId, RenderId, UserId};
use crate::store::Lease;
use crate::studio::apply;
use crate::studio::jobs::{Job, JobStatus, Render, VariantOutcome};
use crate::studio::store::JobStore;

fn job_doc(job: &Job, lease: Option<&Lease>) -> Result<Document> {
    let mut d = bson::to_document(job).map_err(|e| Error::Internal(e.to_string()))?;
    d.insert("_id", job.id.as_str());
    d.insert("created_ms", job.created_at.timestamp_millis());
    if job.idempotency_key.is_none() {
        d.remove("idempotency_key");
    }
    if let Some(l) = lease.filter(|_| !job.status.is_final()) {
        d.insert("lease_holder", &l.holder);
        d.insert("lease_until_ms", l.until.timestamp_millis());
    }
    Ok(d)
}

fn job_from(d: Document) -> Result<Job> {
    bson::from_document(d).map_err(|e| Error::Corrupt(format!("a stored job: {e}")))
}

fn lease_of(d: &Document) -> Option<Lease> {
    let holder = d.get_str("lease_holder").ok()?.to_owned();
    let until = chrono::DateTime::from_timestamp_millis(d.get_i64("lease_until_ms").ok()?)?;
    Some(Lease { holder, until })
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
            let lease = lease_of(&d);
            let mut job = job_from(d)?;
            let before = job.status_seq as i64;
            let out = f(&mut job);
            if job.status_seq as i64 == before {
                return Ok(out);
            }
            let replaced = self
                .jobs()
                .replace_one(
                    doc! { "_id": id.as_str(), "status_seq": before },
                    job_doc(&job, lease.as_ref())?,
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
        let lease = lease_of(&d);
        let custom = |e: Error| mongodb::error::Error::custom(e.to_string());
        let mut job = job_from(d).map_err(custom)?;
        let before = job.status_seq as i64;
        if !apply::finish_variant(&mut job, index, outcome, at) {
            session.abort_transaction().await?;
            return Ok(false);
        }
        let replaced = self
            .jobs()
            .replace_one(
                doc! { "_id": id.as_str(), "status_seq": before },
                job_doc(&job, lease.as_ref()).map_err(custom)?,
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
}

#[async_trait]
impl JobStore for Mongo {
    async fn insert_job(&self, job: &Job) -> Result<()> {
        match self.jobs().insert_one(job_doc(job, None)?).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate(&e) => Err(Error::Conflict(
                "this idempotency key was used for another job".into(),
            )),
            Err(e) => Err(mongo_err(e)),
        }
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

    async fn jobs(&self, owner: &UserId, limit: usize) -> Result<Vec<Job>> {
        let docs: Vec<Document> = self
            .jobs()
            .find(doc! { "user_id": owner.as_str() })
            .sort(doc! { "created_ms": -1, "_id": -1 })
            .limit(limit as i64)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.into_iter().map(job_from).collect()
    }

    async fn claim_job(
        &self,
        now: Timestamp,
        lease: &Lease,
        only: Option<&JobId>,
    ) -> Result<Option<Job>> {
        let now_ms = now.timestamp_millis();
        for _ in 0..50 {
            let mut filter = doc! {
                "status": { "$in": ["queued", "running"] },
                "$or": [ { "lease_until_ms": { "$exists": false } }, { "lease_until_ms": Bson::Null }, { "lease_until_ms": { "$lt": now_ms } } ],
            };
            if let Some(id) = only {
                filter.insert("_id", id.as_str());
            }
            let Some(d) = self
                .jobs()
                .find_one(filter)
                .sort(doc! { "created_ms": 1, "_id": 1 })
                .await
                .map_err(mongo_err)?
            else {
                return Ok(None);
            };
            let mut job = job_from(d)?;
            let before = job.status_seq as i64;
            apply::leased(&mut job);
            let taken = self
                .jobs()
                .replace_one(
                    doc! { "_id": job.id.as_str(), "status_seq": before },
                    job_doc(&job, Some(lease))?,
                )
                .await
                .map_err(mongo_err)?;
            if taken.matched_count == 1 {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    async fn release_job(&self, id: &JobId) -> Result<()> {
        self.jobs()
            .update_one(
                doc! { "_id": id.as_str(), "status": { "$in": ["queued", "running"] } },
                doc! { "$unset": { "lease_holder": "", "lease_until_ms": "" } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn renew_job(&self, id: &JobId, lease: &Lease) -> Result<bool> {
        let r = self
            .jobs()
            .update_one(
                doc! { "_id": id.as_str(), "lease_holder": &lease.holder },
                doc! { "$set": { "lease_until_ms": lease.until.timestamp_millis() } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count == 1)
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

    async fn set_job_status(&self, id: &JobId, status: JobStatus, at: Timestamp) -> Result<()> {
        self.mutate(id, |job| {
            apply::set_status(job, status, at);
        })
        .await?;
        if status.is_final() {
            self.jobs()
                .update_one(
                    doc! { "_id": id.as_str() },
                    doc! { "$unset": { "lease_holder": "", "lease_until_ms": "" } },
                )
                .await
                .map_err(mongo_err)?;
        }
        Ok(())
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
        selected_only: bool,
        limit: usize,
    ) -> Result<Vec<Render>> {
        let mut filter = doc! { "user_id": owner.as_str() };
        if selected_only {
            filter.insert("selected", true);
        }
        let docs: Vec<Document> = self
            .renders()
            .find(filter)
            .sort(doc! { "created_ms": -1, "_id": -1 })
            .limit(limit as i64)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.into_iter().map(render_from).collect()
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
