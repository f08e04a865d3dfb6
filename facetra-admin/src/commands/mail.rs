//! `facetra-admin mail outbox|retry`.

use std::process::ExitCode;

use facetra_core::paging::PageRequest;

use crate::context::{print_json, table, Ctx};

/// The mail outbox.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List messages, newest first.
    Outbox {
        /// Only messages that failed for good, with the reason.
        #[arg(long)]
        failed: bool,
        /// At most this many (1–100).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Queue a failed message again; asks first unless --yes; audited.
    Retry {
        /// The message id (msg_…).
        id: String,
    },
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let mail = ctx.facetra.mail();
        match self {
            Cmd::Outbox {
                failed,
                limit,
                cursor,
            } => {
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let page = mail.outbox(&ctx.actor().await?, *failed, &page).await?;
                let next = page.next.as_ref().map(|c| c.encode());
                if ctx.global.json {
                    let items: Vec<_> = page
                        .items
                        .iter()
                        .map(|m| {
                            serde_json::json!({
                                "id": m.id, "template": m.template, "to": m.to, "status": m.status,
                                "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
                                "last_error": m.last_error, "created_at": m.created_at, "sent_at": m.sent_at,
                            })
                        })
                        .collect();
                    print_json(&serde_json::json!({ "items": items, "next_cursor": next }))?;
                } else {
                    let mut t =
                        table(&["id", "template", "to", "status", "attempts", "last error"]);
                    for m in &page.items {
                        t.add_row(vec![
                            m.id.to_string(),
                            m.template.clone(),
                            m.to.clone(),
                            m.status.as_str().to_owned(),
                            m.attempts.to_string(),
                            m.last_error.clone().unwrap_or_default(),
                        ]);
                    }
                    println!("{t}");
                    if let Some(next) = next {
                        println!("more: --cursor {next}");
                    }
                }
            }
            Cmd::Retry { id } => {
                let actor = ctx.actor().await?;
                if !ctx.confirm(&format!("Queue message {id} again?"))? {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                mail.retry(&actor, id).await?;
                println!("queued {id} again; the server's sender delivers it on its next pass");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
