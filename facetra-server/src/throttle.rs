//! Per-IP throttles (`governor`): requests per minute for the admin routes, the sign-in
//! routes and the public forms, each a burst of that many refilled evenly; and the client's
//! IP itself, from the socket or, behind a trusted proxy, from `X-Forwarded-For`. A hit is
//! 429 `rate_limited` with `Retry-After`, and counted in the store (core's guard).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use facetra_core::config::{IpBlock, RateLimits};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Which budget a path draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Admin,
    SignIn,
    Forms,
    /// The web app's page-view events.
    Events,
}

impl Group {
    /// The group of `path`, if it is throttled.
    pub fn of(path: &str) -> Option<Group> {
        if path.starts_with("/admin/") {
            Some(Group::Admin)
        } else if path.starts_with("/auth/") && path != "/auth/logout" {
            Some(Group::SignIn)
        } else if matches!(path, "/v1/waitlist" | "/v1/demo-bookings") {
            Some(Group::Forms)
        } else if path == "/v1/events" {
            Some(Group::Events)
        } else {
            None
        }
    }

    /// How the security event names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Admin => "admin",
            Group::SignIn => "sign_in",
            Group::Forms => "forms",
            Group::Events => "events",
        }
    }
}

/// The budgets of one server.
pub struct Throttles {
    admin: DefaultKeyedRateLimiter<IpAddr>,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    forms: DefaultKeyedRateLimiter<IpAddr>,
    events: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// Past this many clients in one budget, the ones whose budget is full again are forgotten.
const REMEMBERED_CLIENTS: usize = 50_000;

fn keyed(per_min: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = NonZeroU32::new(per_min).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))
}

impl Throttles {
    pub fn new(limits: RateLimits) -> Throttles {
        Throttles {
            admin: keyed(limits.admin_per_min),
            sign_in: keyed(limits.sign_in_per_min),
            forms: keyed(limits.forms_per_min),
            events: keyed(limits.events_per_min),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from `ip`'s budget in `group`; how long to wait when it is spent.
    pub fn check(&self, group: Group, ip: IpAddr) -> Result<(), Duration> {
        let limiter = match group {
            Group::Admin => &self.admin,
            Group::SignIn => &self.sign_in,
            Group::Forms => &self.forms,
            Group::Events => &self.events,
        };
        if limiter.len() > REMEMBERED_CLIENTS {
            limiter.retain_recent();
        }
        limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The client's IP: the socket's peer, unless the peer is a trusted proxy, in which case the
/// rightmost `X-Forwarded-For` address that is not itself a trusted proxy.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpBlock]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|b| b.contains(ip));
    let peer = peer.ip();
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let trusted = [IpBlock::parse("10.0.0.0/8").unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.2".parse().unwrap(),
        );
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let stranger: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(stranger, &h, &trusted),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy.ip());
    }
}
