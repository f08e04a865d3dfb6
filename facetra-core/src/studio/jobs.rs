//! Render jobs: a quote reserves nothing; a request reserves its credits under
//! `reserve:{job}` and becomes a job; a worker leases the job (an expiring, renewed lease on
//! the record), makes one provider call per variant, and finishes each variant once: with its
//! render (charged: the reservation stands) or refunded under `refund:{job}:{variant}`. A job
//! whose worker died is leased again, at most 3 times, then failed with refunds.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::providers::{
    parse_aspect, FailureClass, GenerationFailure, ImageGenerator, ImageRequest,
};
use super::{Studio, UploadKind};
use crate::clock::Timestamp;
use crate::credits::{LedgerKind, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{JobId, RenderId, UploadId, UserId};
use crate::store::Lease;
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
    /// How many times a worker leased it.
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

impl Studio<'_> {
    fn generator(&self) -> &dyn ImageGenerator {
        self.f.image_generator()
    }

    /// The credits a request would cost; reserves nothing.
    pub async fn quote(&self, actor: &Actor, spec: &RenderSpec) -> Result<i64> {
        self.f.accounts().me(actor).await?;
        validate(spec)?;
        Ok(i64::from(spec.variants) * self.f.config().render_cost)
    }

    /// Reserves the credits and queues the job. A repeated client key returns the first job.
    pub async fn request(&self, actor: &Actor, spec: &RenderSpec) -> Result<Job> {
        let me = self.f.accounts().me(actor).await?;
        validate(spec)?;
        let jobs = &self.f.store().jobs;
        if let Some(key) = &spec.idempotency_key {
            if let Some(first) = jobs.job_by_key(&me.id, key).await? {
                return Ok(first);
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
        self.f
            .credits()
            .append(NewLedgerEntry {
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
            })
            .await?;
        if let Err(e) = jobs.insert_job(&job).await {
            // The job never existed: give the reservation back.
            self.refund(&job, None, cost).await?;
            return match (e, &spec.idempotency_key) {
                (Error::Conflict(_), Some(key)) => jobs
                    .job_by_key(&me.id, key)
                    .await?
                    .ok_or(Error::NotFound("job")),
                (e, _) => Err(e),
            };
        }
        Ok(job)
    }

    async fn refund(&self, job: &Job, variant: Option<u32>, credits: i64) -> Result<()> {
        let what = variant.map_or_else(|| "all".to_owned(), |v| v.to_string());
        let appended = self
            .f
            .credits()
            .append(NewLedgerEntry {
                user_id: job.user_id.clone(),
                kind: LedgerKind::Refund,
                amount: credits,
                reason: "render refunded".into(),
                reference: Some(job.id.to_string()),
                idempotency_key: format!("refund:{}:{what}", job.id),
            })
            .await?;
        if matches!(appended, crate::credits::Appended::Applied(_)) && variant.is_some() {
            self.f.store().jobs.add_job_refund(&job.id, credits).await?;
        }
        Ok(())
    }

    /// Leases one due job (or the given one) and works it to the end; `None` when there is
    /// nothing to do.
    pub async fn work_once(&self, only: Option<&JobId>) -> Result<Option<Job>> {
        let jobs = &self.f.store().jobs;
        let holder = crate::ids::random("wrk");
        let lease_secs = self.f.config().job_lease_secs;
        let lease = |now: Timestamp| Lease {
            holder: holder.clone(),
            until: now + Duration::seconds(lease_secs),
        };
        let Some(job) = jobs
            .claim_job(self.f.now(), &lease(self.f.now()), only)
            .await?
        else {
            return Ok(None);
        };
        if job.attempts > MAX_ATTEMPTS {
            for v in job
                .variants
                .iter()
                .filter(|v| v.status == VariantStatus::Queued)
            {
                let outcome = VariantOutcome::Failed {
                    class: FailureClass::ProviderError,
                    reason: format!(
                        "the job was interrupted {MAX_ATTEMPTS} times; its credits are refunded"
                    ),
                };
                self.finish(&job, v.index, outcome, None).await?;
            }
            return self.conclude(&job.id).await.map(Some);
        }
        jobs.set_job_status(&job.id, JobStatus::Running, self.f.now())
            .await?;
        let inputs = self.inputs(&job).await;
        for v in job
            .variants
            .iter()
            .filter(|v| v.status == VariantStatus::Queued)
        {
            if !jobs.renew_job(&job.id, &lease(self.f.now())).await? {
                return jobs.job(None, &job.id).await;
            }
            let current = jobs
                .job(None, &job.id)
                .await?
                .ok_or(Error::NotFound("job"))?;
            if current.status == JobStatus::Cancelled
                || current.variants[v.index as usize].status != VariantStatus::Queued
            {
                continue;
            }
            let result = match &inputs {
                Ok((request, _)) => {
                    let mut request = request.clone();
                    request.variant = v.index;
                    self.generator().generate(&request).await
                }
                Err(failure) => Err(failure.clone()),
            };
            match result {
                Ok(image) => {
                    let owner_active = self
                        .f
                        .store()
                        .accounts
                        .user_by_id(&job.user_id)
                        .await?
                        .is_some_and(|u| u.status == crate::accounts::UserStatus::Active);
                    if !owner_active {
                        // The owner is being erased: drop the result, refund.
                        let outcome = VariantOutcome::Failed {
                            class: FailureClass::InvalidInput,
                            reason: "the account is closed".into(),
                        };
                        self.finish(&job, v.index, outcome, None).await?;
                        continue;
                    }
                    let now = self.f.now();
                    let mut body: &[u8] = &image.bytes;
                    let blob = self
                        .f
                        .store()
                        .blobs
                        .put_blob(&job.user_id, &image.mime, &mut body, now)
                        .await?;
                    let render = Render {
                        id: RenderId::new(now),
                        job_id: job.id.clone(),
                        user_id: job.user_id.clone(),
                        variant: v.index,
                        blob_id: blob.id.clone(),
                        mime: image.mime,
                        width: image.width,
                        height: image.height,
                        selected: false,
                        provenance: Provenance {
                            provider: self.generator().provider().to_owned(),
                            model: image.model,
                            prompt: job.prompt.clone(),
                            inputs_sha256: inputs
                                .as_ref()
                                .map(|(_, s)| s.clone())
                                .unwrap_or_default(),
                            params: serde_json::json!({ "aspect_ratio": job.aspect_ratio, "style": job.style, "variant": v.index }),
                            finish_reason: image.finish_reason,
                            usage: image.usage,
                        },
                        created_at: now,
                    };
                    let outcome = VariantOutcome::Succeeded {
                        render_id: render.id.clone(),
                    };
                    if !self.finish(&job, v.index, outcome, Some(&render)).await? {
                        self.f.store().blobs.delete_blob(&blob.id).await?;
                    }
                }
                Err(failure) => {
                    self.finish(
                        &job,
                        v.index,
                        VariantOutcome::Failed {
                            class: failure.class,
                            reason: failure.reason,
                        },
                        None,
                    )
                    .await?;
                }
            }
        }
        self.conclude(&job.id).await.map(Some)
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
            self.refund(job, Some(index), self.f.config().render_cost)
                .await?;
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
                self.refund(&job, Some(v.index), self.f.config().render_cost)
                    .await?;
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
        jobs.set_job_status(id, status, self.f.now()).await?;
        jobs.job(None, id).await?.ok_or(Error::NotFound("job"))
    }

    /// The provider request for a job, with the inputs' hashes; a missing input fails every
    /// variant as invalid input.
    async fn inputs(
        &self,
        job: &Job,
    ) -> std::result::Result<(ImageRequest, Vec<String>), GenerationFailure> {
        let missing = |what: &str| GenerationFailure {
            class: FailureClass::InvalidInput,
            reason: format!("the {what} is no longer stored"),
        };
        let studio = &self.f.store().studio;
        let sketch = studio
            .upload(&job.user_id, &job.sketch_id)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| missing("sketch"))?;
        let mut hashes = vec![sketch.sha256.clone()];
        let sketch_bytes = self
            .read_blob(&sketch.blob_id)
            .await
            .ok_or_else(|| missing("sketch"))?;
        let mut references = Vec::new();
        for id in &job.reference_ids {
            let r = studio
                .upload(&job.user_id, id)
                .await
                .ok()
                .flatten()
                .ok_or_else(|| missing("reference image"))?;
            hashes.push(r.sha256.clone());
            references.push(
                self.read_blob(&r.blob_id)
                    .await
                    .ok_or_else(|| missing("reference image"))?,
            );
        }
        // Keep one request under the providers' limit; hash what is actually sent.
        let mut images = Vec::with_capacity(references.len() + 1);
        images.push(sketch_bytes);
        images.extend(references);
        let before: Vec<usize> = images.iter().map(Vec::len).collect();
        super::providers::fit_budget(&mut images, super::providers::REQUEST_BUDGET);
        for (i, image) in images.iter().enumerate() {
            if image.len() != before[i] {
                hashes[i] = crate::security::sha256_hex(image);
            }
        }
        let sketch_bytes = images.remove(0);
        let request = ImageRequest {
            sketch: sketch_bytes,
            references: images,
            prompt: job.prompt.clone(),
            style: job.style.clone(),
            aspect_ratio: job.aspect_ratio.clone(),
            variant: 0,
        };
        Ok((request, hashes))
    }

    async fn read_blob(&self, id: &crate::ids::BlobId) -> Option<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let (_, mut reader) = self.f.store().blobs.open_blob(id).await.ok()??;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.ok()?;
        Some(bytes)
    }

    /// Releases one of the actor's jobs that a stopped worker held (Ctrl-C in `facetra
    /// render`), so the next worker takes it at once.
    pub async fn release(&self, actor: &Actor, id: &str) -> Result<Job> {
        let job = self.job(actor, id).await?;
        self.f.store().jobs.release_job(&job.id).await?;
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
    pub async fn jobs(&self, actor: &Actor, limit: usize) -> Result<Vec<Job>> {
        let me = self.f.accounts().me(actor).await?;
        self.f.store().jobs.jobs(&me.id, limit.clamp(1, 100)).await
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
            if let Some(bytes) = self.read_blob(&r.blob_id).await {
                out.push((r, bytes));
            }
        }
        Ok(out)
    }
}

fn validate(spec: &RenderSpec) -> Result<()> {
    let prompt = spec.prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > 2000 {
        return Err(Error::invalid(
            "prompt",
            "describe the render in 1 to 2000 characters",
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
        .is_some_and(|k| k.is_empty() || k.len() > 200)
    {
        return Err(Error::invalid(
            "idempotency_key",
            "must be 1 to 200 characters",
        ));
    }
    Ok(())
}
