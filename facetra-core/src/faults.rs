//! Fault points for the tests of crash safety. In a debug build, a point named in
//! `FACETRA_FAULTS` (comma-separated) aborts the process right there, as a SIGKILL would; a
//! release build compiles every point away, so no production binary can be made to crash.

/// Aborts the process here when the debug build was asked to (see the module doc).
pub fn hit(point: &str) {
    #[cfg(debug_assertions)]
    {
        let wanted = std::env::var("FACETRA_FAULTS").unwrap_or_default();
        if wanted.split(',').any(|p| p.trim() == point) {
            eprintln!("facetra: fault point {point} reached; aborting as asked by FACETRA_FAULTS");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
