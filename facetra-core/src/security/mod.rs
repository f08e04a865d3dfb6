//! Security primitives shared by every domain: random tokens and their hashes, the root secret
//! and its HKDF-derived subkeys. It never logs or returns a secret; only hashes are stored.

pub mod events;
pub mod guard;
pub mod signed_url;

use std::path::Path;

use hkdf::Hkdf;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{check_secret_length, keys, Config, Database, Secret};
use crate::error::{Error, Result};

/// The HTTP client every outbound integration uses: it never follows a redirect (which would
/// carry an API key to another host), always sends a `User-Agent`, and gives up after
/// `timeout_secs`.
pub fn outbound_client(timeout_secs: u64, service: &str) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(timeout_secs))
        .user_agent(concat!("facetra/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the {service} client: {e}")))
}

/// A bearer secret handed to a client once (session token, API token). Never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RawToken(String);

impl std::fmt::Debug for RawToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawToken([redacted])")
    }
}

impl RawToken {
    /// A fresh 256-bit random token, hex-encoded, after `prefix` (may be empty).
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        RawToken(format!("{prefix}{}", hex::encode(bytes)))
    }

    /// Wraps a token presented by a client.
    pub fn from_client(s: &str) -> Self {
        RawToken(s.to_owned())
    }

    /// The token text, to hand to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 that is stored in its place.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

/// Hex SHA-256 of a token: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Constant-time equality of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// HMAC-SHA256 of `message` under `key`, lower-case hex.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// The purposes a subkey is derived for (HKDF-SHA256 info labels, DESIGN §4 Security).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    Url,
    Pseudonym,
    ErasedIdentity,
    RateLimit,
    /// The state, nonce and PKCE verifier of a Google sign-in, from its pre-sign-in cookie.
    SignIn,
    /// The one-time codes that verify a privacy request.
    Verification,
}

impl KeyPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            KeyPurpose::Url => b"url",
            KeyPurpose::Pseudonym => b"pseudonym",
            KeyPurpose::ErasedIdentity => b"erased-identity",
            KeyPurpose::RateLimit => b"ratelimit",
            KeyPurpose::SignIn => b"sign-in",
            KeyPurpose::Verification => b"verification",
        }
    }
}

/// The root secret (current and retired) and the subkeys derived from it.
#[derive(Clone)]
pub struct Keys {
    current: Secret,
    previous: Vec<Secret>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// Keys from a root secret and retired ones.
    pub fn new(current: Secret, previous: Vec<Secret>) -> Self {
        Keys { current, previous }
    }

    /// The id of the current root secret: first 8 hex digits of its SHA-256.
    pub fn current_kid(&self) -> String {
        kid(&self.current)
    }

    /// The subkey for `purpose` under the current root secret.
    pub fn subkey(&self, purpose: KeyPurpose) -> [u8; 32] {
        derive(&self.current, purpose)
    }

    /// The keyed hash (HMAC-SHA256 under the subkey for `purpose`) of `message`: what is kept
    /// where the value itself must not be.
    pub fn keyed_hash(&self, purpose: KeyPurpose, message: &str) -> String {
        hmac_hex(&self.subkey(purpose), message.as_bytes())
    }

    /// The subkey for `purpose` under the root secret named `kid`, current or retired.
    pub fn subkey_for_kid(&self, kid_wanted: &str, purpose: KeyPurpose) -> Option<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|s| kid(s) == kid_wanted)
            .map(|s| derive(s, purpose))
    }
}

fn kid(secret: &Secret) -> String {
    sha256_hex(secret.expose().as_bytes())[..8].to_owned()
}

fn derive(secret: &Secret, purpose: KeyPurpose) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(None, secret.expose().as_bytes());
    let mut out = [0u8; 32];
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(purpose.label(), &mut out);
    out
}

const SECRET_FILE: &str = "secret.key";

/// The root secret for this configuration: the configured one; on the embedded default one
/// generated once and kept in `<data dir>/secret.key` (mode 0600); with MongoDB a configured
/// one is required, since several servers must share it.
pub fn load_keys(config: &Config, may_create: bool) -> Result<Keys> {
    let current = match (&config.secret_key, &config.database) {
        (Some(key), _) => key.clone(),
        (None, Database::Mongo { .. }) => {
            return Err(Error::Config(format!(
                "{} is required with a MongoDB database (every server must share it); \
                 generate one with `openssl rand -hex 32` and set it",
                keys::SECRET_KEY
            )))
        }
        (None, Database::Sqlite { .. }) => embedded_secret(&config.data_dir, may_create)?,
    };
    for old in &config.previous_secret_keys {
        check_secret_length(old, keys::PREVIOUS_SECRET_KEYS)?;
    }
    Ok(Keys::new(current, config.previous_secret_keys.clone()))
}

fn embedded_secret(data_dir: &Path, may_create: bool) -> Result<Secret> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            crate::private_fs::check_private(&path)?;
            let key = Secret::new(text.trim());
            check_secret_length(&key, &path.display().to_string())?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => {
            crate::private_fs::private_dir(data_dir)?;
            let key = RawToken::generate("");
            write_private(&path, key.expose().as_bytes())?;
            Ok(Secret::new(key.expose()))
        }
        Err(e) => Err(Error::Config(format!(
            "cannot read the secret key {}: {e}; set {} or restore the file",
            path.display(),
            keys::SECRET_KEY
        ))),
    }
}

/// Writes a file readable by its owner only; fails if it already exists.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_hash_to_sha256() {
        let t = RawToken::generate("");
        assert_eq!(t.expose().len(), 64);
        assert_eq!(t.hash().0, sha256_hex(t.expose().as_bytes()));
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_ne!(RawToken::generate("").expose(), t.expose());
    }

    #[test]
    fn retired_secrets_still_derive_their_subkeys() {
        let old = Secret::new("o".repeat(40));
        let new = Secret::new("n".repeat(40));
        let before = Keys::new(old.clone(), vec![]);
        let after = Keys::new(new, vec![old]);
        let old_kid = before.current_kid();
        assert_ne!(after.current_kid(), old_kid);
        assert_eq!(
            after.subkey_for_kid(&old_kid, KeyPurpose::Url),
            Some(before.subkey(KeyPurpose::Url))
        );
        assert_ne!(
            before.subkey(KeyPurpose::Url),
            before.subkey(KeyPurpose::Pseudonym)
        );
        assert!(after.subkey_for_kid("00000000", KeyPurpose::Url).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_embedded_secret_is_generated_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = Config::embedded(dir.path()).unwrap();
        let first = load_keys(&config, true).unwrap();
        let second = load_keys(&config, true).unwrap();
        assert_eq!(first.current_kid(), second.current_kid());
        let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
