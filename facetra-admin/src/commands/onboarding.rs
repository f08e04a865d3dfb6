//! `facetra-admin waitlist list|approve` and `facetra-admin demos list`.

use std::process::ExitCode;

use facetra_api::{List, Signup};
use facetra_core::onboarding::{SignupKind, SignupStatus};
use facetra_core::paging::PageRequest;

use crate::context::{print_json, table, Ctx};

/// Which entries, and how many.
#[derive(Debug, clap::Args)]
pub struct Listing {
    /// Only entries with this status: pending, approved or joined.
    #[arg(long, value_parser = parse_status)]
    status: Option<SignupStatus>,
    /// At most this many (1–100).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Continue after this cursor (printed by the previous page).
    #[arg(long)]
    cursor: Option<String>,
}

fn parse_status(s: &str) -> Result<SignupStatus, String> {
    SignupStatus::parse(s).map_err(|e| e.to_string())
}

/// The waitlist.
#[derive(Debug, clap::Subcommand)]
pub enum WaitlistCmd {
    /// List waitlist entries, newest first.
    List(Listing),
    /// Approve an entry: an invitation for its email, and the "studio ready" email; audited.
    Approve {
        /// The entry's id (sgn_…).
        id: String,
    },
}

/// Demo bookings.
#[derive(Debug, clap::Subcommand)]
pub enum DemosCmd {
    /// List demo bookings, newest first.
    List(Listing),
}

async fn list(ctx: &Ctx, kind: SignupKind, l: &Listing) -> anyhow::Result<ExitCode> {
    let page = PageRequest::parse(l.cursor.as_deref(), Some(l.limit))?;
    let found = ctx
        .facetra
        .onboarding()
        .list(&ctx.actor().await?, kind, l.status, &page)
        .await?;
    let list: List<Signup> = List::from_page(found);
    if ctx.global.json {
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&["id", "name", "email", "company", "status", "sent"]);
    for s in &list.items {
        t.add_row(vec![
            s.id.clone(),
            s.name.clone(),
            s.email.clone(),
            s.company.clone().unwrap_or_default(),
            s.status.as_str().to_owned(),
            crate::context::when(&s.created_at),
        ]);
    }
    println!("{t}");
    if let Some(next) = list.next_cursor {
        println!("more: --cursor {next}");
    }
    Ok(ExitCode::SUCCESS)
}

impl WaitlistCmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        match self {
            WaitlistCmd::List(l) => list(ctx, SignupKind::Waitlist, l).await,
            WaitlistCmd::Approve { id } => {
                let entry: Signup = ctx
                    .facetra
                    .onboarding()
                    .approve(&ctx.actor().await?, id)
                    .await?
                    .into();
                if ctx.global.json {
                    print_json(&entry)?;
                } else {
                    println!(
                        "{} is {}: {} may now sign in with Google",
                        entry.id,
                        entry.status.as_str(),
                        entry.email
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

impl DemosCmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        match self {
            DemosCmd::List(l) => list(ctx, SignupKind::Demo, l).await,
        }
    }
}
