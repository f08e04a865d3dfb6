//! `facetra jobs [ID] [--wait] [--status S]` and `facetra jobs cancel ID`.

use std::path::PathBuf;

use facetra_api::{Job, List};
use facetra_core::studio::JobStatus;
use facetra_core::Error;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::commands::render::{print_job, save_files, settled, wait_with_bars};
use crate::exit::Interrupted;
use crate::output;

/// List render jobs, or show one; with --wait, finish it and save its images.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cmd {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// A job id (job_…).
    pub id: Option<String>,
    /// Follow the job to its end (on the embedded default, render it here) and save its
    /// images.
    #[arg(long, requires = "id")]
    pub wait: bool,
    /// Where --wait saves the images.
    #[arg(long, default_value = "renders", requires = "wait")]
    pub out: PathBuf,
    /// Only jobs in this state: queued, running, succeeded, failed or cancelled.
    #[arg(long, value_name = "STATUS", value_parser = parse_status, conflicts_with = "id")]
    pub status: Option<JobStatus>,
    #[command(flatten)]
    pub page: crate::cli::Paging,
}

/// What to do to a job.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Cancel a job: the variants not yet started are refunded, the finished ones kept.
    Cancel {
        /// The job id (job_…).
        id: String,
    },
}

fn parse_status(s: &str) -> Result<JobStatus, String> {
    [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ]
    .into_iter()
    .find(|st| st.as_str() == s)
    .ok_or_else(|| "use queued, running, succeeded, failed or cancelled".to_owned())
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.go(client.as_ref(), global).await;
        client.close().await;
        result
    }

    async fn go(&self, client: &dyn Client, global: &Global) -> anyhow::Result<()> {
        if let Some(Action::Cancel { id }) = &self.action {
            let job = client.cancel_job(id).await?;
            if global.json {
                return output::json(&job);
            }
            println!("{}", settled(&job));
            return Ok(());
        }
        match &self.id {
            Some(id) if self.wait => {
                let job = client.job(id).await?;
                let done = match wait_with_bars(client, &job, global.json).await {
                    Ok(done) => done,
                    Err(e) if e.is::<Interrupted>() => {
                        let now = client.job(id).await?;
                        let saved = save_files(client, &now, &self.out).await?;
                        return Err(Interrupted(format!(
                            "stopped. Saved {} of job {id} under {}; `facetra jobs {id} --wait` \
                             goes on, `facetra jobs cancel {id}` refunds what is not started.",
                            output::count(saved.len() as i64, "finished image"),
                            self.out.display()
                        ))
                        .into());
                    }
                    Err(e) => return Err(e),
                };
                let files = save_files(client, &done, &self.out).await?;
                if global.json {
                    return output::json(&serde_json::json!({ "job": done, "files": files }));
                }
                print_job(&done, &files);
                Ok(())
            }
            Some(id) => {
                let job = client.job(id).await?;
                if global.json {
                    return output::json(&job);
                }
                let mut t = output::table(&["variant", "status", "render", "reason"]);
                for v in &job.variants {
                    t.add_row(vec![
                        v.index.to_string(),
                        format!("{:?}", v.status).to_lowercase(),
                        v.render_id.clone().unwrap_or_default(),
                        v.reason.clone().unwrap_or_default(),
                    ]);
                }
                println!("{t}");
                println!(
                    "Job {}: {} (seq {}), {} reserved, {} charged, {} refunded.",
                    job.id,
                    job.status.as_str(),
                    job.status_seq,
                    job.credits_reserved,
                    job.credits_charged,
                    job.credits_refunded
                );
                Ok(())
            }
            None => {
                let jobs = self.list(client).await?;
                if global.json {
                    return output::json(&jobs);
                }
                let mut t = output::table(&["id", "status", "variants", "prompt", "created"]);
                for j in &jobs.items {
                    let prompt: String = j.prompt.chars().take(40).collect();
                    t.add_row(vec![
                        j.id.to_string(),
                        j.status.as_str().to_owned(),
                        j.variants.len().to_string(),
                        prompt,
                        output::when(&j.created_at),
                    ]);
                }
                println!("{t}");
                output::more(jobs.next_cursor.as_deref(), "facetra jobs");
                Ok(())
            }
        }
    }

    /// A page of jobs; with --status, pages are read until `--limit` of them match (each
    /// read asks for no more than are still wanted, so the cursor continues exactly after
    /// the last job read).
    async fn list(&self, client: &dyn Client) -> anyhow::Result<List<Job>> {
        let Some(wanted) = self.status else {
            return client.jobs(&self.page.query()).await;
        };
        if !(1..=100).contains(&self.page.limit) {
            return Err(Error::invalid("--limit", "must be between 1 and 100").into());
        }
        let mut query = self.page.query();
        let mut items = Vec::new();
        loop {
            query.limit = Some(self.page.limit - items.len());
            let page = client.jobs(&query).await?;
            items.extend(page.items.into_iter().filter(|j| j.status == wanted));
            match page.next_cursor {
                Some(next) if items.len() < self.page.limit => query.cursor = Some(next),
                next_cursor => return Ok(List { items, next_cursor }),
            }
        }
    }
}
