//! `facetra-admin messages list|show|reply`: answer users' messages (support and feedback
//! need `support`, grievances `dpo`; core's role table decides).

use std::process::ExitCode;

use facetra_api::{List, StaffMessage};
use facetra_core::messages::{MessageKind, ThreadFilter, ThreadStatus};
use facetra_core::paging::PageRequest;

use crate::context::{print_json, table, Ctx};

fn parse_kind(s: &str) -> Result<MessageKind, String> {
    MessageKind::parse("kind", s).map_err(|e| e.to_string())
}

/// Users' messages.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Threads, newest first.
    List {
        /// Only threads waiting for an answer.
        #[arg(long)]
        open: bool,
        /// support, feedback or grievance.
        #[arg(long, value_parser = parse_kind)]
        kind: Option<MessageKind>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One thread, whole.
    Show { id: String },
    /// Answer a thread; the user is emailed that an answer is waiting (not its text).
    Reply {
        id: String,
        #[arg(long)]
        body: String,
    },
}

fn show(ctx: &Ctx, m: StaffMessage) -> anyhow::Result<ExitCode> {
    if ctx.global.json {
        print_json(&m)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&["field", "value"]);
    for (k, v) in [
        ("id", m.message.id.clone()),
        ("kind", m.message.kind.to_string()),
        ("status", m.message.status.to_string()),
        ("account", m.user_id.clone()),
        ("privacy request", m.request_id.clone().unwrap_or_default()),
        ("subject", m.message.subject.clone()),
        ("body", m.message.body.clone()),
    ] {
        t.add_row(vec![k.to_owned(), v]);
    }
    for r in &m.message.replies {
        t.add_row(vec![
            format!("{} {}", r.from, crate::context::when(&r.created_at)),
            r.body.clone(),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let actor = ctx.actor().await?;
        let messages = ctx.facetra.messages();
        match self {
            Cmd::List {
                open,
                kind,
                limit,
                cursor,
            } => {
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let filter = ThreadFilter {
                    user: None,
                    kind: *kind,
                    status: open.then_some(ThreadStatus::Open),
                };
                let list: List<StaffMessage> =
                    List::from_page(messages.all(&actor, &filter, &page).await?);
                if ctx.global.json {
                    print_json(&list)?;
                    return Ok(ExitCode::SUCCESS);
                }
                let mut t = table(&["id", "kind", "status", "account", "subject", "sent"]);
                for m in &list.items {
                    t.add_row(vec![
                        m.message.id.clone(),
                        m.message.kind.to_string(),
                        m.message.status.to_string(),
                        m.user_id.clone(),
                        m.message.subject.clone(),
                        crate::context::when(&m.message.created_at),
                    ]);
                }
                println!("{t}");
                if let Some(next) = list.next_cursor {
                    println!("more: --cursor {next}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Show { id } => show(ctx, messages.show(&actor, id).await?.into()),
            Cmd::Reply { id, body } => show(ctx, messages.answer(&actor, id, body).await?.into()),
        }
    }
}
