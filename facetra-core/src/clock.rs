//! Time comes from a `Clock`: the system clock in production, a manual one in tests, so expiry,
//! retention and deadlines are testable without sleeping. Nothing else in the workspace may read
//! the system time (`clippy.toml` forbids it).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A UTC instant.
pub type Timestamp = DateTime<Utc>;

/// Where the current time comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current UTC time.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the system time
    fn now(&self) -> Timestamp {
        // Millisecond precision: what both backends store exactly.
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock standing at `at` (to the millisecond).
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(at.trunc_subsecs(3))))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;
