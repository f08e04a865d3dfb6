//! `facetra-admin retention plan|apply`: the retention policy, kind by kind.

use std::process::ExitCode;

use facetra_core::privacy::retention::RetentionReport;

use crate::context::{parse_date, print_json, table, Ctx};

/// The retention policy (logs 90 days then anonymised, payment records 7 years from the end of
/// their financial year, sessions and tokens when they end, exports after 7 days, delivered
/// mail's bodies, sign-ups that never became an account after 12 months).
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Show what is due, kind by kind; change nothing.
    Plan {
        /// Judge what is due as of this date (YYYY-MM-DD, today or later).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Do what `plan` shows (asks first unless --yes). Payment records are deleted only once
    /// their real retention has ended, whatever --as-of says.
    Apply {
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    },
}

fn print(ctx: &Ctx, report: &RetentionReport) -> anyhow::Result<()> {
    if ctx.global.json {
        return print_json(report);
    }
    let verb = if report.applied {
        "changed"
    } else {
        "would change"
    };
    let mut t = table(&["kind", "rule", "action", "due", "kept", verb]);
    for l in &report.lines {
        t.add_row(vec![
            l.kind.to_owned(),
            l.rule.to_owned(),
            l.action.to_owned(),
            l.due.to_string(),
            l.kept.to_string(),
            l.changed.to_string(),
        ]);
    }
    println!("{t}");
    println!("as of {}", crate::context::day(&report.as_of));
    Ok(())
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let actor = ctx.actor().await?;
        let privacy = ctx.facetra.privacy();
        match self {
            Cmd::Plan { as_of } => {
                let report = privacy.retention(&actor, *as_of, false).await?;
                print(ctx, &report)?;
            }
            Cmd::Apply { as_of } => {
                let plan = privacy.retention(&actor, *as_of, false).await?;
                let total: u64 = plan.lines.iter().map(|l| l.changed).sum();
                let question = match as_of {
                    Some(day) => format!(
                        "Apply retention as of {} (a later date than today): {total} records change?",
                        crate::context::day(day)
                    ),
                    None => format!("Apply retention: {total} records change?"),
                };
                if total > 0 && !ctx.confirm(&question)? {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                let report = privacy.retention(&actor, *as_of, true).await?;
                print(ctx, &report)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
