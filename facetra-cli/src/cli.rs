//! The command-line definition (clap derive); man pages and completions come from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    bom, buy, completions, config, consent, credits, download, init, jobs, login, messages, packs,
    portfolio, privacy, render, renders, tokens, upload, whoami,
};

/// Facetra: sketch in, photoreal renders out. Runs on the embedded local studio unless a
/// server is configured.
#[derive(Debug, Parser)]
#[command(name = "facetra", version, about, long_about = None, after_help = facetra_core::error::EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (listed apart from each command's own).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Print data as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// TOML configuration file (default: <config dir>/facetra.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory of the local studio (FACETRA_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Work on this facetra-server instead of the local studio (FACETRA_SERVER; `facetra
    /// login` saves it), with the token from FACETRA_TOKEN or the saved login.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = facetra_core::config::keys::SERVER,
        hide_env = true
    )]
    pub server: Option<String>,
}

/// `--limit` and `--cursor` of every list.
#[derive(Debug, Clone, Args)]
pub struct Paging {
    /// At most this many (1–100).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after this cursor (printed under the previous page).
    #[arg(long)]
    pub cursor: Option<String>,
}

impl Paging {
    /// The API's list query.
    pub fn query(&self) -> facetra_api::ListQuery {
        facetra_api::ListQuery {
            cursor: self.cursor.clone(),
            limit: Some(self.limit),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up the local studio and its owner account.
    Init(init::Cmd),
    /// Work on a facetra-server: check an API token and save it with the server's address.
    Login(login::Login),
    /// Forget the saved login; commands work on the local studio again.
    Logout(login::Logout),
    /// Show the account this command line acts as (or change your name).
    Whoami(whoami::Cmd),
    /// List the credit packs on sale.
    Packs(packs::Cmd),
    /// Show your credit balance (and, with --history, the ledger).
    Credits(credits::Cmd),
    /// Buy a credit pack: prints a payment link and waits until it is paid.
    Buy(buy::Cmd),
    /// Render sketches (files, folders or uploads; one job each) and save the images.
    Render(render::Cmd),
    /// List render jobs, show one (with --wait, finish it), or cancel one.
    Jobs(jobs::Cmd),
    /// List your renders (all, selected, or one job's).
    Renders(renders::Cmd),
    /// Select a render.
    Select(renders::Select),
    /// Unselect a render.
    Unselect(renders::Select),
    /// Delete a render and its image (asks first).
    Delete(renders::Delete),
    /// Save a render's image (to a folder, a file or standard output), or every selected one.
    Download(download::Cmd),
    /// Show a render in the system's image viewer (without a display: print its path).
    Open(download::Open),
    /// A render's bill of materials.
    #[command(subcommand)]
    Bom(bom::Cmd),
    /// Named, ordered collections of your renders.
    #[command(subcommand)]
    Portfolio(portfolio::Cmd),
    /// Upload a sketch or a reference image.
    Upload(upload::Cmd),
    /// Show, give or withdraw your consents (analytics, marketing).
    Consent(consent::Cmd),
    /// API tokens that act for you over the HTTP API.
    #[command(subcommand)]
    Tokens(tokens::Cmd),
    /// Your privacy rights: ask for access, correction, erasure or a consent withdrawal, raise
    /// a grievance, and follow your requests.
    #[command(subcommand)]
    Privacy(privacy::Cmd),
    /// Write to Facetra (support, feedback, a grievance) and read the answers.
    #[command(subcommand)]
    Messages(messages::Cmd),
    /// Show or change settings (list, get, set).
    #[command(subcommand)]
    Config(config::Cmd),
    /// Print a shell completion script.
    Completions(completions::Cmd),
}
