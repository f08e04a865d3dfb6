//! Request logs off the request path: each request puts its line on a bounded queue without
//! waiting, and one task stores what gathered in batches (one transaction each). A full queue drops the line and
//! counts it (a burst must not slow requests down, and memory stays bounded); the count is
//! reported in the process log as it grows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use facetra_core::privacy::logs::RequestLog;
use facetra_core::Facetra;
use tokio::sync::mpsc;

/// Lines a batch holds at most.
const BATCH: usize = 2_000;
/// How long the writer lets lines gather after the first of a batch: a busy server writes a
/// few large batches a second rather than one small transaction per handful of requests.
const GATHER: std::time::Duration = std::time::Duration::from_millis(100);

/// The sending side, shared by every request.
pub struct RequestLogger {
    queue: mpsc::Sender<RequestLog>,
    dropped: AtomicU64,
}

impl RequestLogger {
    /// A logger with room for `capacity` lines, and the task that stores them (it ends once
    /// every sender is gone and the queue is drained).
    pub fn start(
        facetra: Facetra,
        capacity: usize,
    ) -> (Arc<RequestLogger>, tokio::task::JoinHandle<()>) {
        let (queue, lines) = mpsc::channel(capacity.max(1));
        let logger = Arc::new(RequestLogger {
            queue,
            dropped: AtomicU64::new(0),
        });
        (logger, tokio::spawn(store_lines(facetra, lines)))
    }

    /// Queues a line, or drops and counts it when the queue is full. Never waits.
    pub fn push(&self, line: RequestLog) {
        if self.queue.try_send(line).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "request logs dropped: the queue is full");
            }
        }
    }

    /// How many lines were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn store_lines(facetra: Facetra, mut lines: mpsc::Receiver<RequestLog>) {
    let mut batch = Vec::with_capacity(BATCH);
    while lines.recv_many(&mut batch, BATCH).await > 0 {
        if batch.len() < BATCH {
            tokio::time::sleep(GATHER).await;
            while batch.len() < BATCH {
                match lines.try_recv() {
                    Ok(line) => batch.push(line),
                    Err(_) => break,
                }
            }
        }
        if let Err(e) = facetra
            .store()
            .request_logs
            .insert_request_logs(&batch)
            .await
        {
            tracing::warn!(error = %e, lines = batch.len(), "request logs could not be stored");
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> RequestLog {
        RequestLog {
            at: chrono::DateTime::UNIX_EPOCH,
            ip: None,
            user_agent: None,
            referrer: None,
            route: "/healthz".into(),
            method: "GET".into(),
            status: 200,
            latency_ms: 1,
            user_id: None,
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_and_never_waits() {
        let (queue, _lines) = mpsc::channel(2);
        let logger = RequestLogger {
            queue,
            dropped: AtomicU64::new(0),
        };
        let started = std::time::Instant::now();
        for _ in 0..5 {
            logger.push(line());
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(logger.dropped(), 3);
    }
}
