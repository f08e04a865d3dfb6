//! Errors to exit codes, in one place: core's table (`Error::exit_code`), with 1 for an error
//! that did not come from core; a server's error answer ends a remote command with the code
//! core gives its error code. The codes are part of the interface (documented in `--help`
//! and the man pages).

use std::process::ExitCode;

use facetra_core::Error;

use crate::client::ApiFailure;

pub use facetra_core::error::EXIT_CODES_HELP;

/// The exit code for an error: core's, whether core failed here or on the server.
pub fn code_for(e: &anyhow::Error) -> u8 {
    if let Some(e) = e.downcast_ref::<Error>() {
        return e.exit_code();
    }
    e.downcast_ref::<ApiFailure>()
        .map_or(1, ApiFailure::exit_code)
}

/// Prints the error and returns its exit code.
pub fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("facetra: {e:#}");
    ExitCode::from(code_for(e))
}
