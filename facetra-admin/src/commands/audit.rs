//! `facetra-admin audit list|verify`.

use std::process::ExitCode;

use crate::context::{print_json, table, Ctx};

/// The audit log.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List entries, oldest first.
    List {
        /// Continue after this entry (the cursor printed under the previous page: a sequence
        /// number).
        #[arg(
            long = "cursor",
            alias = "after",
            default_value_t = 0,
            value_name = "CURSOR"
        )]
        after: u64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Check the hash chain; exits 1 and names the first bad entry when it is broken.
    Verify,
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let audit = ctx.facetra.audit();
        match self {
            Cmd::List { after, limit } => {
                let entries = audit.list(&ctx.actor().await?, *after, *limit).await?;
                if ctx.global.json {
                    print_json(&entries)?;
                } else {
                    let mut t = table(&["seq", "at", "actor", "action", "target", "details"]);
                    for e in &entries {
                        t.add_row(vec![
                            e.seq.to_string(),
                            crate::context::when(&e.at),
                            e.actor.clone(),
                            e.action.clone(),
                            e.target.clone().unwrap_or_default(),
                            e.details.to_string(),
                        ]);
                    }
                    println!("{t}");
                    if entries.len() == *limit {
                        if let Some(last) = entries.last() {
                            println!("more: facetra-admin audit list --cursor {}", last.seq);
                        }
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Verify => {
                let v = audit.verify(&ctx.actor().await?).await?;
                if ctx.global.json {
                    print_json(&serde_json::json!({
                        "entries": v.entries,
                        "ok": v.first_break.is_none(),
                        "first_bad_seq": v.first_break.as_ref().map(|b| b.seq()),
                        "problem": v.first_break.as_ref().map(|b| b.to_string()),
                    }))?;
                }
                match &v.first_break {
                    None => {
                        if !ctx.global.json {
                            println!("audit log intact: {} entries, chain verified", v.entries);
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(b) => {
                        eprintln!(
                            "facetra-admin: the audit log is broken at entry {}: {b}",
                            b.seq()
                        );
                        Ok(ExitCode::from(1))
                    }
                }
            }
        }
    }
}
