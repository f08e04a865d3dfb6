//! `facetra-admin dsr`: the DPO's privacy requests, from intake to completion.

use std::process::ExitCode;

use facetra_api::{List, StaffPrivacyRequest};
use facetra_core::paging::PageRequest;
use facetra_core::privacy::dsr::RequestQuery;
use facetra_core::privacy::erasure::{EraseOptions, ErasureReport, ErasureState};
use facetra_core::privacy::requests::{Denial, RequestStatus, RequestType, Urgency};
use serde_json::json;

use crate::context::{parse_date, print_json, table, Ctx};

fn parse_type(s: &str) -> Result<RequestType, String> {
    RequestType::parse("type", s).map_err(|e| e.to_string())
}

fn parse_status(s: &str) -> Result<RequestStatus, String> {
    RequestStatus::parse("status", s).map_err(|e| e.to_string())
}

fn parse_denial(s: &str) -> Result<Denial, String> {
    Denial::parse("reason", s).map_err(|e| e.to_string())
}

/// Privacy requests (data subjects' requests).
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Record a request that arrived by email; the person is told it was received, with its
    /// due date (30 days), and that a code will verify it.
    Open {
        /// The address the request came from.
        #[arg(long)]
        email: String,
        /// access, correction, erasure, withdraw_consent or grievance.
        #[arg(long = "type", value_parser = parse_type)]
        kind: RequestType,
        /// What the person asked for, in their words.
        #[arg(long)]
        message: Option<String>,
        /// The request is the nominee's (DPDP Act s.14) for this account (email or id): --email
        /// must be the nominee the user named; verify it by override once proof is seen.
        #[arg(long, value_name = "ACCOUNT")]
        on_behalf_of: Option<String>,
    },
    /// The queue, newest first; overdue and due-soon requests stand out.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<RequestStatus>,
        #[arg(long = "type", value_parser = parse_type)]
        kind: Option<RequestType>,
        /// Only open requests due within N days.
        #[arg(long, value_name = "N")]
        due_within: Option<i64>,
        /// Only open requests past their due date.
        #[arg(long)]
        overdue: bool,
        /// Judge due dates as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
        /// At most this many (1–100).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor (printed by the previous page).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One request, whole.
    Show {
        /// The request's id (dsr_…).
        id: String,
    },
    /// Verify the person: mail a one-time code (valid 10 minutes), check the code they give
    /// (three wrong codes void the request), or override with a reason.
    Verify {
        id: String,
        /// Mail a new code to the request's address.
        #[arg(long, conflicts_with_all = ["code", "override_reason"])]
        send_code: bool,
        /// The code the person gave.
        #[arg(long, conflicts_with = "override_reason")]
        code: Option<String>,
        /// Verify without a code, for this reason (an identity checked another way, a
        /// nominee's request).
        #[arg(long = "override", value_name = "REASON")]
        override_reason: Option<String>,
    },
    /// Move the due date once, by up to 60 days, with the reason.
    Extend {
        id: String,
        #[arg(long, default_value_t = 30)]
        days: i64,
        #[arg(long)]
        reason: String,
    },
    /// Turn a request down with a reason from the fixed list; the person is told why and how
    /// to complain.
    Reject {
        id: String,
        /// insufficient_verification, no_match, not_covered, suspected_fraud,
        /// too_many_requests or other.
        #[arg(long, value_parser = parse_denial)]
        reason: Denial,
        /// A word for the person (needed with `other`).
        #[arg(long)]
        note: Option<String>,
    },
    /// Answer a verified correction request: set the account's name (audited by field name
    /// and keyed hash), complete the request and tell the person.
    Correct {
        id: String,
        /// The corrected name.
        #[arg(long)]
        name: String,
    },
    /// Close a verified request as answered, saying what was done; the person is told.
    Close {
        id: String,
        #[arg(long)]
        outcome: String,
    },
    /// Write the export of a verified access request to a ZIP file: a JSON file per kind of
    /// data, the person's images, `index.html` and `manifest.json` (SHA-256 of every file).
    /// Hand it to the person, then `dsr close`.
    Export {
        id: String,
        /// The ZIP to write (an existing file is kept unless --force).
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Carry out a verified erasure request: the report per kind (removed, anonymised, kept
    /// and why) and what remains at each processor. Resumable; a second run changes nothing.
    Erase {
        id: String,
        /// Print the report and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The account's remaining credits are forfeited (needed when it holds any).
        #[arg(long)]
        forfeit_credits: bool,
    },
    /// After restoring a backup: erase again every account on the list of erased identities.
    Replay {
        /// List who would be erased again; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn urgency_mark(u: Urgency) -> &'static str {
    match u {
        Urgency::Overdue => "OVERDUE",
        Urgency::DueSoon => "due soon",
        Urgency::OnTime => "",
        Urgency::Closed => "",
    }
}

fn show_one(ctx: &Ctx, r: StaffPrivacyRequest) -> anyhow::Result<ExitCode> {
    if ctx.global.json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&["field", "value"]);
    let date = |d: chrono::DateTime<chrono::Utc>| crate::context::when(&d);
    let rows: Vec<(&str, String)> = vec![
        ("id", r.id.clone()),
        ("type", r.kind.to_string()),
        ("status", r.status.to_string()),
        ("channel", r.channel.clone()),
        (
            "email",
            r.email.clone().unwrap_or_else(|| "(erased)".into()),
        ),
        (
            "account",
            r.user_id.clone().unwrap_or_else(|| "(none)".into()),
        ),
        ("received", date(r.received_at)),
        (
            "due",
            format!(
                "{} {}",
                crate::context::day(&r.due_at),
                urgency_mark(r.urgency)
            ),
        ),
        (
            "verified by",
            r.verified_by
                .map(|m| m.to_string())
                .unwrap_or_else(|| "not verified".into()),
        ),
        ("handler", r.handler.clone().unwrap_or_default()),
        ("extension", r.extension.clone().unwrap_or_default()),
        (
            "rejection",
            r.rejection
                .map(|d| format!("{d} {}", r.rejection_note.clone().unwrap_or_default()))
                .unwrap_or_default(),
        ),
        ("outcome", r.outcome.clone().unwrap_or_default()),
        ("message", r.message.clone().unwrap_or_default()),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_owned(), v]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

fn print_report(ctx: &Ctx, report: &ErasureReport) -> anyhow::Result<()> {
    if ctx.global.json {
        return print_json(report);
    }
    let mut t = table(&["kind", "removed", "anonymised", "kept", "why kept"]);
    for l in &report.kinds {
        t.add_row(vec![
            l.kind.clone(),
            l.removed.to_string(),
            l.anonymised.to_string(),
            l.kept.to_string(),
            l.why_kept.clone().unwrap_or_default(),
        ]);
    }
    for l in &report.shared_ips {
        t.add_row(vec![
            format!("{} of others with the person's IP", l.kind),
            "0".into(),
            l.anonymised.to_string(),
            "0".into(),
            String::new(),
        ]);
    }
    println!("{t}");
    let mut p = table(&["processor", "what remains to be done there"]);
    for l in &report.processors {
        p.add_row(vec![l.name.to_owned(), l.to_do.to_owned()]);
    }
    println!("{p}");
    if report.forfeited_credits > 0 {
        println!("credits forfeited: {}", report.forfeited_credits);
    }
    let (removed, anonymised, kept) = report.totals();
    let what = match report.state {
        ErasureState::Planned => "dry run, nothing changed: would remove",
        ErasureState::WaitingForNotice => {
            "erased; the completion notice is still on its way (run again to finish): removed"
        }
        ErasureState::Completed => "completed: removed",
    };
    println!(
        "{what} {removed}, anonymise{} {anonymised}, keep {kept}",
        if report.state == ErasureState::Planned {
            ""
        } else {
            "d"
        }
    );
    Ok(())
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let actor = ctx.actor().await?;
        let privacy = ctx.facetra.privacy();
        let today = ctx.facetra.now();
        match self {
            Cmd::Open {
                email,
                kind,
                message,
                on_behalf_of,
            } => {
                let r = match on_behalf_of {
                    Some(account) => {
                        privacy
                            .open_for_nominee(&actor, email, account, *kind, message.as_deref())
                            .await?
                    }
                    None => {
                        privacy
                            .open_request(&actor, email, *kind, message.as_deref())
                            .await?
                    }
                };
                let how = if r.nominee {
                    "--override REASON (after seeing proof of death or incapacity)"
                } else {
                    "--send-code"
                };
                eprintln!(
                    "facetra-admin: opened {} ({kind}), due {}; verify it with `facetra-admin dsr verify {} {how}`",
                    r.id,
                    crate::context::day(&r.due_at),
                    r.id
                );
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::List {
                status,
                kind,
                due_within,
                overdue,
                as_of,
                limit,
                cursor,
            } => {
                let day = as_of.unwrap_or(today);
                let query = RequestQuery {
                    status: *status,
                    kind: *kind,
                    due_within_days: *due_within,
                    overdue: *overdue,
                };
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let found = privacy.requests(&actor, &query, day, &page).await?;
                let list = List {
                    next_cursor: found.next.map(|c| c.encode()),
                    items: found
                        .items
                        .into_iter()
                        .map(|r| StaffPrivacyRequest::on(r, day))
                        .collect::<Vec<_>>(),
                };
                if ctx.global.json {
                    print_json(&list)?;
                    return Ok(ExitCode::SUCCESS);
                }
                let mut t = table(&["id", "type", "status", "received", "due", "", "verified"]);
                for r in &list.items {
                    t.add_row(vec![
                        r.id.clone(),
                        r.kind.to_string(),
                        r.status.to_string(),
                        crate::context::day(&r.received_at),
                        crate::context::day(&r.due_at),
                        urgency_mark(r.urgency).to_owned(),
                        r.verified_by
                            .map(|m| m.to_string())
                            .unwrap_or_else(|| "no".into()),
                    ]);
                }
                println!("{t}");
                if let Some(next) = list.next_cursor {
                    println!("more: --cursor {next}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Show { id } => show_one(
                ctx,
                StaffPrivacyRequest::on(privacy.request(&actor, id).await?, today),
            ),
            Cmd::Verify {
                id,
                send_code,
                code,
                override_reason,
            } => {
                let r = match (send_code, code, override_reason) {
                    (true, _, _) => {
                        let r = privacy.send_code(&actor, id).await?;
                        eprintln!(
                            "facetra-admin: a code valid 10 minutes was mailed to the request's address; ask the person for it and run `facetra-admin dsr verify {id} --code CODE`"
                        );
                        r
                    }
                    (false, Some(code), _) => privacy.verify_code(&actor, id, code).await?,
                    (false, None, Some(reason)) => {
                        if !ctx
                            .confirm(&format!("Verify {id} without a code, because {reason:?}?"))?
                        {
                            eprintln!("facetra-admin: nothing changed");
                            return Ok(ExitCode::from(1));
                        }
                        privacy.verify_override(&actor, id, reason).await?
                    }
                    (false, None, None) => {
                        return Err(facetra_core::Error::invalid(
                            "verify",
                            "say how: --send-code, --code CODE or --override REASON",
                        )
                        .into())
                    }
                };
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::Extend { id, days, reason } => {
                let r = privacy.extend(&actor, id, *days, reason).await?;
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::Reject { id, reason, note } => {
                if !ctx.confirm(&format!("Reject {id} ({reason}) and tell the person?"))? {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                let r = privacy.reject(&actor, id, *reason, note.as_deref()).await?;
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::Correct { id, name } => {
                let r = privacy.correct(&actor, id, name).await?;
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::Close { id, outcome } => {
                let r = privacy.close(&actor, id, outcome).await?;
                show_one(ctx, StaffPrivacyRequest::on(r, today))
            }
            Cmd::Export { id, out, force } => {
                let mut options = tokio::fs::OpenOptions::new();
                options.write(true);
                if *force {
                    options.create(true).truncate(true);
                } else {
                    options.create_new(true);
                }
                let file = options.open(out).await.map_err(|e| {
                    let what = if e.kind() == std::io::ErrorKind::AlreadyExists {
                        "exists already; choose another --out or pass --force".to_owned()
                    } else {
                        format!("cannot be written ({})", e.kind())
                    };
                    facetra_core::Error::invalid("out", format!("{}: {what}", out.display()))
                })?;
                let written = privacy.export_request(&actor, id, file).await;
                let (file, summary) = match written {
                    Ok(done) => done,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(out).await;
                        return Err(e.into());
                    }
                };
                file.sync_all().await?;
                if ctx.global.json {
                    print_json(&summary)?;
                    return Ok(ExitCode::SUCCESS);
                }
                let mut t = table(&["section", "records", "file"]);
                for s in &summary.sections {
                    t.add_row(vec![
                        s.kind.to_owned(),
                        s.records.to_string(),
                        s.file.clone(),
                    ]);
                }
                println!("{t}");
                let images = summary
                    .files
                    .iter()
                    .filter(|f| f.name.starts_with("files/"))
                    .count();
                println!(
                    "wrote {} ({} bytes, {images} {}); when it is handed over: `facetra-admin dsr close {id} --outcome \"Export sent\"`",
                    out.display(),
                    summary.bytes,
                    if images == 1 { "image" } else { "images" }
                );
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Erase {
                id,
                dry_run,
                forfeit_credits,
            } => {
                let options = EraseOptions {
                    dry_run: *dry_run,
                    forfeit_credits: *forfeit_credits,
                };
                if !dry_run {
                    let r = privacy.request(&actor, id).await?;
                    let whom = r
                        .email
                        .as_ref()
                        .map(|e| e.as_str().to_owned())
                        .unwrap_or_else(|| "the person".into());
                    if r.status != RequestStatus::Completed
                        && !ctx.confirm(&format!(
                            "Erase {whom} ({})? This cannot be undone.",
                            r.user_id.map(|u| u.to_string()).unwrap_or_default()
                        ))?
                    {
                        eprintln!("facetra-admin: nothing changed");
                        return Ok(ExitCode::from(1));
                    }
                }
                let quiet = ctx.global.json;
                let report = privacy
                    .erase(&actor, id, options, &|l| {
                        if !quiet {
                            eprintln!(
                                "facetra-admin: {}: removed {}, anonymised {}, kept {}",
                                l.kind, l.removed, l.anonymised, l.kept
                            );
                        }
                    })
                    .await?;
                print_report(ctx, &report)?;
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Replay { dry_run } => {
                if !dry_run
                    && !ctx
                        .confirm("Erase again every account on the list of erased identities?")?
                {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                let found = privacy.replay_erasures(&actor, *dry_run).await?;
                let ids: Vec<String> = found.iter().map(|u| u.to_string()).collect();
                if ctx.global.json {
                    print_json(&json!({ "dry_run": dry_run, "accounts": ids }))?;
                } else {
                    let verb = if *dry_run {
                        "would erase again"
                    } else {
                        "erased again"
                    };
                    println!(
                        "{verb}: {} {}",
                        ids.len(),
                        if ids.len() == 1 {
                            "account"
                        } else {
                            "accounts"
                        }
                    );
                    for id in ids {
                        println!("{id}");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
