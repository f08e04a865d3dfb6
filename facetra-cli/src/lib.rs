//! `facetra`: the designer's command line. Each subcommand is a small `Cmd` with `run`, which
//! parses its input, calls one operation of a `Client` (the in-process core on the embedded
//! default; the HTTP API in remote mode) and prints the result as a table or, with `--json`,
//! as JSON. Errors become exit codes in one place (`exit`).

pub mod cli;
mod client;
mod commands;
mod examples;
pub mod exit;
pub mod help;
pub mod output;

pub use cli::Cli;
pub use examples::command;

use std::process::ExitCode;

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> ExitCode {
    match commands::dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
