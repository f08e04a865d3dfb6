//! `facetra init`: sets up the local studio on the embedded default and its owner account,
//! asking on a terminal or taking flags. Running it again changes nothing.

use std::io::IsTerminal;

use anyhow::Context;
use facetra_core::accounts::{InitOutcome, NewOwner, User};
use facetra_core::config::{Config, Database};
use facetra_core::{Error, Facetra, OpenMode};
use serde_json::json;

use crate::cli::Global;
use crate::client::{load_config, open_embedded};
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
        if let crate::client::Target::Remote(login) = crate::client::target(global)? {
            return Err(Error::Config(format!(
                "`facetra init` sets up the local studio, but this command line works on {} \
                 (`facetra logout` first, or unset FACETRA_SERVER)",
                login.server
            ))
            .into());
        }
        let (created, owner, facetra) = self.ensure_open(load_config(global)?).await?;
        facetra.close().await;
        report(global, created, owner.into())
    }

    /// Opens the local studio, setting it up first when it has no owner: whether it was
    /// created now, its owner, and the opened core (the database is opened once).
    pub async fn ensure_open(&self, config: Config) -> anyhow::Result<(bool, User, Facetra)> {
        let Database::Sqlite { path } = &config.database else {
            return Err(Error::Config(
                "`facetra init` sets up the embedded local studio; unset FACETRA_DATABASE_URL \
                 (a MongoDB deployment is set up by starting facetra-server)"
                    .into(),
            )
            .into());
        };
        // Ask (or check the flags) before anything is created on disk.
        let facetra = if path.exists() {
            let facetra = open_embedded(config, OpenMode::MustExist).await?;
            match facetra.accounts().owner().await {
                // An existing studio is reported as it is, whatever the flags say.
                Ok(Some(owner)) => return Ok((false, owner, facetra)),
                Ok(None) => facetra,
                Err(e) => {
                    facetra.close().await;
                    return Err(e.into());
                }
            }
        } else {
            let owner = self.ask_owner()?;
            let facetra = open_embedded(config, OpenMode::CreateIfMissing).await?;
            return self.init(facetra, owner).await;
        };
        match self.ask_owner() {
            Ok(owner) => self.init(facetra, owner).await,
            Err(e) => {
                facetra.close().await;
                Err(e)
            }
        }
    }

    async fn init(
        &self,
        facetra: Facetra,
        owner: NewOwner,
    ) -> anyhow::Result<(bool, User, Facetra)> {
        let outcome = match facetra.accounts().init(owner).await {
            Ok(outcome) => outcome,
            Err(e) => {
                facetra.close().await;
                return Err(e.into());
            }
        };
        if let Err(e) = facetra.mail().deliver_due(50).await {
            eprintln!(
                "facetra: the welcome email could not be delivered yet ({e}); it stays queued"
            );
        }
        Ok(match outcome {
            InitOutcome::Created(user) => (true, user, facetra),
            InitOutcome::AlreadyInitialized(user) => (false, user, facetra),
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
        // Each answer is checked as it is given (by core's own rules) and asked again.
        let name = match &self.name {
            Some(n) => n.clone(),
            None => dialoguer::Input::<String>::with_theme(&theme)
                .with_prompt("Your name")
                .validate_with(|v: &String| {
                    facetra_core::accounts::parse_name(v)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .interact_text()
                .context("reading your name")?,
        };
        let email = match &self.email {
            Some(e) => e.clone(),
            None => dialoguer::Input::<String>::with_theme(&theme)
                .with_prompt("Your email")
                .validate_with(|v: &String| {
                    facetra_core::accounts::Email::parse(v)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
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

fn report(global: &Global, created: bool, owner: facetra_api::User) -> anyhow::Result<()> {
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
