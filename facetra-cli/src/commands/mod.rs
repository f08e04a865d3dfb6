//! One file per subcommand.

pub mod bom;
pub mod buy;
pub mod completions;
pub mod config;
pub mod consent;
pub mod credits;
pub mod download;
pub mod init;
pub mod jobs;
pub mod login;
pub mod messages;
pub mod packs;
pub mod portfolio;
pub mod privacy;
pub mod render;
pub mod renders;
pub mod tokens;
pub mod upload;
pub mod whoami;

use std::io::IsTerminal;
use std::path::Path;

use facetra_core::Error;

use crate::cli::{Cli, Command};

/// Whether a file name's extension is one of the image types Facetra takes.
pub fn is_image_extension(ext: &str) -> bool {
    ["png", "jpg", "jpeg", "webp"].contains(&ext.to_ascii_lowercase().as_str())
}

/// Reads an input file, with an error that names it and says what to do (exit 2).
pub fn read_input(path: &Path, what: &'static str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::PermissionDenied => "you may not read it".to_owned(),
            std::io::ErrorKind::IsADirectory => "it is a folder".to_owned(),
            _ => e.to_string(),
        };
        Error::invalid(what, format!("cannot read {}: {why}", path.display())).into()
    })
}

/// Asks a yes/no question on the terminal; refuses without one.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "--yes",
            "there is no terminal to ask on; pass --yes to go ahead",
        )
        .into());
    }
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()?)
}

/// Runs the chosen subcommand.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(cmd) => cmd.run(&cli.global).await,
        Command::Login(cmd) => cmd.run(&cli.global).await,
        Command::Logout(cmd) => cmd.run(&cli.global),
        Command::Whoami(cmd) => cmd.run(&cli.global).await,
        Command::Packs(cmd) => cmd.run(&cli.global).await,
        Command::Buy(cmd) => cmd.run(&cli.global).await,
        Command::Upload(cmd) => cmd.run(&cli.global).await,
        Command::Render(cmd) => cmd.run(&cli.global).await,
        Command::Jobs(cmd) => cmd.run(&cli.global).await,
        Command::Renders(cmd) => cmd.run(&cli.global).await,
        Command::Select(cmd) => cmd.run(&cli.global, true).await,
        Command::Unselect(cmd) => cmd.run(&cli.global, false).await,
        Command::Portfolio(cmd) => cmd.run(&cli.global).await,
        Command::Bom(cmd) => cmd.run(&cli.global).await,
        Command::Delete(cmd) => cmd.run(&cli.global).await,
        Command::Download(cmd) => cmd.run(&cli.global).await,
        Command::Open(cmd) => cmd.run(&cli.global).await,
        Command::Credits(cmd) => cmd.run(&cli.global).await,
        Command::Tokens(cmd) => cmd.run(&cli.global).await,
        Command::Consent(cmd) => cmd.run(&cli.global).await,
        Command::Privacy(cmd) => cmd.run(&cli.global).await,
        Command::Messages(cmd) => cmd.run(&cli.global).await,
        Command::Config(cmd) => cmd.run(&cli.global),
        Command::Completions(cmd) => cmd.run(),
    }
}
