//! Errors to exit codes, in one place. The codes are part of the interface (documented in
//! `--help` and the man pages).

use std::process::ExitCode;

use facetra_core::Error;

/// The exit codes, as shown in `--help`.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success; 1 failure; 2 bad usage; \
3 not set up or misconfigured; 4 not found; 5 not signed in or not allowed; \
6 storage or service unavailable; 7 conflict; 8 not enough credits.";

/// The exit code for an error.
pub fn code_for(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<Error>() {
        Some(
            Error::Invalid { .. }
            | Error::TooLarge(_)
            | Error::UnsupportedMedia(_)
            | Error::InvalidImage(_),
        ) => 2,
        Some(Error::Config(_) | Error::PaymentsDisabled(_)) => 3,
        Some(Error::NotFound(_)) => 4,
        Some(
            Error::Unauthenticated(_)
            | Error::Forbidden(_)
            | Error::InvalidSignature
            | Error::ExpiredLink,
        ) => 5,
        Some(Error::Unavailable(_) | Error::Provider { .. }) => 6,
        Some(Error::Conflict(_) | Error::StaleVersion(_)) => 7,
        Some(Error::InsufficientCredits { .. }) => 8,
        Some(Error::Corrupt(_) | Error::Internal(_)) | None => 1,
    }
}

/// Prints the error and returns its exit code.
pub fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("facetra: {e:#}");
    ExitCode::from(code_for(e))
}
