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

use crate::cli::{Cli, Command};

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
