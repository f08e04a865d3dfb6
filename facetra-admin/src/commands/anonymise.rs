//! `facetra-admin anonymise logs`: strip who from the logs past their 90 days.

use std::process::ExitCode;

use serde_json::json;

use crate::context::{parse_date, print_json, table, Ctx};

/// Anonymise records past their retention.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Remove the user id, IP address and user agent from request logs, security events and
    /// usage events older than --older-than (every kind the data map keeps 90 days, then
    /// anonymises). Asks first unless --yes; audited with the counts.
    Logs {
        /// How old a record must be: days, as `90d` or `90`.
        #[arg(long, default_value = "90d", value_parser = parse_days)]
        older_than: i64,
        /// Count as of this date (YYYY-MM-DD, today or later) instead of now.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
        /// Only count what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn parse_days(s: &str) -> Result<i64, String> {
    s.trim_end_matches('d')
        .parse::<i64>()
        .ok()
        .filter(|d| *d >= 1)
        .ok_or_else(|| format!("{s:?}: give a number of days, such as 90d"))
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let Cmd::Logs {
            older_than,
            as_of,
            dry_run,
        } = self;
        let actor = ctx.actor().await?;
        let privacy = ctx.facetra.privacy();
        if !dry_run
            && !ctx.confirm(&format!(
                "Anonymise every log record older than {older_than} days?"
            ))?
        {
            eprintln!("facetra-admin: nothing changed");
            return Ok(ExitCode::from(1));
        }
        let touched = privacy
            .anonymise_logs(&actor, *older_than, *as_of, *dry_run)
            .await?;
        if ctx.global.json {
            let counts: serde_json::Map<_, _> = touched
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
                .collect();
            print_json(
                &json!({ "dry_run": dry_run, "older_than_days": older_than, "anonymised": counts }),
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        let verb = if *dry_run {
            "would anonymise"
        } else {
            "anonymised"
        };
        let mut t = table(&["kind", verb]);
        for (kind, n) in &touched {
            t.add_row(vec![kind.as_str().to_owned(), n.to_string()]);
        }
        println!("{t}");
        Ok(ExitCode::SUCCESS)
    }
}
