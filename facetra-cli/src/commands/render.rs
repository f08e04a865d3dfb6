//! `facetra render SKETCH --prompt …`: the main job. On the embedded default it sets up the
//! local studio on first use (asking, or from --name/--email/--confirm-age), uploads the
//! sketch and references, queues the job (reserving credits), renders it with the in-process
//! worker while a bar per variant shows progress, and saves each image under --out. With
//! --no-wait the job stays queued for `facetra jobs ID --wait`, the next render, or a server
//! on the same database.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use facetra_api::{Job, RenderRequest, Variant};
use facetra_core::studio::{UploadKind, VariantStatus};

use crate::cli::Global;
use crate::client::{load_config, target, Client, Embedded, Remote, Target};
use crate::commands::init;
use crate::output;

/// Render a sketch into photoreal images.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The sketch (PNG, JPEG or WebP).
    pub sketch: PathBuf,
    /// What to render: the design, its materials and colours.
    #[arg(long)]
    pub prompt: String,
    /// A reference image for style and palette (up to 4).
    #[arg(long = "ref", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// How many variants (1–4); each costs credits.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub variants: u32,
    /// Aspect ratio: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9 or 21:9.
    #[arg(long, default_value = "4:3")]
    pub aspect: String,
    /// An optional style word or phrase.
    #[arg(long)]
    pub style: Option<String>,
    /// Where to save the images.
    #[arg(long, default_value = "renders")]
    pub out: PathBuf,
    /// Queue the job and return without rendering.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub setup: Setup,
}

/// First-use set-up of the local studio, when there is no terminal to ask on.
#[derive(Debug, clap::Args)]
pub struct Setup {
    /// Your name (first use only).
    #[arg(long)]
    pub name: Option<String>,
    /// Your email (first use only).
    #[arg(long)]
    pub email: Option<String>,
    /// Confirm you are 18 or older (first use only).
    #[arg(long)]
    pub confirm_age: bool,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let setup = init::Cmd {
            name: self.setup.name.clone(),
            email: self.setup.email.clone(),
            confirm_age: self.setup.confirm_age,
        };
        let sketch = tokio::fs::read(&self.sketch)
            .await
            .with_context(|| format!("reading {}", self.sketch.display()))?;
        let mut references = Vec::new();
        for r in &self.references {
            references.push(
                tokio::fs::read(r)
                    .await
                    .with_context(|| format!("reading {}", r.display()))?,
            );
        }
        if let Target::Remote(login) = target(global)? {
            let client = Remote::new(login)?;
            return self.render(&client, global, sketch, references).await;
        }
        // One configuration, one open database, one client for the whole run.
        let (created, owner, facetra) = setup.ensure_open(load_config(global)?).await?;
        if created && !global.json {
            eprintln!(
                "Set up your local studio for {} <{}>.",
                owner.name,
                owner.email.as_str()
            );
        }
        let client = Embedded::new(facetra, &owner);
        let result = self.render(&client, global, sketch, references).await;
        client.close().await;
        result
    }

    async fn render(
        &self,
        client: &dyn Client,
        global: &Global,
        sketch: Vec<u8>,
        references: Vec<Vec<u8>>,
    ) -> anyhow::Result<()> {
        let sketch = client.upload(UploadKind::Sketch, sketch).await?;
        let mut reference_ids = Vec::new();
        for r in references {
            reference_ids.push(client.upload(UploadKind::Reference, r).await?.id);
        }
        let spec = RenderRequest {
            prompt: self.prompt.clone(),
            sketch_id: sketch.id,
            reference_ids,
            variants: self.variants,
            aspect_ratio: self.aspect.clone(),
            style: self.style.clone(),
            idempotency_key: None,
        };
        let job = client.request_render(spec).await?;
        if self.no_wait {
            if global.json {
                return output::json(&job);
            }
            println!(
                "Queued {} ({} reserved). Finish it with `facetra jobs {} --wait`.",
                job.id,
                output::count(job.credits_reserved, "credit"),
                job.id
            );
            return Ok(());
        }
        let job = wait_with_bars(client, &job, global.json).await?;
        save(client, &job, &self.out, global).await
    }
}

/// Runs the job to its end with a progress bar per variant.
pub async fn wait_with_bars(client: &dyn Client, job: &Job, quiet: bool) -> anyhow::Result<Job> {
    let bars = indicatif::MultiProgress::new();
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = indicatif::ProgressStyle::with_template("{spinner} variant {prefix}: {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let per_variant: Vec<_> = job
        .variants
        .iter()
        .map(|v| {
            let bar = bars.add(indicatif::ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(v.index.to_string());
            bar.set_message("rendering");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        })
        .collect();
    let progress = |now: &Job| {
        for (v, bar) in now.variants.iter().zip(&per_variant) {
            if v.status != VariantStatus::Queued && !bar.is_finished() {
                bar.finish_with_message(describe(v));
            }
        }
    };
    let done = tokio::select! {
        done = client.run_job(job.id.as_str(), &progress) => done?,
        _ = tokio::signal::ctrl_c() => {
            bars.clear().ok();
            client.release_job(job.id.as_str()).await?;
            return Err(facetra_core::Error::Conflict(format!(
                "stopped: job {} is released and keeps its reservation; finish it with `facetra jobs {} --wait`",
                job.id, job.id
            ))
            .into());
        }
    };
    for (v, bar) in done.variants.iter().zip(&per_variant) {
        if !bar.is_finished() {
            bar.finish_with_message(describe(v));
        }
    }
    bars.clear().ok();
    Ok(done)
}

fn describe(v: &Variant) -> String {
    match v.status {
        VariantStatus::Succeeded => "done".into(),
        VariantStatus::Queued => "waiting".into(),
        VariantStatus::Cancelled => "cancelled (refunded)".into(),
        VariantStatus::Failed => format!(
            "failed (refunded): {}",
            v.reason.clone().unwrap_or_default()
        ),
    }
}

/// Saves a finished job's images under `out` and prints where each went.
pub async fn save(
    client: &dyn Client,
    job: &Job,
    out: &std::path::Path,
    global: &Global,
) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(out)
        .await
        .with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    for (render, bytes) in client.job_renders(job.id.as_str()).await? {
        let ext = if render.mime == "image/jpeg" {
            "jpg"
        } else {
            "png"
        };
        let path = out.join(format!("{}-{}.{ext}", job.id, render.variant));
        tokio::fs::write(&path, &bytes)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        files.push((render.variant, render.id.clone(), path));
    }
    if global.json {
        let files: Vec<_> = files
            .iter()
            .map(|(v, id, p)| serde_json::json!({ "variant": v, "render_id": id, "path": p.display().to_string() }))
            .collect();
        return output::json(&serde_json::json!({ "job": job, "files": files }));
    }
    let mut t = output::table(&["variant", "status", "saved to"]);
    for v in &job.variants {
        let place = files
            .iter()
            .find(|(i, _, _)| *i == v.index)
            .map(|(_, _, p)| p.display().to_string())
            .unwrap_or_else(|| v.reason.clone().unwrap_or_default());
        t.add_row(vec![v.index.to_string(), describe(v), place]);
    }
    println!("{t}");
    println!(
        "Job {}: {}; {} charged, {} refunded.",
        job.id,
        job.status.as_str(),
        output::count(job.credits_charged, "credit"),
        job.credits_refunded
    );
    Ok(())
}
