//! The studio ports: uploads, render jobs and renders. Jobs are leased through the one lease
//! primitive (`lease::LeaseStore`, queue `Jobs`), not through these ports.

use async_trait::async_trait;

use super::Upload;
use crate::error::Result;
use crate::ids::{UploadId, UserId};

/// Persistence for the studio.
#[async_trait]
pub trait StudioStore: Send + Sync {
    async fn insert_upload(&self, upload: &Upload) -> Result<()>;
    /// The upload, only if it belongs to `owner`.
    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>>;
}

use super::jobs::{Job, JobStatus, Queued, Render, VariantOutcome};
use crate::clock::Timestamp;
use crate::credits::NewLedgerEntry;
use crate::ids::{JobId, RenderId};
use crate::paging::{Page, PageRequest};

/// Persistence for render jobs and renders. Every change to a job bumps its `status_seq`;
/// variant changes are conditional, so a variant is finished (charged or refunded) once.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Appends the job's credit reservation and inserts the job, atomically: both or neither.
    /// `InsufficientCredits` (nothing written) when the balance does not cover it; `Existing`
    /// (nothing written) when the owner already has a job under its idempotency key.
    async fn queue_job(
        &self,
        job: &Job,
        reservation: &NewLedgerEntry,
        at: Timestamp,
    ) -> Result<Queued>;
    /// The job, only if it belongs to `owner` (or any owner with `None`).
    async fn job(&self, owner: Option<&UserId>, id: &JobId) -> Result<Option<Job>>;
    /// The owner's job created under a client idempotency key.
    async fn job_by_key(&self, owner: &UserId, key: &str) -> Result<Option<Job>>;
    /// The owner's jobs, newest first, keyset-paged.
    async fn jobs(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Job>>;
    /// Finishes one still-unfinished variant, with its render (stored in the same step) when
    /// it succeeded; false when the variant was already finished.
    async fn finish_variant(
        &self,
        id: &JobId,
        index: u32,
        outcome: &VariantOutcome,
        render: Option<&Render>,
        at: Timestamp,
    ) -> Result<bool>;
    /// Sets the job's status (and releases the lease when it is final); the job after.
    async fn set_job_status(&self, id: &JobId, status: JobStatus, at: Timestamp) -> Result<Job>;
    /// Adds to the job's refunded-credit count.
    async fn add_job_refund(&self, id: &JobId, credits: i64) -> Result<()>;
    /// The render, only if it belongs to `owner`.
    async fn render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>>;
    /// The renders of a job.
    async fn job_renders(&self, job: &JobId) -> Result<Vec<Render>>;
}

/// Which of an owner's renders a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderFilter {
    /// Only the selected ones.
    pub selected_only: bool,
    /// Only these (a portfolio's).
    pub among: Option<Vec<RenderId>>,
}

/// Persistence for renders beyond their creation (which `JobStore::finish_variant` does).
#[async_trait]
pub trait RenderStore: Send + Sync {
    /// The owner's renders that pass `filter`, newest first, keyset-paged.
    async fn renders(
        &self,
        owner: &UserId,
        filter: &RenderFilter,
        page: &PageRequest,
    ) -> Result<Page<Render>>;
    /// Sets a render's selection; the render after, if it is the owner's.
    async fn set_selected(
        &self,
        owner: &UserId,
        id: &RenderId,
        selected: bool,
    ) -> Result<Option<Render>>;
    /// Deletes the owner's render record; the render it was.
    async fn delete_render(&self, owner: &UserId, id: &RenderId) -> Result<Option<Render>>;
    /// The render stored under a blob (for signed downloads).
    async fn render_by_blob(&self, blob: &crate::ids::BlobId) -> Result<Option<Render>>;
}
