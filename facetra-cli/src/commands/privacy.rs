//! `facetra privacy request|requests`: the rights the privacy policy gives you (§6).

use facetra_api::{ListQuery, PrivacyRequest, PrivacyRequestBody};
use facetra_core::privacy::requests::RequestType;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

fn parse_type(s: &str) -> Result<RequestType, String> {
    RequestType::parse("type", s).map_err(|e| e.to_string())
}

/// Privacy requests.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Ask for something the privacy policy promises: `access` (a copy of your data),
    /// `correction`, `erasure` (your account and data), `withdraw_consent` (analytics and
    /// marketing off at once) or `grievance`. It is answered within 30 days; you are emailed
    /// when it is received and when it is done.
    Request {
        /// access, correction, erasure, withdraw_consent or grievance.
        #[arg(value_parser = parse_type, value_name = "TYPE")]
        kind: RequestType,
        /// What you ask for, in your words (at most 5,000 characters).
        #[arg(long, short = 'm')]
        message: Option<String>,
    },
    /// Save a copy of all your data as a ZIP (made by an access request when there is no
    /// recent one): a JSON file per kind, your images, an index.html to read offline and a
    /// manifest with the SHA-256 of every file. A made export is kept 7 days.
    Export {
        /// Where to save it (an existing file is kept unless --force).
        #[arg(long, value_name = "FILE", default_value = "facetra-export.zip")]
        out: std::path::PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Ask for your account and data to be erased (an erasure request: the Data Protection
    /// Officer carries it out within 30 days, and you are emailed when it is done). Payment
    /// records stay under a pseudonym for the 7 years tax law asks; credits left are forfeited.
    DeleteAccount {
        /// Do not ask first.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Why, in your words (optional).
        #[arg(long, short = 'm')]
        message: Option<String>,
    },
    /// The person who may exercise your rights if you die or cannot act (DPDP Act s.14).
    #[command(subcommand)]
    Nominee(NomineeCmd),
    /// Your requests, newest first, with their due dates.
    Requests {
        /// At most this many (1–100).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor (printed by the previous page).
        #[arg(long)]
        cursor: Option<String>,
    },
}

/// Your nominee.
#[derive(Debug, clap::Subcommand)]
pub enum NomineeCmd {
    /// Name your nominee (replacing any earlier one).
    Set {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// Show your nominee.
    Show,
    /// Remove your nominee.
    Clear,
}

fn row(r: &PrivacyRequest) -> Vec<String> {
    vec![
        r.id.clone(),
        r.kind.to_string(),
        r.status.to_string(),
        output::day(&r.received_at),
        output::day(&r.due_at),
        r.outcome
            .clone()
            .or_else(|| r.rejection.map(|d| format!("rejected: {}", d.describe())))
            .unwrap_or_default(),
    ]
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        match self {
            Cmd::Request { kind, message } => {
                let result = client
                    .privacy_request(&PrivacyRequestBody {
                        kind: *kind,
                        message: message.clone(),
                    })
                    .await;
                client.close().await;
                let r = result?;
                if global.json {
                    return output::json(&r);
                }
                let mut t = output::table(&["id", "type", "status", "received", "due", "outcome"]);
                t.add_row(row(&r));
                println!("{t}");
                eprintln!(
                    "facetra: request {} received; it will be answered by {} (follow it with `facetra privacy requests`)",
                    r.id,
                    output::day(&r.due_at)
                );
                Ok(())
            }
            Cmd::Export { out, force } => {
                let mut options = tokio::fs::OpenOptions::new();
                options.write(true);
                if *force {
                    options.create(true).truncate(true);
                } else {
                    options.create_new(true);
                }
                let opened = options.open(out).await.map_err(|e| {
                    let what = if e.kind() == std::io::ErrorKind::AlreadyExists {
                        "exists already; choose another --out or pass --force".to_owned()
                    } else {
                        format!("cannot be written ({})", e.kind())
                    };
                    facetra_core::Error::invalid("out", format!("{}: {what}", out.display()))
                });
                let mut file = match opened {
                    Ok(f) => f,
                    Err(e) => {
                        client.close().await;
                        return Err(e.into());
                    }
                };
                let result = client.privacy_export(&mut file).await;
                client.close().await;
                let status = match result {
                    Ok(s) => s,
                    Err(e) => {
                        drop(file);
                        let _ = tokio::fs::remove_file(out).await;
                        return Err(e);
                    }
                };
                file.sync_all().await?;
                if global.json {
                    return output::json(&status);
                }
                println!(
                    "saved your data to {} ({} bytes); open index.html inside it to read it",
                    out.display(),
                    status.size.unwrap_or_default()
                );
                Ok(())
            }
            Cmd::DeleteAccount { yes, message } => {
                use std::io::IsTerminal;
                if !yes {
                    let asked = if std::io::stdin().is_terminal() {
                        dialoguer::Confirm::new()
                            .with_prompt("Ask for your account and all its data to be erased? This cannot be undone once carried out.")
                            .default(false)
                            .interact()
                            .unwrap_or(false)
                    } else {
                        client.close().await;
                        return Err(facetra_core::Error::invalid(
                            "yes",
                            "there is no terminal to confirm on; pass --yes to ask for the erasure",
                        )
                        .into());
                    };
                    if !asked {
                        client.close().await;
                        println!("nothing was asked for");
                        return Ok(());
                    }
                }
                let result = client
                    .privacy_request(&PrivacyRequestBody {
                        kind: RequestType::Erasure,
                        message: message.clone(),
                    })
                    .await;
                client.close().await;
                let r = result?;
                if global.json {
                    return output::json(&r);
                }
                println!(
                    "erasure requested ({}); it will be carried out by {} and you will be emailed when it is done",
                    r.id,
                    output::day(&r.due_at)
                );
                Ok(())
            }
            Cmd::Nominee(cmd) => {
                let result = match cmd {
                    NomineeCmd::Set { name, email } => {
                        client.set_nominee(name, email).await.map(Some)
                    }
                    NomineeCmd::Show => client.nominee().await,
                    NomineeCmd::Clear => client.clear_nominee().await.map(|_| None),
                };
                client.close().await;
                let nominee = result?;
                if global.json {
                    return output::json(&nominee);
                }
                match nominee {
                    Some(n) => output::fields(&[
                        ("nominee", n.name),
                        ("email", n.email),
                        ("named", output::day(&n.created_at)),
                    ]),
                    None => println!("no nominee is named"),
                }
                Ok(())
            }
            Cmd::Requests { limit, cursor } => {
                let result = client
                    .privacy_requests(&ListQuery {
                        cursor: cursor.clone(),
                        limit: Some(*limit),
                    })
                    .await;
                client.close().await;
                let list = result?;
                if global.json {
                    return output::json(&list);
                }
                let mut t = output::table(&["id", "type", "status", "received", "due", "outcome"]);
                for r in &list.items {
                    t.add_row(row(r));
                }
                println!("{t}");
                output::more(list.next_cursor.as_deref(), "facetra privacy requests");
                Ok(())
            }
        }
    }
}
