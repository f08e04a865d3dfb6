//! `facetra messages list|send|show|reply`: write to Facetra and read the answers.

use facetra_api::{ListQuery, Message, NewMessage};
use facetra_core::messages::MessageKind;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

fn parse_kind(s: &str) -> Result<MessageKind, String> {
    MessageKind::parse("kind", s).map_err(|e| e.to_string())
}

/// Messages to Facetra and their answers.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Your threads, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Write to Facetra: `support`, `feedback` or `grievance` (a grievance is answered by the
    /// Data Protection Officer within 30 days).
    Send {
        /// support, feedback or grievance.
        #[arg(long, value_parser = parse_kind, default_value = "support")]
        kind: MessageKind,
        #[arg(long)]
        subject: String,
        /// What you want to say (at most 10,000 characters).
        #[arg(long)]
        body: String,
    },
    /// One thread with its answers.
    Show { id: String },
    /// Write more in a thread.
    Reply {
        id: String,
        #[arg(long)]
        body: String,
    },
}

fn show(m: &Message) {
    output::fields(&[
        ("id", m.id.clone()),
        ("kind", m.kind.to_string()),
        ("subject", m.subject.clone()),
        ("status", m.status.to_string()),
        ("sent", output::when(&m.created_at)),
    ]);
    println!("you: {}", m.body);
    for r in &m.replies {
        let who = match r.from {
            facetra_core::messages::Author::User => "you",
            facetra_core::messages::Author::Staff => "Facetra",
        };
        println!("{who} ({}): {}", output::when(&r.created_at), r.body);
    }
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = match self {
            Cmd::List { limit, cursor } => {
                let list = client
                    .messages(&ListQuery {
                        cursor: cursor.clone(),
                        limit: Some(*limit),
                    })
                    .await;
                client.close().await;
                let list = list?;
                if global.json {
                    return output::json(&list);
                }
                let mut t = output::table(&["id", "kind", "subject", "status", "sent", "answers"]);
                for m in &list.items {
                    t.add_row(vec![
                        m.id.clone(),
                        m.kind.to_string(),
                        m.subject.clone(),
                        m.status.to_string(),
                        output::day(&m.created_at),
                        m.replies
                            .iter()
                            .filter(|r| r.from == facetra_core::messages::Author::Staff)
                            .count()
                            .to_string(),
                    ]);
                }
                println!("{t}");
                output::more(list.next_cursor.as_deref(), "facetra messages list");
                return Ok(());
            }
            Cmd::Send {
                kind,
                subject,
                body,
            } => {
                client
                    .send_message(&NewMessage {
                        kind: *kind,
                        subject: subject.clone(),
                        body: body.clone(),
                    })
                    .await
            }
            Cmd::Show { id } => client.message(id).await,
            Cmd::Reply { id, body } => client.reply_message(id, body).await,
        };
        client.close().await;
        let m = result?;
        if global.json {
            return output::json(&m);
        }
        show(&m);
        if matches!(
            self,
            Cmd::Send {
                kind: MessageKind::Grievance,
                ..
            }
        ) {
            eprintln!("facetra: your grievance is recorded; the Data Protection Officer answers it within 30 days");
        }
        Ok(())
    }
}
