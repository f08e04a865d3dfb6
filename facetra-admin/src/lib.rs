//! `facetra-admin`: the operator's and DPO's command line. It opens the database exactly as
//! the server does, names it whenever it changes it, and never creates one. Every mutating command
//! needs an operator identity (`--operator` / `FACETRA_OPERATOR`), confirms unless `--yes`,
//! and is audited by core. `--operator` is an accountability label, not authentication:
//! whoever can run this can read the database.

pub mod cli;
mod commands;
mod context;
mod examples;

pub use cli::Cli;
pub use examples::command;

use std::process::ExitCode;

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> ExitCode {
    match commands::dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("facetra-admin: {e:#}");
            let code = e
                .downcast_ref::<facetra_core::Error>()
                .map_or(1, facetra_core::Error::exit_code);
            ExitCode::from(code)
        }
    }
}
