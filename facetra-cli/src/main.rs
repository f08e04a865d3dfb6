//! `facetra`: the Facetra command line.

use std::process::ExitCode;

use clap::FromArgMatches;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the command quietly, as it does every
    // other Unix tool, instead of a "Broken pipe" panic.
    sigpipe::reset();
    // Diagnostics only when asked for (FACETRA_LOG=debug): a command's own output is its
    // tables and JSON, never log lines.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("FACETRA_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(false)
            .init();
    }
    // The definition with its examples (the same one the man pages are made from).
    let cli = match facetra_cli::Cli::from_arg_matches(&facetra_cli::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("facetra: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(facetra_cli::run(cli))
}
