//! Errors to exit codes, in one place: core's table (`Error::exit_code`), with 1 for an error
//! that did not come from core; a server's error answer ends a remote command with the code
//! core gives its error code, and Ctrl-C with 130 as in every shell.

use std::process::ExitCode;

use facetra_core::Error;

use crate::client::ApiFailure;

pub use facetra_core::error::EXIT_CODES_HELP;

/// Ctrl-C stopped the command; the words say what was kept and what to do next.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// The exit code for an error: core's, whether core failed here or on the server.
pub fn code_for(e: &anyhow::Error) -> u8 {
    if let Some(e) = e.downcast_ref::<Error>() {
        return e.exit_code();
    }
    if e.is::<Interrupted>() {
        return 130;
    }
    e.downcast_ref::<ApiFailure>()
        .map_or(1, ApiFailure::exit_code)
}

/// The API's field names a person meets in errors, as the flags they type.
const FLAGS: &[(&str, &str)] = &[
    ("aspect_ratio: ", "--aspect: "),
    ("reference_ids: ", "--ref: "),
    ("sketch_id: ", "--sketch: "),
    ("expires_in_days: ", "--days: "),
    ("unit_price_paise: ", "unit_price_paise (in the BOM file): "),
    ("pack_id: ", "PACK: "),
];

/// The next step for an error a person can do something about, by its API code (the same
/// whether core failed here or on a server).
fn next_step(code: &str, said: &str) -> Option<&'static str> {
    match code {
        "insufficient_credits" => {
            Some("buy credits with `facetra buy PACK` (`facetra packs` lists them)")
        }
        "not_found" if said.contains("BOM not found") => {
            Some("make one with `facetra bom generate RENDER`")
        }
        "not_found" if said.contains("render not found") => Some("`facetra renders` lists yours"),
        "not_found" if said.contains("job not found") => Some("`facetra jobs` lists yours"),
        "not_found" if said.contains("portfolio not found") => {
            Some("`facetra portfolio list` lists yours")
        }
        _ => None,
    }
}

/// The API code of an error, wherever it failed.
fn code_of(e: &anyhow::Error) -> Option<&str> {
    if let Some(e) = e.downcast_ref::<Error>() {
        return Some(e.code());
    }
    e.downcast_ref::<ApiFailure>().map(|f| f.code.as_str())
}

/// Prints the error and returns its exit code.
pub fn report(e: &anyhow::Error) -> ExitCode {
    let mut said = format!("{e:#}");
    for (field, flag) in FLAGS {
        said = said.replace(field, flag);
    }
    match code_of(e).and_then(|code| next_step(code, &said)) {
        Some(step) => eprintln!("facetra: {said}; {step}"),
        None => eprintln!("facetra: {said}"),
    }
    ExitCode::from(code_for(e))
}
