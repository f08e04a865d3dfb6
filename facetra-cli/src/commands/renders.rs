//! `facetra renders [--selected] [--job ID]`, `facetra select ID`, `facetra unselect ID`.

use facetra_api::{List, Render};

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// List your renders, newest first.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Only the selected ones.
    #[arg(long)]
    pub selected: bool,
    /// Only this job's renders (job_…), in variant order.
    #[arg(long, value_name = "JOB")]
    pub job: Option<String>,
    #[command(flatten)]
    pub page: crate::cli::Paging,
}

/// Which render.
#[derive(Debug, clap::Args)]
pub struct Select {
    /// A render id (rnd_…).
    pub id: String,
}

fn table(renders: &[Render]) {
    let mut t = output::table(&[
        "id", "job", "variant", "size", "selected", "provider", "created",
    ]);
    for r in renders {
        t.add_row(vec![
            r.id.clone(),
            r.job_id.clone(),
            r.variant.to_string(),
            format!("{}×{}", r.width, r.height),
            if r.selected { "yes" } else { "" }.to_owned(),
            r.provenance.provider.clone(),
            output::when(&r.created_at),
        ]);
    }
    println!("{t}");
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let renders = match &self.job {
            Some(job) => self.of_job(client.as_ref(), job).await,
            None => client.renders(self.selected, &self.page.query()).await,
        };
        client.close().await;
        let renders = renders?;
        if global.json {
            return output::json(&renders);
        }
        table(&renders.items);
        output::more(renders.next_cursor.as_deref(), "facetra renders");
        Ok(())
    }
}

impl Cmd {
    /// A job's renders (a job has at most four: one page).
    async fn of_job(&self, client: &dyn Client, job: &str) -> anyhow::Result<List<Render>> {
        let job = client.job(job).await?;
        let mut items = Vec::new();
        for id in job.variants.iter().filter_map(|v| v.render_id.as_deref()) {
            let render = client.render(id).await?;
            if render.selected || !self.selected {
                items.push(render);
            }
        }
        Ok(List {
            items,
            next_cursor: None,
        })
    }
}

impl Select {
    pub async fn run(&self, global: &Global, selected: bool) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let render = client.select(&self.id, selected).await;
        client.close().await;
        let render = render?;
        if global.json {
            return output::json(&render);
        }
        table(std::slice::from_ref(&render));
        Ok(())
    }
}

/// Which render to delete.
#[derive(Debug, clap::Args)]
pub struct Delete {
    /// A render id (rnd_…).
    pub id: String,
    /// Do not ask first.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

impl Delete {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = async {
            let render = client.render(&self.id).await?;
            let question = format!(
                "Delete {} (variant {} of {}) and its image? This cannot be undone.",
                render.id, render.variant, render.job_id
            );
            if !self.yes && !crate::commands::confirm(&question)? {
                eprintln!("Nothing was deleted.");
                return Ok(());
            }
            client.delete_render(&render.id).await?;
            if global.json {
                return output::json(&serde_json::json!({ "deleted": render.id }));
            }
            println!("Deleted {}.", render.id);
            Ok(())
        }
        .await;
        client.close().await;
        result
    }
}
