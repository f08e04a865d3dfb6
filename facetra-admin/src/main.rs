//! `facetra-admin`: the Facetra operator's command line.

use std::process::ExitCode;

use clap::FromArgMatches;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the command quietly, as it does every
    // other Unix tool, instead of a "Broken pipe" panic.
    sigpipe::reset();
    // The definition with its examples (the same one the man pages are made from).
    let cli = match facetra_admin::Cli::from_arg_matches(&facetra_admin::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("facetra-admin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(facetra_admin::run(cli))
}
