//! The one lease primitive and the one worker loop. A leased queue is a table or collection
//! whose records a holder claims for a while: it takes a record only when it is due and free
//! (or its lease expired), renews the lease while it works, and releases it when it stops on
//! purpose; a holder that dies simply lets the lease expire. Claim, renew and release are
//! written once per backend for every queue (render jobs and the mail outbox today; retention
//! runs and exports later), with one encoding of the lease on the record: `lease_holder`,
//! `lease_until` and `lease_count` (how many times the record was claimed). The loop the
//! server's workers run and the one the embedded CLI runs are both [`work_loop`].
//!
//! This module sits below the domains and the adapters: both import it, neither imports the
//! other.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::Result;

/// An expiring claim on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it (a random id per sender or worker).
    pub holder: String,
    pub until: Timestamp,
}

impl Lease {
    /// A lease for a fresh holder id with `prefix` (`wrk`, `snd`, …), until `until`.
    pub fn fresh(prefix: &str, until: Timestamp) -> Lease {
        Lease {
            holder: crate::ids::random(prefix),
            until,
        }
    }

    /// The same holder's lease, extended to `until`.
    pub fn extended(&self, until: Timestamp) -> Lease {
        Lease {
            holder: self.holder.clone(),
            until,
        }
    }
}

/// The leased queues. Each backend knows, per queue, where its records live, which of them
/// are due and in which order they are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Render jobs: queued or running, oldest first.
    Jobs,
    /// Mail: pending messages whose next attempt is due, soonest first.
    Outbox,
    /// Scheduled tasks (retention): each one a record that is due at its next run, so one
    /// server at a time runs it.
    Schedules,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 3] = [Queue::Jobs, Queue::Outbox, Queue::Schedules];

    /// The queue's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Jobs => "jobs",
            Queue::Outbox => "outbox",
            Queue::Schedules => "schedules",
        }
    }
}

/// The records of the `Schedules` queue: when each task runs next.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Makes sure the task `id` has its record, first due at `first` (an existing one is
    /// left as it is).
    async fn ensure_schedule(&self, id: &str, first: Timestamp) -> Result<()>;
    /// Ends `holder`'s run of task `id`: next due at `next`, the lease dropped; false when
    /// the lease was lost meanwhile.
    async fn finish_run(&self, id: &str, holder: &str, next: Timestamp) -> Result<bool>;
}

/// A record a holder has just claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The record's id.
    pub id: String,
    /// How many times the record has been claimed, this claim included.
    pub claims: u32,
}

/// Persistence for leases, written once per backend for every queue.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Claims the first record of `queue` that is due at `now` and free (never leased, released
    /// or expired), or only the record `only`; counts the claim. One atomic step: two holders
    /// never claim the same record.
    async fn claim(
        &self,
        queue: Queue,
        now: Timestamp,
        lease: &Lease,
        only: Option<&str>,
    ) -> Result<Option<Claimed>>;
    /// Extends the lease while its holder still has it and the record is live; false when the
    /// lease was lost or the record is done (a job cancelled meanwhile).
    async fn renew(&self, queue: Queue, id: &str, lease: &Lease) -> Result<bool>;
    /// Drops the lease at once, so another holder may claim the record without waiting for the
    /// expiry: only `holder`'s lease, or whoever holds it with `None`. A released claim gives
    /// its count back: only claims that ended without a release (a crash, a lost lease) count
    /// as attempts. Whether one was dropped.
    async fn release(&self, queue: Queue, id: &str, holder: Option<&str>) -> Result<bool>;
}

/// What one pass of a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// It worked something: look again at once.
    Worked,
    /// Nothing was due: wait for the poll interval.
    Idle,
    /// What the loop was for is done: stop.
    Done,
}

/// The worker loop: runs `pass` until it says `Done` or `stop` resolves, waiting `poll`
/// after an idle pass. A pass that fails ends the loop with its error; a worker that must
/// outlive failures (the server's) logs them inside its pass and reports `Idle`. A pass in
/// progress is always finished before stopping, so stopping releases nothing half-done.
pub async fn work_loop<P, F>(
    poll: Duration,
    stop: impl Future<Output = ()>,
    mut pass: P,
) -> Result<()>
where
    P: FnMut() -> F,
    F: Future<Output = Result<Pass>>,
{
    tokio::pin!(stop);
    let mut stopped = false;
    loop {
        if stopped {
            return Ok(());
        }
        match pass().await? {
            Pass::Done => return Ok(()),
            Pass::Worked => {
                // Look again at once, unless we were asked to stop meanwhile.
                tokio::select! {
                    biased;
                    () = &mut stop => stopped = true,
                    () = std::future::ready(()) => {}
                }
            }
            Pass::Idle => {
                tokio::select! {
                    () = &mut stop => stopped = true,
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_loop_runs_until_done_and_stops_between_passes() {
        let mut passes = 0;
        work_loop(Duration::from_millis(1), std::future::pending(), || {
            passes += 1;
            let n = passes;
            async move {
                Ok(match n {
                    1 => Pass::Worked,
                    2 => Pass::Idle,
                    _ => Pass::Done,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(passes, 3);

        let mut passes = 0;
        work_loop(Duration::from_secs(3600), std::future::ready(()), || {
            passes += 1;
            async { Ok(Pass::Idle) }
        })
        .await
        .unwrap();
        assert_eq!(passes, 1, "a stop during the idle wait ends the loop");
    }
}
