//! What every command needs: the opened core, the actor, confirmation and output helpers.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context as _;
use facetra_core::config::{keys, Config, Sources};
use facetra_core::{Actor, Error, Facetra, OpenMode, SystemClock};

use crate::cli::Global;

/// An opened deployment and who is acting on it.
pub struct Ctx {
    pub facetra: Facetra,
    pub global: Global,
}

impl Ctx {
    /// Opens the existing database as the server would (a command that changes it names it
    /// in its confirmation; one that only reads is quiet about it).
    pub async fn open(global: &Global) -> anyhow::Result<Ctx> {
        let mut flags = BTreeMap::new();
        if let Some(dir) = &global.data_dir {
            flags.insert(keys::DATA_DIR.to_owned(), dir.display().to_string());
        }
        if let Some(op) = &global.operator {
            flags.insert(keys::OPERATOR.to_owned(), op.clone());
        }
        let config = Config::load(Sources::from_process(flags, global.config.clone()))?;
        for warning in &config.warnings {
            eprintln!("facetra-admin: warning: {warning}");
        }
        let described = config.database.describe();
        let facetra = Facetra::open(config, Arc::new(SystemClock), OpenMode::MustExist)
            .await
            .with_context(|| format!("opening {described}"))?;
        Ok(Ctx {
            facetra,
            global: global.clone(),
        })
    }

    /// The staff member acting: `--operator` (or `FACETRA_OPERATOR`) must name an existing,
    /// active account that holds a staff role; core says what that role may do.
    pub async fn actor(&self) -> anyhow::Result<Actor> {
        let Some(operator) = self.facetra.config().operator.clone() else {
            return Err(Error::invalid(
                "operator",
                format!(
                    "say who you are with --operator EMAIL (or {}): the email of a staff account; \
                     a new deployment makes its first admin with `facetra-admin bootstrap EMAIL`",
                    keys::OPERATOR
                ),
            )
            .into());
        };
        Ok(self.facetra.accounts().staff(&operator).await?)
    }

    /// Asks before a change, naming the database it is about to change; `--yes` skips
    /// (and says which database it changes); without a terminal it refuses unless `--yes`.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        let store = self.facetra.store().description();
        if self.global.yes {
            eprintln!("facetra-admin: changing {store}");
            return Ok(true);
        }
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(Error::invalid(
                "yes",
                "there is no terminal to confirm on; pass --yes to proceed",
            )
            .into());
        }
        Ok(dialoguer::Confirm::new()
            .with_prompt(format!("{question} (in {store})"))
            .default(false)
            .interact()?)
    }

    /// Delivers what the command queued (a verification code, a notice to a person: they
    /// should not wait for a server to come by; leased, so a running server's sender never
    /// sends the same message too), then releases the store.
    pub async fn close(self) {
        // At most a few seconds: an unreachable mail provider must not hold the command up
        // (what is not sent stays queued for the server's sender).
        let mail = self.facetra.mail();
        let sent = tokio::time::timeout(std::time::Duration::from_secs(10), mail.deliver_due(50));
        match sent.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                eprintln!("facetra-admin: mail could not be delivered yet ({e}); it stays queued")
            }
            Err(_) => eprintln!(
                "facetra-admin: the mail provider is slow; what is not sent stays queued for the server"
            ),
        }
        self.facetra.close().await;
    }
}

/// Prints `value` as pretty JSON.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A table with the given header (drawn to the terminal's width, plain rows when piped).
pub use facetra_cli::output::{day, table, when};

/// A `--as-of` date (YYYY-MM-DD) as the start of that day in UTC.
pub fn parse_date(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{s:?}: give a date as YYYY-MM-DD"))
}
