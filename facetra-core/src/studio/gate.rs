//! What keeps uploads from exhausting memory: every upload is fully decoded to check it, and a
//! 40-megapixel 16-bit PNG of a few hundred kilobytes decodes to 320 MB. A decode first takes
//! its exact size (from the header, before any decoding) out of a memory budget shared by the
//! whole process, waiting briefly for room and answering "busy" (503, retry) when there is
//! none; and one user can have only a few uploads in flight (429 beyond that).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};
use crate::ids::UserId;

/// How long an upload waits for room in the budget before it is told to come back.
const WAIT_FOR_ROOM: Duration = Duration::from_secs(2);
/// The budget is counted in units of this many bytes.
const UNIT: u64 = 1 << 20;

/// The process's upload gate: the decode budget and the uploads in flight per user.
#[derive(Debug, Clone)]
pub struct UploadGate {
    budget: Arc<Semaphore>,
    units: u64,
    per_user: usize,
    in_flight: Arc<Mutex<HashMap<UserId, usize>>>,
}

/// One upload in flight: leaves the count when dropped.
#[derive(Debug)]
pub struct InFlight {
    gate: UploadGate,
    user: UserId,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut counts = self
            .gate
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

impl UploadGate {
    /// A gate with a decode budget of `budget_bytes` and `per_user` uploads in flight.
    pub fn new(budget_bytes: u64, per_user: usize) -> UploadGate {
        let units = (budget_bytes / UNIT).max(1);
        UploadGate {
            budget: Arc::new(Semaphore::new(
                usize::try_from(units).unwrap_or(Semaphore::MAX_PERMITS),
            )),
            units,
            per_user: per_user.max(1),
            in_flight: Arc::default(),
        }
    }

    /// Lets one more of `user`'s uploads in, or says to slow down.
    pub fn enter(&self, user: &UserId) -> Result<InFlight> {
        let mut counts = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(user.clone()).or_insert(0);
        if *n >= self.per_user {
            return Err(Error::RateLimited(format!(
                "at most {} uploads at a time; wait for one to finish",
                self.per_user
            )));
        }
        *n += 1;
        Ok(InFlight {
            gate: self.clone(),
            user: user.clone(),
        })
    }

    /// Takes `bytes` of decoding memory from the budget, waiting briefly for room.
    pub async fn reserve(&self, bytes: u64) -> Result<OwnedSemaphorePermit> {
        let units = bytes.div_ceil(UNIT).max(1);
        if units > self.units {
            return Err(Error::InvalidImage(format!(
                "the image would need {} MB to check, more than this server allows; send a \
                 smaller one",
                bytes / 1_000_000
            )));
        }
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        let waited =
            tokio::time::timeout(WAIT_FOR_ROOM, self.budget.clone().acquire_many_owned(units))
                .await;
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Error::Busy(
                "the server is checking other large images; try again in a moment".into(),
            )),
        }
    }
}
