//! The command-line definition (clap derive); man pages and completions come from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    anonymise, audit, bootstrap, breach, completions, credits, datamap, dsr, mail, messages,
    onboarding, retention, users,
};

/// Operate a Facetra deployment: users, roles, the audit log. Opens the database the server
/// uses (FACETRA_DATABASE_URL / FACETRA_DATA_DIR) and never creates one.
#[derive(Debug, Parser)]
#[command(name = "facetra-admin", version, about, long_about = None, after_help = facetra_core::error::EXIT_CODES_HELP)]
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
    /// Who is acting (FACETRA_OPERATOR): the email or id of a staff account (support, dpo or
    /// admin). Every command but `bootstrap` and `completions` needs it; what it may do is
    /// decided by the roles the account holds.
    #[arg(long, global = true, value_name = "EMAIL")]
    pub operator: Option<String>,
    /// Print data as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// TOML configuration file (default: <config dir>/facetra.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded database (FACETRA_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make the first admin of a new deployment (only while none exists).
    Bootstrap(bootstrap::Cmd),
    /// List, show and change user accounts.
    #[command(subcommand)]
    Users(users::Cmd),
    /// Read and verify the audit log.
    #[command(subcommand)]
    Audit(audit::Cmd),
    /// Grant credits, read and verify the ledgers.
    #[command(subcommand)]
    Credits(credits::Cmd),
    /// The record of processing activities: what personal data is held, where, why, how long.
    Datamap(datamap::Cmd),
    /// The mail outbox: list, and retry failed messages.
    #[command(subcommand)]
    Mail(mail::Cmd),
    /// Anonymise logs past their retention.
    #[command(subcommand)]
    Anonymise(anonymise::Cmd),
    /// The waitlist: list entries and approve them (an invitation).
    #[command(subcommand)]
    Waitlist(onboarding::WaitlistCmd),
    /// Demo bookings.
    #[command(subcommand)]
    Demos(onboarding::DemosCmd),
    /// Privacy requests: open, list, verify, extend, reject, close, erase, replay.
    #[command(subcommand)]
    Dsr(dsr::Cmd),
    /// The retention policy: plan what is due, apply it.
    #[command(subcommand)]
    Retention(retention::Cmd),
    /// Personal-data breaches: record them, their deadlines, and tell the people affected.
    #[command(subcommand)]
    Breach(breach::Cmd),
    /// Users' messages: list, read and answer them.
    #[command(subcommand)]
    Messages(messages::Cmd),
    /// Print a shell completion script.
    Completions(completions::Cmd),
}
