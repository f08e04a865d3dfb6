//! `facetra-admin`: the Facetra operator's command line.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the command quietly, as it does every
    // other Unix tool, instead of a "Broken pipe" panic.
    sigpipe::reset();
    let cli = facetra_admin::Cli::parse();
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
