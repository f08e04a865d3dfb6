//! Signed download URLs (DESIGN §4): `/files/{blob}?exp=…&kid=…&sig=…` where
//! `sig = hex(HMAC-SHA256(K_url, "facetra-file-v1\n" + blob_id + "\n" + exp))`, `K_url` derived
//! by HKDF from the root secret named by `kid` (so retired secrets still verify). Checked in
//! order: malformed, unknown kid or wrong signature (constant time) → `InvalidSignature`;
//! past `exp` → `ExpiredLink`. Whether the blob and its owner still exist is the caller's next
//! check.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{constant_time_eq, KeyPurpose, Keys};
use crate::clock::Timestamp;
use crate::error::{Error, Result};

fn message(blob: &str, exp: i64) -> String {
    format!("facetra-file-v1\n{blob}\n{exp}")
}

fn mac(key: &[u8; 32], msg: &str) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The query string (`exp=…&kid=…&sig=…`) that grants `blob` until `exp` (unix seconds).
pub fn sign(keys: &Keys, blob: &str, exp: i64) -> String {
    let sig = mac(&keys.subkey(KeyPurpose::Url), &message(blob, exp));
    format!("exp={exp}&kid={}&sig={sig}", keys.current_kid())
}

/// Verifies a presented link for `blob` at `now`.
pub fn verify(
    keys: &Keys,
    blob: &str,
    exp: Option<&str>,
    kid: Option<&str>,
    sig: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let (Some(exp), Some(kid), Some(sig)) = (exp, kid, sig) else {
        return Err(Error::InvalidSignature);
    };
    let exp: i64 = exp.parse().map_err(|_| Error::InvalidSignature)?;
    let wellformed = sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit());
    let key = keys
        .subkey_for_kid(kid, KeyPurpose::Url)
        .ok_or(Error::InvalidSignature)?;
    let expected = mac(&key, &message(blob, exp));
    if !wellformed || !constant_time_eq(expected.as_bytes(), sig.to_ascii_lowercase().as_bytes()) {
        return Err(Error::InvalidSignature);
    }
    if now.timestamp() > exp {
        return Err(Error::ExpiredLink);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn links_verify_until_they_expire_and_not_when_tampered() {
        let keys = Keys::new(Secret::new("k".repeat(40)), vec![]);
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let q = sign(&keys, "blb_a", 1_800_000_900);
        let part = |name: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        let (exp, kid, sig) = (part("exp"), part("kid"), part("sig"));
        assert!(verify(
            &keys,
            "blb_a",
            exp.as_deref(),
            kid.as_deref(),
            sig.as_deref(),
            now
        )
        .is_ok());
        assert!(matches!(
            verify(
                &keys,
                "blb_b",
                exp.as_deref(),
                kid.as_deref(),
                sig.as_deref(),
                now
            ),
            Err(Error::InvalidSignature)
        ));
        assert!(matches!(
            verify(
                &keys,
                "blb_a",
                Some("1800000901"),
                kid.as_deref(),
                sig.as_deref(),
                now
            ),
            Err(Error::InvalidSignature)
        ));
        assert!(matches!(
            verify(
                &keys,
                "blb_a",
                exp.as_deref(),
                Some("deadbeef"),
                sig.as_deref(),
                now
            ),
            Err(Error::InvalidSignature)
        ));
        assert!(matches!(
            verify(&keys, "blb_a", exp.as_deref(), kid.as_deref(), None, now),
            Err(Error::InvalidSignature)
        ));
        let later = now + chrono::Duration::seconds(901);
        assert!(matches!(
            verify(
                &keys,
                "blb_a",
                exp.as_deref(),
                kid.as_deref(),
                sig.as_deref(),
                later
            ),
            Err(Error::ExpiredLink)
        ));
        // Signed under a secret that has since been retired: still valid.
        let rotated = Keys::new(
            Secret::new("n".repeat(40)),
            vec![Secret::new("k".repeat(40))],
        );
        assert!(verify(
            &rotated,
            "blb_a",
            exp.as_deref(),
            kid.as_deref(),
            sig.as_deref(),
            now
        )
        .is_ok());
    }
}
