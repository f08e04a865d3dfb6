//! Render jobs: a quote reserves nothing; a request reserves its credits under
//! `reserve:{job}` and becomes a job; a worker leases the job (an expiring, renewed lease on
//! the record), makes one provider call per variant, and finishes each variant once: with its
//! render (charged: the reservation stands) or refunded under `refund:{job}:{variant}`. A job
//! whose worker died is leased again, at most 3 times, then failed with refunds.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::providers::{
    identify, parse_aspect, FailureClass, GenerationFailure, ImageGenerator, ImageRequest,
};
use super::{Studio, UploadKind};
use crate::clock::Timestamp;
use crate::credits::{LedgerKind, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{JobId, RenderId, UploadId, UserId};
use crate::lease::{work_loop, Lease, Pass, Queue};
use crate::paging::{Page, PageRequest};
use crate::privacy::usage::{Feature, UsageType};
use crate::Actor;

/// How many times a job is leased before it is failed and refunded.
pub const MAX_ATTEMPTS: u32 = 3;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Whether nothing more will happen to the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// Where a variant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantStatus {
    Queued,
    Succeeded,
    Failed,
    Cancelled,
}

/// One variant of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub index: u32,
    pub status: VariantStatus,
    pub render_id: Option<RenderId>,
    pub failure_class: Option<FailureClass>,
    pub reason: Option<String>,
}

/// How a variant ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantOutcome {
    /// Rendered: its credit is charged.
    Succeeded { render_id: RenderId },
    /// No image: its credit is refunded.
    Failed { class: FailureClass, reason: String },
    /// Cancelled before it started: its credit is refunded.
    Cancelled,
}

/// A render job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub user_id: UserId,
    pub status: JobStatus,
    /// Grows with every change.
    pub status_seq: u64,
    pub prompt: String,
    pub style: Option<String>,
    pub aspect_ratio: String,
    pub sketch_id: UploadId,
    pub reference_ids: Vec<UploadId>,
    pub variants: Vec<Variant>,
    pub credits_reserved: i64,
    pub credits_charged: i64,
    pub credits_refunded: i64,
    pub idempotency_key: Option<String>,
    pub provider: String,
    /// How many times a worker leased it (the lease's own count, not part of the body).
    #[serde(skip, default)]
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// Where a render came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub provider: String,
    pub model: String,
    pub prompt: String,
    /// SHA-256 of the sketch, then of each reference, as sent.
    pub inputs_sha256: Vec<String>,
    pub params: serde_json::Value,
    pub finish_reason: String,
    pub usage: serde_json::Value,
}

/// One variant's image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Render {
    pub id: RenderId,
    pub job_id: JobId,
    pub user_id: UserId,
    pub variant: u32,
    pub blob_id: crate::ids::BlobId,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub selected: bool,
    pub provenance: Provenance,
    pub created_at: Timestamp,
}

/// What to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderSpec {
    pub prompt: String,
    pub sketch_id: String,
    pub reference_ids: Vec<String>,
    pub variants: u32,
    pub aspect_ratio: String,
    pub style: Option<String>,
    pub idempotency_key: Option<String>,
}

impl Job {
    /// What one variant costs: its share of the reservation made when the job was queued.
    /// Charges and refunds are priced from it, never from today's configured cost.
    pub fn price_per_variant(&self) -> i64 {
        match i64::try_from(self.variants.len()) {
            Ok(n) if n > 0 => self.credits_reserved / n,
            _ => 0,
        }
    }

    /// Whether `spec` asks for what this job was queued for, images aside (a repeated
    /// idempotency key must repeat the request, not change it).
    fn same_words(&self, spec: &RenderSpec) -> bool {
        let style = spec.style.clone().filter(|s| !s.trim().is_empty());
        self.prompt == spec.prompt.trim()
            && self.style == style
            && self.aspect_ratio == spec.aspect_ratio
            && self.reference_ids.len() == spec.reference_ids.len()
            && self.variants.len() == spec.variants as usize
    }
}

/// What `JobStore::queue_job` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// The reservation and the job were written together.
    Created,
    /// The owner already has a job under this idempotency key; nothing was written.
    Existing(Box<Job>),
}

/// Called with the job as it stands after each variant finishes (progress bars).
pub type Progress<'a> = &'a (dyn Fn(&Job) + Send + Sync);

impl Studio<'_> {
    fn generator(&self) -> &dyn ImageGenerator {
        self.f.image_generator()
    }

    /// The first job under a repeated key, if the request is the same; else 409. Its images
    /// are the same when they are the same uploads or hold the same bytes: a resumed batch
    /// (`facetra render sketches/`) uploads its files again before it asks.
    async fn repeated(&self, actor: &Actor, first: Job, spec: &RenderSpec) -> Result<Job> {
        let mut same = first.same_words(spec);
        let pairs = std::iter::once((first.sketch_id.as_str(), spec.sketch_id.as_str())).chain(
            first
                .reference_ids
                .iter()
                .map(UploadId::as_str)
                .zip(spec.reference_ids.iter().map(String::as_str)),
        );
        for (had, asked) in pairs {
            if !same {
                break;
            }
            if had != asked {
                let had = self.get_upload(actor, had).await;
                let asked = self.get_upload(actor, asked).await?;
                same = had.is_ok_and(|h| h.sha256 == asked.sha256 && h.kind == asked.kind);
            }
        }
        if same {
            Ok(first)
        } else {
            Err(Error::IdempotencyConflict(
                "this idempotency key was used for a different render request; use a new key"
                    .into(),
            ))
        }
    }

    /// The credits a request would cost; reserves nothing.
    pub async fn quote(&self, actor: &Actor, spec: &RenderSpec) -> Result<i64> {
        self.f.accounts().me(actor).await?;
        validate(spec)?;
        Ok(i64::from(spec.variants) * self.f.config().render_cost)
    }

    /// Reserves the credits and queues the job, in one atomic step: a crash leaves either both
    /// or neither. A repeated client key returns the first job; the same key with a different
    /// request is `IdempotencyConflict`.
    pub async fn request(&self, actor: &Actor, spec: &RenderSpec) -> Result<Job> {
        let me = self.f.accounts().me(actor).await?;
        validate(spec)?;
        let jobs = &self.f.store().jobs;
        if let Some(key) = &spec.idempotency_key {
            if let Some(first) = jobs.job_by_key(&me.id, key).await? {
                return self.repeated(actor, first, spec).await;
            }
        }
        let sketch = self.get_upload(actor, &spec.sketch_id).await?;
        if sketch.kind != UploadKind::Sketch {
            return Err(Error::invalid(
                "sketch_id",
                "names a reference image; upload the sketch with kind=sketch",
            ));
        }
        let mut references = Vec::new();
        for id in &spec.reference_ids {
            references.push(self.get_upload(actor, id).await?.id);
        }
        let now = self.f.now();
        let cost = i64::from(spec.variants) * self.f.config().render_cost;
        let job = Job {
            id: JobId::new(now),
            user_id: me.id.clone(),
            status: JobStatus::Queued,
            status_seq: 1,
            prompt: spec.prompt.trim().to_owned(),
            style: spec.style.clone().filter(|s| !s.trim().is_empty()),
            aspect_ratio: spec.aspect_ratio.clone(),
            sketch_id: sketch.id,
            reference_ids: references,
            variants: (0..spec.variants)
                .map(|index| Variant {
                    index,
                    status: VariantStatus::Queued,
                    render_id: None,
                    failure_class: None,
                    reason: None,
                })
                .collect(),
            credits_reserved: cost,
            credits_charged: 0,
            credits_refunded: 0,
            idempotency_key: spec.idempotency_key.clone(),
            provider: self.generator().provider().to_owned(),
            attempts: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        let reservation = NewLedgerEntry {
            user_id: me.id.clone(),
            kind: LedgerKind::Render,
            amount: -cost,
            reason: format!(
                "render: {} variant{}",
                spec.variants,
                if spec.variants == 1 { "" } else { "s" }
            ),
            reference: Some(job.id.to_string()),
            idempotency_key: format!("reserve:{}", job.id),
        };
        match jobs.queue_job(&job, &reservation, now).await? {
            Queued::Created => {
                self.f
                    .usage()
                    .record(
                        &me,
                        UsageType::Generation,
                        Feature::Render,
                        i64::from(spec.variants),
                    )
                    .await;
                Ok(job)
            }
            Queued::Existing(first) => self.repeated(actor, *first, spec).await,
        }
    }

    async fn refund(&self, job: &Job, variant: u32) -> Result<()> {
        let credits = job.price_per_variant();
        let appended = self
            .f
            .credits()
            .append(NewLedgerEntry {
                user_id: job.user_id.clone(),
                kind: LedgerKind::Refund,
                amount: credits,
                reason: "render refunded".into(),
                reference: Some(job.id.to_string()),
                idempotency_key: format!("refund:{}:{variant}", job.id),
            })
            .await?;
        if matches!(appended, crate::credits::Appended::Applied(_)) {
            self.f.store().jobs.add_job_refund(&job.id, credits).await?;
        }
        Ok(())
    }

    /// One pass of a worker of its own: [`Studio::work_once_as`] with a fresh holder and no
    /// progress reports.
    pub async fn work_once(&self, only: Option<&JobId>) -> Result<Option<Job>> {
        let holder = crate::ids::random("wrk");
        self.work_once_as(&holder, only, None).await
    }

    /// Works one of the actor's jobs here until it ends (the embedded CLI's worker), calling
    /// `progress` after each variant. While another worker (a server on the same database)
    /// holds the job, it waits for that worker instead. The loop is `lease::work_loop`, the
    /// one the server's workers run.
    pub async fn run_job(
        &self,
        actor: &Actor,
        id: &str,
        holder: &str,
        progress: Progress<'_>,
    ) -> Result<Job> {
        let job = self.job(actor, id).await?;
        let (studio, job_id) = (self, &job.id);
        let poll = std::time::Duration::from_millis(500);
        work_loop(poll, std::future::pending(), move || async move {
            studio
                .work_once_as(holder, Some(job_id), Some(progress))
                .await?;
            let now = studio.job(actor, id).await?;
            Ok(if now.status.is_final() {
                Pass::Done
            } else {
                progress(&now);
                Pass::Idle
            })
        })
        .await?;
        self.job(actor, id).await
    }

    /// The server's render worker: leases due jobs as `holder` and works them until `stop`;
    /// a failed pass is logged and tried again after `poll`.
    pub async fn run_worker(
        &self,
        holder: &str,
        poll: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let studio = self;
        let worked = work_loop(poll, stop, move || async move {
            Ok(match studio.work_once_as(holder, None, None).await {
                Ok(Some(_)) => Pass::Worked,
                Ok(None) => Pass::Idle,
                Err(e) => {
                    tracing::warn!(error = %e, "render worker pass failed");
                    Pass::Idle
                }
            })
        })
        .await;
        if let Err(e) = worked {
            tracing::warn!(error = %e, "render worker stopped");
        }
    }

    /// Leases one due job (or the given one) as `holder` and works it to the end, calling
    /// `progress` (when given) after each variant; `None` when there is nothing to do. When the store fails
    /// on the way (it is unavailable), the job is released at once and not counted as an
    /// attempt, so the next pass retries it; the error is returned.
    pub async fn work_once_as(
        &self,
        holder: &str,
        only: Option<&JobId>,
        progress: Option<Progress<'_>>,
    ) -> Result<Option<Job>> {
        let leases = &self.f.store().leases;
        let lease_secs = Duration::seconds(self.f.config().job_lease_secs);
        let lease = |now: Timestamp| Lease {
            holder: holder.to_owned(),
            until: now + lease_secs,
        };
        let now = self.f.now();
        let only = only.map(JobId::as_str);
        let Some(claimed) = leases.claim(Queue::Jobs, now, &lease(now), only).await? else {
            return Ok(None);
        };
        let id = JobId::parse(&claimed.id)
            .ok_or_else(|| Error::Corrupt(format!("a job id {:?} in the queue", claimed.id)))?;
        match self.work(&id, claimed.claims, &lease, progress).await {
            Ok(job) => Ok(Some(job)),
            Err(e) => {
                if matches!(e, Error::Unavailable(_)) {
                    leases
                        .release(Queue::Jobs, id.as_str(), Some(holder))
                        .await?;
                }
                Err(e)
            }
        }
    }

    async fn work(
        &self,
        id: &JobId,
        claims: u32,
        lease: &(dyn Fn(Timestamp) -> Lease + Send + Sync),
        progress: Option<Progress<'_>>,
    ) -> Result<Job> {
        let jobs = &self.f.store().jobs;
        let queued = |job: &Job| -> Vec<u32> {
            job.variants
                .iter()
                .filter(|v| v.status == VariantStatus::Queued)
                .map(|v| v.index)
                .collect()
        };
        if claims > MAX_ATTEMPTS {
            let job = jobs.job(None, id).await?.ok_or(Error::NotFound("job"))?;
            for index in queued(&job) {
                let outcome = VariantOutcome::Failed {
                    class: FailureClass::ProviderError,
                    reason: format!(
                        "the job was interrupted {MAX_ATTEMPTS} times; its credits are refunded"
                    ),
                };
                self.finish(&job, index, outcome, None).await?;
            }
            return self.conclude(id).await;
        }
        let job = jobs
            .set_job_status(id, JobStatus::Running, self.f.now())
            .await?;
        let inputs = self.inputs(&job).await?;
        for (n, index) in queued(&job).into_iter().enumerate() {
            // Before each variant after the first (which follows the claim and the read of the
            // job at once), the lease is renewed. Renewing fails once the job is no longer live
            // (cancelled) or another worker took it over (our lease expired): either way it is
            // not ours to go on with. A variant cancelled meanwhile is not charged: finishing
            // it again changes nothing.
            if n > 0
                && !self
                    .f
                    .store()
                    .leases
                    .renew(Queue::Jobs, id.as_str(), &lease(self.f.now()))
                    .await?
            {
                return jobs.job(None, id).await?.ok_or(Error::NotFound("job"));
            }
            let result = match &inputs {
                Ok((request, _)) => {
                    let mut request = request.clone();
                    request.variant = index;
                    self.generator().generate(&request).await
                }
                Err(failure) => Err(failure.clone()),
            };
            // What the image is comes from its bytes: a provider that answers HTML (or
            // anything but an image) fails the variant instead of being stored and served.
            let result = result.and_then(|image| match identify(&image.bytes) {
                Some((format, width, height)) => Ok((image, format, width, height)),
                None => Err(GenerationFailure {
                    class: FailureClass::ProviderError,
                    reason: "the provider answered something that is not a PNG, JPEG or WebP \
                             image"
                        .into(),
                }),
            });
            match result {
                Ok((image, format, width, height)) => {
                    if !self.f.accounts().is_active(&job.user_id).await? {
                        // The owner is being erased: drop the result, refund.
                        let outcome = VariantOutcome::Failed {
                            class: FailureClass::InvalidInput,
                            reason: "the account is closed".into(),
                        };
                        self.finish(&job, index, outcome, None).await?;
                        continue;
                    }
                    let now = self.f.now();
                    let blob = self
                        .f
                        .store()
                        .blobs
                        .put_blob_bytes(&job.user_id, format.mime(), image.bytes, now)
                        .await?;
                    let render = Render {
                        id: RenderId::new(now),
                        job_id: job.id.clone(),
                        user_id: job.user_id.clone(),
                        variant: index,
                        blob_id: blob.id.clone(),
                        mime: format.mime().to_owned(),
                        width,
                        height,
                        selected: false,
                        provenance: Provenance {
                            provider: self.generator().provider().to_owned(),
                            model: image.model,
                            prompt: job.prompt.clone(),
                            inputs_sha256: inputs
                                .as_ref()
                                .map(|(_, s)| s.clone())
                                .unwrap_or_default(),
                            params: serde_json::json!({ "aspect_ratio": job.aspect_ratio, "style": job.style, "variant": index + 1 }),
                            finish_reason: image.finish_reason,
                            usage: image.usage,
                        },
                        created_at: now,
                    };
                    let outcome = VariantOutcome::Succeeded {
                        render_id: render.id.clone(),
                    };
                    if !self.finish(&job, index, outcome, Some(&render)).await? {
                        self.f.store().blobs.delete_blob(&blob.id).await?;
                    }
                }
                Err(failure) => {
                    let outcome = VariantOutcome::Failed {
                        class: failure.class,
                        reason: failure.reason,
                    };
                    self.finish(&job, index, outcome, None).await?;
                }
            }
            if let Some(report) = progress {
                if let Some(now) = jobs.job(None, id).await? {
                    report(&now);
                }
            }
        }
        self.conclude(id).await
    }

    /// Finishes a variant once; a failed or cancelled one is refunded (keyed, so once).
    async fn finish(
        &self,
        job: &Job,
        index: u32,
        outcome: VariantOutcome,
        render: Option<&Render>,
    ) -> Result<bool> {
        let refundable = !matches!(outcome, VariantOutcome::Succeeded { .. });
        let finished = self
            .f
            .store()
            .jobs
            .finish_variant(&job.id, index, &outcome, render, self.f.now())
            .await?;
        if finished && refundable {
            self.refund(job, index).await?;
        }
        Ok(finished)
    }

    /// Sets the final status from the variants, and makes sure every failed variant's
    /// refund exists (a worker may have died between the two).
    async fn conclude(&self, id: &JobId) -> Result<Job> {
        let jobs = &self.f.store().jobs;
        let job = jobs.job(None, id).await?.ok_or(Error::NotFound("job"))?;
        for v in &job.variants {
            if matches!(v.status, VariantStatus::Failed | VariantStatus::Cancelled) {
                self.refund(&job, v.index).await?;
            }
        }
        if job
            .variants
            .iter()
            .any(|v| v.status == VariantStatus::Queued)
            || job.status.is_final()
        {
            return Ok(jobs.job(None, id).await?.unwrap_or(job));
        }
        let status = if job
            .variants
            .iter()
            .any(|v| v.status == VariantStatus::Succeeded)
        {
            JobStatus::Succeeded
        } else if job
            .variants
            .iter()
            .all(|v| v.status == VariantStatus::Cancelled)
        {
            JobStatus::Cancelled
        } else {
            JobStatus::Failed
        };
        jobs.set_job_status(id, status, self.f.now()).await
    }

    /// The provider request for a job, with the inputs' hashes. An input that is no longer
    /// stored fails every variant as invalid input (the inner error); a store that fails while
    /// reading them is an error of its own (the outer one), so the job is tried again.
    async fn inputs(
        &self,
        job: &Job,
    ) -> Result<std::result::Result<(ImageRequest, Vec<String>), GenerationFailure>> {
        let missing = |what: &str| GenerationFailure {
            class: FailureClass::InvalidInput,
            reason: format!("the {what} is no longer stored"),
        };
        let studio = &self.f.store().studio;
        let Some(sketch) = studio.upload(&job.user_id, &job.sketch_id).await? else {
            return Ok(Err(missing("sketch")));
        };
        let Some(sketch_bytes) = self.read_blob(&sketch.blob_id).await? else {
            return Ok(Err(missing("sketch")));
        };
        let mut hashes = vec![sketch.sha256.clone()];
        let mut images = vec![sketch_bytes];
        for id in &job.reference_ids {
            let Some(r) = studio.upload(&job.user_id, id).await? else {
                return Ok(Err(missing("reference image")));
            };
            let Some(bytes) = self.read_blob(&r.blob_id).await? else {
                return Ok(Err(missing("reference image")));
            };
            hashes.push(r.sha256.clone());
            images.push(bytes);
        }
        // Keep one request under the providers' limit; hash what is actually sent. Shrinking
        // decodes and encodes images: CPU work for the blocking pool, not the async threads.
        let budget = super::providers::REQUEST_BUDGET;
        let (mut images, hashes) = if super::providers::fits_budget(&images, budget) {
            (images, hashes)
        } else {
            tokio::task::spawn_blocking(move || {
                let before: Vec<usize> = images.iter().map(Vec::len).collect();
                super::providers::fit_budget(&mut images, budget);
                for (i, image) in images.iter().enumerate() {
                    if image.len() != before[i] {
                        hashes[i] = crate::security::sha256_hex(image);
                    }
                }
                (images, hashes)
            })
            .await
            .map_err(|e| Error::Internal(format!("shrinking the inputs panicked: {e}")))?
        };
        let sketch_bytes = images.remove(0);
        let request = ImageRequest {
            sketch: sketch_bytes,
            references: images,
            prompt: job.prompt.clone(),
            style: job.style.clone(),
            aspect_ratio: job.aspect_ratio.clone(),
            variant: 0,
        };
        Ok(Ok((request, hashes)))
    }

    /// A blob's bytes; `None` when it is gone.
    async fn read_blob(&self, id: &crate::ids::BlobId) -> Result<Option<Vec<u8>>> {
        self.f.store().blobs.read_blob_bytes(id).await
    }

    /// Releases one of the actor's jobs that `holder` was working (Ctrl-C in `facetra
    /// render`), so the next worker takes it at once; the claim is not counted as an attempt.
    pub async fn release(&self, actor: &Actor, id: &str, holder: &str) -> Result<Job> {
        let job = self.job(actor, id).await?;
        self.f
            .store()
            .leases
            .release(Queue::Jobs, job.id.as_str(), Some(holder))
            .await?;
        self.job(actor, id).await
    }

    /// One of the actor's jobs.
    pub async fn job(&self, actor: &Actor, id: &str) -> Result<Job> {
        let me = self.f.accounts().me(actor).await?;
        let id = JobId::parse(id).ok_or(Error::NotFound("job"))?;
        self.f
            .store()
            .jobs
            .job(Some(&me.id), &id)
            .await?
            .ok_or(Error::NotFound("job"))
    }

    /// The actor's jobs, newest first.
    pub async fn jobs(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Job>> {
        let me = self.f.accounts().me(actor).await?;
        self.f.store().jobs.jobs(&me.id, page).await
    }

    /// Cancels a job: variants not yet finished are refunded.
    pub async fn cancel(&self, actor: &Actor, id: &str) -> Result<Job> {
        let job = self.job(actor, id).await?;
        if job.status.is_final() {
            return Ok(job);
        }
        for v in job
            .variants
            .iter()
            .filter(|v| v.status == VariantStatus::Queued)
        {
            self.finish(&job, v.index, VariantOutcome::Cancelled, None)
                .await?;
        }
        let done = self.conclude(&job.id).await?;
        if !done.status.is_final() {
            self.f
                .store()
                .jobs
                .set_job_status(&job.id, JobStatus::Cancelled, self.f.now())
                .await?;
        }
        self.job(actor, id).await
    }

    /// A job's renders with their bytes (the actor's only).
    pub async fn job_renders(&self, actor: &Actor, id: &str) -> Result<Vec<(Render, Vec<u8>)>> {
        let job = self.job(actor, id).await?;
        let mut out = Vec::new();
        for r in self.f.store().jobs.job_renders(&job.id).await? {
            if let Some(bytes) = self.read_blob(&r.blob_id).await? {
                out.push((r, bytes));
            }
        }
        Ok(out)
    }
}

/// Whether text has a control character other than line breaks and tabs (NUL, escapes, …).
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn validate(spec: &RenderSpec) -> Result<()> {
    let prompt = spec.prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > 2000 {
        return Err(Error::invalid(
            "prompt",
            "describe the render in 1 to 2000 characters",
        ));
    }
    if has_control(prompt) {
        return Err(Error::invalid(
            "prompt",
            "must not contain control characters (such as NUL)",
        ));
    }
    if spec
        .style
        .as_deref()
        .is_some_and(|s| s.chars().count() > 200 || has_control(s))
    {
        return Err(Error::invalid(
            "style",
            "must be at most 200 characters without control characters",
        ));
    }
    if !(1..=4).contains(&spec.variants) {
        return Err(Error::invalid("variants", "must be between 1 and 4"));
    }
    if spec.reference_ids.len() > 4 {
        return Err(Error::invalid(
            "reference_ids",
            "at most 4 reference images",
        ));
    }
    if parse_aspect(&spec.aspect_ratio).is_none() {
        return Err(Error::invalid(
            "aspect_ratio",
            format!("use one of {}", super::providers::ASPECT_RATIOS.join(", ")),
        ));
    }
    if spec
        .idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 200 || !k.chars().all(|c| c.is_ascii_graphic()))
    {
        return Err(Error::invalid(
            "idempotency_key",
            "must be 1 to 200 visible ASCII characters",
        ));
    }
    Ok(())
}
