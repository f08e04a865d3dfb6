//! `facetra-admin breach open|list|report|notify`: personal-data breaches, their deadlines
//! and the people told.

use std::process::ExitCode;

use facetra_core::paging::PageRequest;
use facetra_core::privacy::breach::{Authority, Breach, Deadline, Recipients};

use crate::context::{print_json, table, Ctx};

fn parse_instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| crate::context::parse_date(s))
        .map_err(|_| format!("{s:?}: give a time as 2026-12-01T09:30:00Z (or a date, YYYY-MM-DD)"))
}

fn parse_authority(s: &str) -> Result<Authority, String> {
    Authority::parse(s).map_err(|e| e.to_string())
}

/// Breaches.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Record a breach: its deadlines (the Data Protection Board's 72 hours, CERT-In's 6
    /// hours from detection) are shown by `breach list` until met.
    Open {
        /// When it was detected (RFC 3339, or YYYY-MM-DD).
        #[arg(long, value_parser = parse_instant)]
        detected_at: chrono::DateTime<chrono::Utc>,
        /// What happened and what data it touched (no one's personal data).
        #[arg(long)]
        summary: String,
    },
    /// Breaches, newest first, with their deadlines.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Record that the Board or CERT-In was told, now.
    Report {
        id: String,
        /// board or cert-in.
        #[arg(long, value_parser = parse_authority)]
        to: Authority,
    },
    /// Email the people affected through the outbox (once each per breach) and record who was
    /// told when.
    Notify {
        id: String,
        /// A file with one account (email or id) per line.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        users: Option<std::path::PathBuf>,
        /// Every active account.
        #[arg(long)]
        all: bool,
        /// A file whose text replaces the notice's paragraph on what happened (default: the
        /// breach's summary).
        #[arg(long, value_name = "FILE")]
        template: Option<std::path::PathBuf>,
        /// Count who would be emailed; send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn word(d: Deadline, due: chrono::DateTime<chrono::Utc>) -> String {
    match d {
        Deadline::Met => "met".into(),
        Deadline::Open => format!("due {}", crate::context::when(&due)),
        Deadline::Missed => format!("MISSED ({})", crate::context::when(&due)),
    }
}

fn show(ctx: &Ctx, breaches: &[Breach]) -> anyhow::Result<()> {
    if ctx.global.json {
        return print_json(&breaches);
    }
    let now = ctx.facetra.now();
    let mut t = table(&[
        "id",
        "detected",
        "Board (72 h)",
        "CERT-In (6 h)",
        "people told",
        "summary",
    ]);
    for b in breaches {
        let (board, cert) = b.deadlines(now);
        t.add_row(vec![
            b.id.to_string(),
            crate::context::when(&b.detected_at),
            word(board, b.board_due),
            word(cert, b.cert_in_due),
            b.notified.to_string(),
            b.summary.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let actor = ctx.actor().await?;
        let privacy = ctx.facetra.privacy();
        match self {
            Cmd::Open {
                detected_at,
                summary,
            } => {
                let b = privacy.open_breach(&actor, *detected_at, summary).await?;
                show(ctx, std::slice::from_ref(&b))?;
                eprintln!(
                    "facetra-admin: tell CERT-In by {} and the Board by {}; then `facetra-admin breach report {} --to cert-in|board`",
                    crate::context::when(&b.cert_in_due),
                    crate::context::when(&b.board_due),
                    b.id
                );
            }
            Cmd::List { limit, cursor } => {
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let found = privacy.breaches(&actor, &page).await?;
                show(ctx, &found.items)?;
                if let (Some(next), false) = (found.next, ctx.global.json) {
                    println!("more: --cursor {}", next.encode());
                }
            }
            Cmd::Report { id, to } => {
                let b = privacy.report_breach(&actor, id, *to).await?;
                show(ctx, std::slice::from_ref(&b))?;
            }
            Cmd::Notify {
                id,
                users,
                all: _,
                template,
                dry_run,
            } => {
                let read = |path: &std::path::Path| {
                    std::fs::read_to_string(path).map_err(|e| {
                        facetra_core::Error::invalid(
                            "file",
                            format!("{} cannot be read ({})", path.display(), e.kind()),
                        )
                    })
                };
                let recipients = match users {
                    Some(path) => Recipients::Listed(
                        read(path)?
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .map(str::to_owned)
                            .collect(),
                    ),
                    None => Recipients::All,
                };
                let message = template.as_deref().map(read).transpose()?;
                if !dry_run {
                    let plan = privacy
                        .notify_breach(&actor, id, &recipients, message.as_deref(), true)
                        .await?;
                    if plan.notified > 0
                        && !ctx.confirm(&format!(
                            "Email {} {} about {id}?",
                            plan.notified,
                            if plan.notified == 1 {
                                "person"
                            } else {
                                "people"
                            }
                        ))?
                    {
                        eprintln!("facetra-admin: nothing sent");
                        return Ok(ExitCode::from(1));
                    }
                }
                let report = privacy
                    .notify_breach(&actor, id, &recipients, message.as_deref(), *dry_run)
                    .await?;
                if ctx.global.json {
                    print_json(&report)?;
                } else {
                    let verb = if *dry_run { "would email" } else { "emailed" };
                    println!(
                        "{verb} {}, told before {}, not active accounts {}",
                        report.notified,
                        report.already,
                        report.skipped.len()
                    );
                    for s in &report.skipped {
                        println!("skipped: {s}");
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
