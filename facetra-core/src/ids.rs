//! Typed ids. Record ids are time-ordered strings with a type prefix (`usr_…`), so they sort by
//! creation; blob ids are wholly random, so they reveal nothing and are never shared.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn encode_base32(mut value: u128, len: usize, out: &mut String) {
    let mut buf = vec![0u8; len];
    for slot in buf.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    out.extend(buf.iter().map(|b| *b as char));
}

/// A time-ordered id: prefix, 10 characters of milliseconds, 16 random characters.
pub fn time_ordered(prefix: &str, at: Timestamp) -> String {
    let millis = at.timestamp_millis().max(0) as u128;
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let mut r: u128 = 0;
    for b in random {
        r = (r << 8) | b as u128;
    }
    let mut s = String::with_capacity(prefix.len() + 27);
    s.push_str(prefix);
    s.push('_');
    encode_base32(millis, 10, &mut s);
    encode_base32(r, 16, &mut s);
    s
}

/// A random id with no time in it: prefix and 26 random characters (130 bits).
pub fn random(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut s = String::with_capacity(prefix.len() + 27);
    s.push_str(prefix);
    s.push('_');
    encode_base32(u128::from_be_bytes(bytes), 26, &mut s);
    s
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this type carries.
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id, checking its prefix and alphabet.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?.strip_prefix('_')?;
                let ok = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                ok.then(|| $name(s.to_owned()))
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a string read back from our own store.
            #[allow(dead_code)]
            pub(crate) fn from_stored(s: String) -> Self {
                $name(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(/// A user account.
    UserId, "usr");
typed_id!(/// A sign-in session.
    SessionId, "ses");
typed_id!(/// An API token.
    TokenId, "tok");
typed_id!(/// A stored blob (random, never time-ordered).
    BlobId, "blb");
typed_id!(/// A credit-ledger entry.
    LedgerId, "led");
typed_id!(/// A payment (our record of a Razorpay order or payment link).
    PaymentId, "pay");
typed_id!(/// A security event.
    SecurityEventId, "sev");
typed_id!(/// An outbox message.
    MessageId, "msg");
typed_id!(/// An uploaded sketch or reference image.
    UploadId, "upl");
typed_id!(/// A render job.
    JobId, "job");
typed_id!(/// A render (one variant's image).
    RenderId, "rnd");
typed_id!(/// A portfolio.
    PortfolioId, "pfl");
typed_id!(/// A waitlist entry or demo booking.
    SignupId, "sgn");
typed_id!(/// A privacy request (a data subject's request: access, erasure, …).
    RequestId, "dsr");
typed_id!(/// A recorded personal-data breach.
    BreachId, "brc");
typed_id!(/// An in-app message thread.
    ThreadId, "thr");

macro_rules! time_ordered_new {
    ($($name:ident),*) => {$(
        impl $name {
            /// A new id created at `at`.
            pub fn new(at: Timestamp) -> Self {
                $name(time_ordered(Self::PREFIX, at))
            }
        }
    )*};
}
time_ordered_new!(
    UserId,
    SessionId,
    TokenId,
    SignupId,
    RequestId,
    BreachId,
    ThreadId,
    LedgerId,
    PaymentId,
    SecurityEventId,
    MessageId,
    UploadId,
    JobId,
    RenderId,
    PortfolioId
);

impl SecurityEventId {
    /// The id of the counted event of `kind` in the window starting at `window`: the same for
    /// every event of that kind and window, so they add up in one record.
    pub fn for_window(kind: &str, window: Timestamp) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(kind.as_bytes());
        let mut tag: u128 = 0;
        for b in &digest[..10] {
            tag = (tag << 8) | u128::from(*b);
        }
        let mut s = String::with_capacity(Self::PREFIX.len() + 27);
        s.push_str(Self::PREFIX);
        s.push('_');
        encode_base32(window.timestamp_millis().max(0) as u128, 10, &mut s);
        encode_base32(tag, 16, &mut s);
        SecurityEventId(s)
    }
}

impl BlobId {
    /// A new random blob id.
    pub fn new() -> Self {
        BlobId(random(Self::PREFIX))
    }
}

impl Default for BlobId {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_ordered_ids_sort_by_creation() {
        let a = UserId::new(chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        let b = UserId::new(chrono::Utc.timestamp_opt(1_700_000_001, 0).unwrap());
        assert!(a < b);
        assert!(UserId::parse(a.as_str()).is_some());
        assert!(UserId::parse("ses_abc").is_none());
        assert!(UserId::parse("usr_ABC").is_none());
    }
}
