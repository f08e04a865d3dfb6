//! Whether the store answers, as a background probe last saw it. While it is known to be down
//! every request that needs it is answered 503 at once (with `Retry-After`), instead of each
//! one waiting out the driver's server-selection timeout; the probe sees it back and the
//! server serves again, with no restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use facetra_core::Facetra;

/// How often the probe pings the store, and how long a ping may take before the store counts
/// as down.
const PROBE_EVERY: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_millis(750);

/// What a response carries when the store failed under it: the guard marks the store down.
#[derive(Debug, Clone, Copy)]
pub struct StoreFailed;

/// The store's health, shared by the guard and the probe.
#[derive(Debug, Default)]
pub struct StoreHealth {
    down: AtomicBool,
}

impl StoreHealth {
    /// Whether the store is known to be down.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// A request saw the store fail.
    pub fn mark_down(&self) {
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!("the store stopped answering; answering 503 until it is back");
        }
    }

    fn set(&self, down: bool) {
        let was = self.down.swap(down, Ordering::Relaxed);
        if was && !down {
            tracing::info!("the store answers again");
        } else if !was && down {
            tracing::warn!("the store stopped answering; answering 503 until it is back");
        }
    }

    /// Pings the store until `stop`, keeping the flag current.
    pub async fn probe(&self, facetra: Facetra, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let answered = tokio::time::timeout(PROBE_TIMEOUT, facetra.ready()).await;
            self.set(!matches!(answered, Ok(Ok(()))));
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
    }
}
