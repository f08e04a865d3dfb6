//! `facetra jobs [ID] [--wait]`.

use std::path::PathBuf;

use crate::cli::Global;
use crate::client::connect;
use crate::commands::render::{save, wait_with_bars};
use crate::output;

/// List render jobs, or show one; with --wait, finish it and save its images.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// A job id (job_…).
    pub id: Option<String>,
    /// Render the job to its end (on the embedded default, here) and save its images.
    #[arg(long, requires = "id")]
    pub wait: bool,
    /// Where --wait saves the images.
    #[arg(long, default_value = "renders", requires = "wait")]
    pub out: PathBuf,
    #[command(flatten)]
    pub page: crate::cli::Paging,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = async {
            match &self.id {
                Some(id) if self.wait => {
                    let job = client.job(id).await?;
                    let done = wait_with_bars(client.as_ref(), &job, global.json).await?;
                    save(client.as_ref(), &done, &self.out, global).await
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
                    let jobs = client.jobs(&self.page.query()).await?;
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
                            j.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        ]);
                    }
                    println!("{t}");
                    output::more(jobs.next_cursor.as_deref(), "facetra jobs");
                    Ok(())
                }
            }
        }
        .await;
        client.close().await;
        result
    }
}
