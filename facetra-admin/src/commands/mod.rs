//! One module per command group.

pub mod anonymise;
pub mod audit;
pub mod bootstrap;
pub mod breach;
pub mod completions;
pub mod credits;
pub mod datamap;
pub mod dsr;
pub mod mail;
pub mod messages;
pub mod onboarding;
pub mod retention;
pub mod users;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::context::Ctx;

/// Runs the chosen subcommand; its exit code.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Completions(cmd) = &cli.command {
        cmd.run()?;
        return Ok(ExitCode::SUCCESS);
    }
    let ctx = Ctx::open(&cli.global).await?;
    let result = match &cli.command {
        Command::Bootstrap(cmd) => cmd.run(&ctx).await,
        Command::Users(cmd) => cmd.run(&ctx).await,
        Command::Datamap(cmd) => cmd.run(&ctx).await,
        Command::Audit(cmd) => cmd.run(&ctx).await,
        Command::Credits(cmd) => cmd.run(&ctx).await,
        Command::Mail(cmd) => cmd.run(&ctx).await,
        Command::Waitlist(cmd) => cmd.run(&ctx).await,
        Command::Anonymise(cmd) => cmd.run(&ctx).await,
        Command::Demos(cmd) => cmd.run(&ctx).await,
        Command::Dsr(cmd) => cmd.run(&ctx).await,
        Command::Retention(cmd) => cmd.run(&ctx).await,
        Command::Breach(cmd) => cmd.run(&ctx).await,
        Command::Messages(cmd) => cmd.run(&ctx).await,
        Command::Completions(_) => Ok(ExitCode::SUCCESS),
    };
    ctx.close().await;
    result
}
