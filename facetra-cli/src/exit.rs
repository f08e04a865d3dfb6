//! Errors to exit codes, in one place: core's table (`Error::exit_code`), with 1 for an error
//! that did not come from core. The codes are part of the interface (documented in `--help`
//! and the man pages).

use std::process::ExitCode;

use facetra_core::Error;

pub use facetra_core::error::EXIT_CODES_HELP;

/// The exit code for an error.
pub fn code_for(e: &anyhow::Error) -> u8 {
    e.downcast_ref::<Error>().map_or(1, Error::exit_code)
}

/// Prints the error and returns its exit code.
pub fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("facetra: {e:#}");
    ExitCode::from(code_for(e))
}
