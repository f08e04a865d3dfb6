//! `facetra init`: sets up the local studio on the embedded default and its owner account,
//! asking on a terminal or taking flags. Running it again changes nothing.

use std::io::IsTerminal;

use anyhow::Context;
use facetra_core::accounts::{InitOutcome, NewOwner};
use facetra_core::{Error, OpenMode};
use serde_json::json;

use crate::cli::Global;
use crate::client::{load_config, open_embedded, UserInfo};
use crate::output;

/// Set up the local studio: its database, its secret key and the owner account.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The owner's name.
    #[arg(long)]
    pub name: Option<String>,
    /// The owner's email.
    #[arg(long)]
    pub email: Option<String>,
    /// Confirm the owner is 18 or older (Facetra is not for children).
    #[arg(long)]
    pub confirm_age: bool,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let (created, owner) = self.ensure(global).await?;
        report(global, created, owner)
    }

    /// Sets up the studio unless it exists; whether it was created, and its owner.
    pub async fn ensure(&self, global: &Global) -> anyhow::Result<(bool, UserInfo)> {
        let config = load_config(global)?;
        if let facetra_core::config::Database::Mongo { .. } = config.database {
            return Err(Error::Config(
                "`facetra init` sets up the embedded local studio; unset FACETRA_DATABASE_URL \
                 (a MongoDB deployment is set up by starting facetra-server)"
                    .into(),
            )
            .into());
        }
        // An existing studio is reported as it is, whatever the flags say.
        if let Ok(facetra) = open_embedded(config.clone(), OpenMode::MustExist).await {
            let owner = facetra.accounts().owner().await;
            facetra.close().await;
            if let Some(owner) = owner? {
                return Ok((false, owner.into()));
            }
        }
        // Ask (or check the flags) before anything is created on disk.
        let owner = self.ask_owner()?;
        let facetra = open_embedded(config, OpenMode::CreateIfMissing).await?;
        let outcome = facetra.accounts().init(owner).await;
        if outcome.is_ok() {
            if let Err(e) = facetra.mail().deliver_due(50).await {
                eprintln!(
                    "facetra: the welcome email could not be delivered yet ({e}); it stays queued"
                );
            }
        }
        facetra.close().await;
        Ok(match outcome? {
            InitOutcome::Created(user) => (true, user.into()),
            InitOutcome::AlreadyInitialized(user) => (false, user.into()),
        })
    }

    fn ask_owner(&self) -> anyhow::Result<NewOwner> {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let complete = self.name.is_some() && self.email.is_some() && self.confirm_age;
        if !complete && !interactive {
            let mut missing = Vec::new();
            if self.name.is_none() {
                missing.push("--name NAME");
            }
            if self.email.is_none() {
                missing.push("--email EMAIL");
            }
            if !self.confirm_age {
                missing.push("--confirm-age");
            }
            return Err(Error::invalid(
                "init",
                format!("there is no terminal to ask on; pass {}", missing.join(" ")),
            )
            .into());
        }
        let theme = dialoguer::theme::SimpleTheme;
        let name = match &self.name {
            Some(n) => n.clone(),
            None => dialoguer::Input::with_theme(&theme)
                .with_prompt("Your name")
                .interact_text()
                .context("reading your name")?,
        };
        let email = match &self.email {
            Some(e) => e.clone(),
            None => dialoguer::Input::with_theme(&theme)
                .with_prompt("Your email")
                .interact_text()
                .context("reading your email")?,
        };
        let age_confirmed = self.confirm_age
            || dialoguer::Confirm::with_theme(&theme)
                .with_prompt("Are you 18 or older? Facetra is not for children")
                .default(false)
                .interact()
                .context("reading the age confirmation")?;
        Ok(NewOwner {
            name,
            email,
            age_confirmed,
        })
    }
}

fn report(global: &Global, created: bool, owner: UserInfo) -> anyhow::Result<()> {
    if global.json {
        return output::json(&json!({ "created": created, "owner": owner }));
    }
    if created {
        println!(
            "Your studio is ready. Owner: {} <{}>",
            owner.name, owner.email
        );
    } else {
        println!(
            "This studio is already set up; its owner is {} <{}>. Nothing changed.",
            owner.name, owner.email
        );
    }
    Ok(())
}
