//! Where remote mode finds its server and API token: `--server`/`FACETRA_SERVER` and
//! `FACETRA_TOKEN`, else the login `facetra login` saved in `<config dir>/credentials.json`
//! (0600, in a 0700 directory; refused when others can read it).

use std::io::Write;
use std::path::PathBuf;

use facetra_core::config::Secret;
use facetra_core::private_fs;
use facetra_core::Error;
use serde::{Deserialize, Serialize};

use crate::cli::Global;

/// The environment variable holding an API token for remote mode.
pub const TOKEN_ENV: &str = facetra_core::config::keys::TOKEN;

/// A server and the token that acts for you there.
#[derive(Debug, Clone)]
pub struct Login {
    /// The server's base URL, without a trailing `/`.
    pub server: String,
    pub token: Secret,
}

/// The saved login.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    token: String,
}

/// The saved login's file.
pub struct Credentials;

impl Credentials {
    /// `<config dir>/credentials.json`.
    pub fn path() -> anyhow::Result<PathBuf> {
        facetra_core::config::config_dir()
            .map(|d| d.join("credentials.json"))
            .ok_or_else(|| {
                Error::Config(
                    "no configuration directory (HOME is not set); use FACETRA_SERVER and \
                     FACETRA_TOKEN instead of `facetra login`"
                        .into(),
                )
                .into()
            })
    }

    /// The saved login, if any.
    pub fn load() -> anyhow::Result<Option<Login>> {
        let path = Self::path()?;
        let raw = match std::fs::read_to_string(&path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Config(format!("cannot read {}: {e}", path.display())).into())
            }
        };
        private_fs::check_private(&path)?;
        let saved: Saved = serde_json::from_str(&raw).map_err(|_| {
            Error::Config(format!(
                "{} is not a saved login; run `facetra login` again (or delete the file)",
                path.display()
            ))
        })?;
        Ok(Some(Login {
            server: saved.server,
            token: Secret::new(saved.token),
        }))
    }

    /// Saves a login, private from its first byte; the path it went to.
    pub fn save(login: &Login) -> anyhow::Result<PathBuf> {
        let path = Self::path()?;
        let cannot =
            |e: std::io::Error| Error::Config(format!("cannot save {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            private_fs::private_dir(dir).map_err(cannot)?;
        }
        let body = serde_json::to_string_pretty(&Saved {
            server: login.server.clone(),
            token: login.token.expose().to_owned(),
        })?;
        let mut file = private_fs::create_private_sync(&path).map_err(cannot)?;
        file.write_all(body.as_bytes()).map_err(cannot)?;
        // A file that existed before keeps its old mode through `create`: make it private.
        private_fs::make_private(&path).map_err(cannot)?;
        Ok(path)
    }

    /// Forgets the saved login; whether there was one.
    pub fn forget() -> anyhow::Result<bool> {
        let path = Self::path()?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::Config(format!("cannot remove {}: {e}", path.display())).into()),
        }
    }

    /// The login this invocation uses, or `None` for the embedded default: the server from
    /// `--server`/`FACETRA_SERVER` or the saved login, the token from `FACETRA_TOKEN` or the
    /// saved login for that same server.
    pub fn resolve(global: &Global) -> anyhow::Result<Option<Login>> {
        let env_token = std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        let saved = Self::load()?;
        let server = match &global.server {
            Some(s) => normalise_server(s)?,
            None => match (&saved, &env_token) {
                (Some(saved), _) => saved.server.clone(),
                (None, Some(_)) => {
                    return Err(Error::Config(
                        "FACETRA_TOKEN is set but no server is: set FACETRA_SERVER (or pass \
                         --server URL)"
                            .into(),
                    )
                    .into())
                }
                (None, None) => return Ok(None),
            },
        };
        let token = match (env_token, saved) {
            (Some(t), _) => Secret::new(t),
            (None, Some(saved)) if saved.server == server => saved.token,
            _ => {
                return Err(Error::Unauthenticated(
                    "no API token for this server: run `facetra login --server URL` (or set \
                     FACETRA_TOKEN)",
                )
                .into())
            }
        };
        Ok(Some(Login { server, token }))
    }
}

/// A server's base URL as given, checked: `http://` or `https://`, no trailing `/`.
pub fn normalise_server(raw: &str) -> anyhow::Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(Error::invalid(
            "--server",
            format!("{raw:?} is not a server address; give one like https://facetra.studio"),
        )
        .into()),
    }
}
