//! What the server's per-IP throttles leave in the store: rate-limit hits, counted per route
//! group, client and window; and the admin routes' lock-out, which is the same counted event
//! for failed authentication read back: a client that failed `FACETRA_ADMIN_LOCKOUT_FAILURES`
//! times in one window is refused until the window ends. Kept in the store, so every server
//! of a deployment honours it and a restart does not lift it.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::events::COUNT_WINDOW_SECS;
use super::{KeyPurpose, Keys};
use crate::error::Result;
use crate::Facetra;

/// The kind of the counted event of failed authentication on admin routes.
pub const ADMIN_AUTH_FAILED: &str = "auth.admin_failed";

/// A client's keyed tag (HMAC of the IP with the `ratelimit` subkey): what names the client
/// in a counted event's id, so ids never carry an IP.
pub fn client_tag(keys: &Keys, ip: IpAddr) -> String {
    let key = keys.subkey(KeyPurpose::RateLimit);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(ip.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The throttles' view of the store, borrowed from the facade.
pub struct Guard<'a> {
    pub(crate) f: &'a Facetra,
}

impl Guard<'_> {
    /// Records that `ip` hit the rate limit of `group` (`admin`, `sign_in`, `forms`): one
    /// security event per group, client and window, its count growing.
    pub async fn rate_limited(&self, group: &str, ip: IpAddr) -> Result<()> {
        let kind = format!("ratelimit.{group}");
        let event = self.f.counted_event(&kind, Some(ip));
        self.f
            .store()
            .security
            .count_security_event(&event)
            .await
            .map(|_| ())
    }

    /// Records a failed authentication on an admin route from `ip`.
    pub async fn admin_auth_failed(&self, ip: IpAddr) -> Result<()> {
        let event = self.f.counted_event(ADMIN_AUTH_FAILED, Some(ip));
        let count = self.f.store().security.count_security_event(&event).await?;
        if count == self.f.config().admin_lockout_failures {
            tracing::warn!("a client is locked out of the admin routes");
        }
        Ok(())
    }

    /// How many seconds `ip` stays locked out of the admin routes, if it is.
    pub async fn admin_locked_out(&self, ip: IpAddr) -> Result<Option<i64>> {
        let event = self.f.counted_event(ADMIN_AUTH_FAILED, Some(ip));
        let failures = self
            .f
            .store()
            .security
            .security_event(&event.id)
            .await?
            .map_or(0, |e| e.count);
        if failures < self.f.config().admin_lockout_failures {
            return Ok(None);
        }
        let ends = event.at.timestamp() + COUNT_WINDOW_SECS;
        Ok(Some((ends - self.f.now().timestamp()).max(1)))
    }
}
