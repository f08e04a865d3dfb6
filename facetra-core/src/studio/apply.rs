//! The job changes both adapters apply, written once: each adapter loads the job, applies one
//! of these, and stores the result atomically (a transaction), so the rules — a variant is
//! finished once, a final status never changes, `status_seq` grows — live in one place.

use super::jobs::{Job, JobStatus, VariantOutcome, VariantStatus};
use crate::clock::Timestamp;

/// Finishes a queued variant; false (and no change) when it was already finished.
pub fn finish_variant(job: &mut Job, index: u32, outcome: &VariantOutcome, at: Timestamp) -> bool {
    let per_variant = job.price_per_variant();
    let Some(v) = job.variants.get_mut(index as usize) else {
        return false;
    };
    if v.status != VariantStatus::Queued {
        return false;
    }
    match outcome {
        VariantOutcome::Succeeded { render_id } => {
            v.status = VariantStatus::Succeeded;
            v.render_id = Some(render_id.clone());
            job.credits_charged += per_variant;
        }
        VariantOutcome::Failed { class, reason } => {
            v.status = VariantStatus::Failed;
            v.failure_class = Some(*class);
            v.reason = Some(reason.clone());
        }
        VariantOutcome::Cancelled => {
            v.status = VariantStatus::Cancelled;
            v.reason = Some("cancelled before it started".into());
        }
    }
    job.status_seq += 1;
    job.updated_at = at;
    true
}

/// Moves the job to `status` unless it is already final.
pub fn set_status(job: &mut Job, status: JobStatus, at: Timestamp) -> bool {
    if job.status.is_final() || job.status == status {
        return false;
    }
    job.status = status;
    job.status_seq += 1;
    job.updated_at = at;
    if status.is_final() {
        job.finished_at = Some(at);
    }
    true
}

/// Counts refunded credits.
pub fn add_refund(job: &mut Job, credits: i64) {
    job.credits_refunded += credits;
    job.status_seq += 1;
}
