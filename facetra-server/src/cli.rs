//! The command line of `facetra-server`, here so the man pages are generated from it.

use std::path::PathBuf;

use clap::Parser;

/// Serve the Facetra HTTP API (see API.md). Configuration comes from flags, FACETRA_*
/// variables, a TOML file and defaults, in that order.
#[derive(Debug, Parser)]
#[command(name = "facetra-server", version, about, long_about = None)]
pub struct Args {
    /// Address to listen on (FACETRA_BIND); port 0 picks a free one.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// TOML configuration file (default: <config dir>/facetra.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the embedded database and blobs (FACETRA_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}
