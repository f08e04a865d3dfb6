//! `facetra login --server URL` and `facetra logout`: remote mode's saved server and API
//! token. The token is asked for without echo (or taken from `--token`/`FACETRA_TOKEN`),
//! checked with `GET /v1/me`, and saved 0600 in the configuration directory.

use std::io::IsTerminal;

use facetra_core::config::Secret;
use facetra_core::Error;
use serde_json::json;

use crate::cli::Global;
use crate::client::{ApiFailure, Client, Credentials, Login as Saved, Remote};
use crate::output;

/// Check an API token on a server and save both; later commands work on that server.
#[derive(Debug, clap::Args)]
pub struct Login {
    /// The API token (else FACETRA_TOKEN, else it is asked for without echo). A flag is
    /// visible to other users in the process list: prefer the prompt.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

impl Login {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let server = match &global.server {
            Some(s) => crate::client::normalise_server(s)?,
            None => {
                return Err(Error::invalid(
                    "--server",
                    "say which server: `facetra login --server https://facetra.studio`",
                )
                .into())
            }
        };
        let token = match self
            .token
            .clone()
            .or_else(|| std::env::var(crate::client::TOKEN_ENV).ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
        {
            Some(t) => t,
            None if std::io::stdin().is_terminal() => dialoguer::Password::new()
                .with_prompt(format!("API token for {server}"))
                .interact()?
                .trim()
                .to_owned(),
            None => {
                return Err(Error::invalid(
                    "--token",
                    "there is no terminal to ask on: pass --token or set FACETRA_TOKEN",
                )
                .into())
            }
        };
        let login = Saved {
            server: server.clone(),
            token: Secret::new(token),
        };
        let me = Remote::new(login.clone())?.whoami().await.map_err(|e| {
            match e.downcast::<ApiFailure>() {
                Ok(f) if f.exit_code() == 5 => anyhow::Error::from(Error::Unauthenticated(
                    "the server refused this API token (wrong, expired or revoked); create a \
                     new one in the web app (Settings → API tokens) and try again",
                )),
                Ok(f) => f.into(),
                Err(e) => e,
            }
        })?;
        let path = Credentials::save(&login)?;
        if global.json {
            return output::json(&json!({
                "server": server,
                "user": me,
                "saved_to": path.display().to_string(),
            }));
        }
        println!(
            "Logged in to {server} as {} <{}>. Commands now work there; `facetra logout` \
             goes back to the local studio.",
            me.name, me.email
        );
        eprintln!(
            "Saved the server and token to {} (only you can read it).",
            path.display()
        );
        Ok(())
    }
}

/// Forget the saved login (the token itself stays valid until revoked).
#[derive(Debug, clap::Args)]
pub struct Logout {}

impl Logout {
    pub fn run(&self, global: &Global) -> anyhow::Result<()> {
        let saved = Credentials::load().ok().flatten().map(|l| l.server);
        let forgot = Credentials::forget()?;
        if global.json {
            return output::json(&json!({ "logged_out": forgot, "server": saved }));
        }
        match saved {
            Some(server) if forgot => println!(
                "Forgot the login to {server}; commands work on the local studio again. The \
                 token stays valid until you revoke it (`facetra tokens list`, then `facetra \
                 tokens revoke ID`, while logged in)."
            ),
            _ => println!("Not logged in to a server; nothing to forget."),
        }
        Ok(())
    }
}
