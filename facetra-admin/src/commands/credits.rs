//! `facetra-admin credits grant|ledger|verify`.

use std::process::ExitCode;

use facetra_core::credits::Appended;
use facetra_core::paging::PageRequest;

use crate::context::{print_json, table, Ctx};

/// Credit ledgers.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Grant credits to an account; needs a reason; asks first unless --yes; audited.
    Grant {
        /// A user id (usr_…) or an email address.
        user: String,
        /// How many credits (positive).
        amount: i64,
        /// Why (kept in the ledger entry).
        #[arg(long)]
        reason: String,
        /// Makes a repeated grant harmless: the same key grants once.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Show an account's ledger, newest first.
    Ledger {
        /// A user id (usr_…) or an email address.
        user: String,
        /// At most this many (1–100).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Replay every ledger; exits 1 if any balance differs from the sum of its entries or
    /// ever went below zero.
    Verify,
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let credits = ctx.facetra.credits();
        match self {
            Cmd::Grant {
                user,
                amount,
                reason,
                idempotency_key,
            } => {
                let actor = ctx.actor().await?;
                let target = ctx.facetra.accounts().find_user(&actor, user).await?;
                // The newest ledger entry carries the balance (staff read it by role).
                let newest = credits
                    .ledger(
                        &actor,
                        target.id.as_str(),
                        &PageRequest::parse(None, Some(1))?,
                    )
                    .await?;
                let balance = newest.items.first().map_or(0, |e| e.balance_after);
                let question = format!(
                    "Grant {} to {} (balance now {})?",
                    facetra_cli::output::count(*amount, "credit"),
                    target.email.as_str(),
                    balance
                );
                if !ctx.confirm(&question)? {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                let appended = credits
                    .grant(
                        &actor,
                        target.id.as_str(),
                        *amount,
                        reason,
                        idempotency_key.as_deref(),
                    )
                    .await?;
                let replayed = matches!(appended, Appended::Replayed(_));
                let e = appended.entry();
                if ctx.global.json {
                    print_json(&serde_json::json!({ "entry": e, "replayed": replayed }))?;
                } else if replayed {
                    println!(
                        "already granted under that key ({}); balance {}",
                        e.id, e.balance_after
                    );
                } else {
                    println!(
                        "granted {} {} ({}); balance {}",
                        e.amount,
                        if e.amount == 1 { "credit" } else { "credits" },
                        e.id,
                        e.balance_after
                    );
                }
            }
            Cmd::Ledger {
                user,
                limit,
                cursor,
            } => {
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let page = credits.ledger(&ctx.actor().await?, user, &page).await?;
                let next = page.next.as_ref().map(|c| c.encode());
                if ctx.global.json {
                    print_json(&serde_json::json!({ "items": page.items, "next_cursor": next }))?;
                } else {
                    let mut t = table(&[
                        "seq",
                        "when",
                        "kind",
                        "amount",
                        "balance",
                        "reason",
                        "reference",
                    ]);
                    for e in &page.items {
                        t.add_row(vec![
                            e.seq.to_string(),
                            crate::context::when(&e.created_at),
                            e.kind.as_str().to_owned(),
                            format!("{:+}", e.amount),
                            e.balance_after.to_string(),
                            e.reason.clone(),
                            e.reference.clone().unwrap_or_default(),
                        ]);
                    }
                    println!("{t}");
                    if let Some(next) = next {
                        println!("more: --cursor {next}");
                    }
                }
            }
            Cmd::Verify => {
                let report = credits.verify(&ctx.actor().await?).await?;
                if ctx.global.json {
                    print_json(&report)?;
                } else if report.problems.is_empty() {
                    println!(
                        "ledgers consistent: {} accounts, {} entries",
                        report.accounts, report.entries
                    );
                } else {
                    for p in &report.problems {
                        eprintln!(
                            "facetra-admin: {} entry {}: {}",
                            p.user_id, p.seq, p.problem
                        );
                    }
                }
                if !report.problems.is_empty() {
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
