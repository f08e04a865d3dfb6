//! `facetra render SKETCH… --prompt …`: the main job. Each sketch (or each image in a folder
//! given, or each upload given with `--sketch`) becomes one job: the references are uploaded
//! once, every job is queued (reserving its credits) under an idempotency key made from its
//! inputs, then each is followed to its end with a bar per variant and its images saved under
//! --out. Running the same batch again after an interruption finds the jobs already queued by
//! their keys, so nothing is charged twice and only what is left is rendered. On the embedded
//! default the worker is this process (and the local studio is set up on first use); on a
//! server its workers render and this follows the jobs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use facetra_api::{Job, RenderRequest, Variant};
use facetra_core::studio::{UploadKind, VariantStatus};
use facetra_core::Error;
use serde_json::json;

use crate::cli::Global;
use crate::client::{load_config, target, Client, Embedded, Remote, Target};
use crate::commands::{init, is_image_extension, read_input};
use crate::exit::Interrupted;
use crate::output;

/// Render sketches into photoreal images.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Sketches (PNG, JPEG or WebP), or folders of them: one job each.
    #[arg(value_name = "SKETCH", required_unless_present = "uploads")]
    pub sketches: Vec<PathBuf>,
    /// Reuse an earlier upload as a sketch (upl_…; repeat for several).
    #[arg(long = "sketch", value_name = "UPLOAD")]
    pub uploads: Vec<String>,
    /// What to render: the design, its materials and colours.
    #[arg(long)]
    pub prompt: String,
    /// A reference image for style and palette (up to 4), used for every job.
    #[arg(long = "ref", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// How many variants per job (1–4); each costs credits.
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
    /// Queue the jobs and return without waiting for them.
    #[arg(long)]
    pub no_wait: bool,
    /// Print only the render ids (with --no-wait, the job ids), one per line.
    #[arg(long, short)]
    pub quiet: bool,
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

/// One job's sketch: a file's bytes, or an earlier upload.
enum Sketch {
    File(Vec<u8>),
    Upload(String),
}

/// The images of a folder (by name), or the file itself.
fn expand(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Error::invalid("SKETCH", format!("cannot list {}: {e}", path.display())))?;
    let mut images: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(is_image_extension)
        })
        .collect();
    images.sort();
    if images.is_empty() {
        return Err(Error::invalid(
            "SKETCH",
            format!("{} holds no PNG, JPEG or WebP images", path.display()),
        )
        .into());
    }
    Ok(images)
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        // Every file is read before anything is uploaded or charged.
        let mut sketches = Vec::new();
        for given in &self.sketches {
            for path in expand(given)? {
                let bytes = read_input(&path, "SKETCH")?;
                sketches.push(Sketch::File(bytes));
            }
        }
        sketches.extend(self.uploads.iter().cloned().map(Sketch::Upload));
        let mut references = Vec::new();
        for r in &self.references {
            references.push(read_input(r, "--ref")?);
        }
        if let Target::Remote(login) = target(global)? {
            let client = Remote::new(login)?;
            return self.render(&client, global, sketches, references).await;
        }
        let setup = init::Cmd {
            name: self.setup.name.clone(),
            email: self.setup.email.clone(),
            confirm_age: self.setup.confirm_age,
        };
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
        let result = self.render(&client, global, sketches, references).await;
        client.close().await;
        result
    }

    /// The idempotency key of one job: its inputs, so the same batch run again asks for the
    /// same jobs.
    fn key(&self, sketch: &Sketch, references: &[Vec<u8>]) -> String {
        use facetra_core::security::sha256_hex;
        let mut inputs = format!(
            "facetra-render-1\n{}\n{}\n{}\n{}\n",
            self.prompt.trim(),
            self.style.as_deref().unwrap_or("").trim(),
            self.aspect,
            self.variants
        );
        match sketch {
            Sketch::File(bytes) => inputs.push_str(&sha256_hex(bytes)),
            Sketch::Upload(id) => inputs.push_str(id),
        }
        for r in references {
            inputs.push('\n');
            inputs.push_str(&sha256_hex(r));
        }
        format!("cli-{}", sha256_hex(inputs.as_bytes()))
    }

    async fn render(
        &self,
        client: &dyn Client,
        global: &Global,
        sketches: Vec<Sketch>,
        references: Vec<Vec<u8>>,
    ) -> anyhow::Result<()> {
        let batch = sketches.len() > 1 || self.sketches.iter().any(|p| p.is_dir());
        let keys: Vec<String> = sketches.iter().map(|s| self.key(s, &references)).collect();
        let mut reference_ids = Vec::new();
        for r in references {
            reference_ids.push(client.upload(UploadKind::Reference, r).await?.id);
        }
        let mut jobs = Vec::new();
        for (sketch, key) in sketches.into_iter().zip(keys) {
            let sketch_id = match sketch {
                Sketch::File(bytes) => client.upload(UploadKind::Sketch, bytes).await?.id,
                Sketch::Upload(id) => id,
            };
            let spec = RenderRequest {
                prompt: self.prompt.clone(),
                sketch_id,
                reference_ids: reference_ids.clone(),
                variants: self.variants,
                aspect_ratio: self.aspect.clone(),
                style: self.style.clone(),
                idempotency_key: Some(key),
            };
            match client.request_render(spec).await {
                Ok(job) => jobs.push(job),
                Err(e) if jobs.is_empty() => return Err(e),
                Err(e) => {
                    return Err(e.context(format!(
                        "{} queued before this one; run the same command again to go on \
                         (nothing is charged twice)",
                        output::count(jobs.len() as i64, "job")
                    )))
                }
            }
        }
        if self.no_wait {
            return self.queued(&jobs, batch, global);
        }
        let mut results = Vec::new();
        for job in jobs {
            let done = if job.status.is_final() {
                job
            } else {
                match wait_with_bars(client, &job, global.json || self.quiet).await {
                    Ok(done) => done,
                    Err(e) if e.is::<Interrupted>() => {
                        let now = client.job(&job.id).await?;
                        let files = save_files(client, &now, &self.out).await?;
                        return Err(interrupted(client, &now, files.len(), &self.out).into());
                    }
                    Err(e) => return Err(e),
                }
            };
            let files = save_files(client, &done, &self.out).await?;
            results.push((done, files));
        }
        self.report(&results, batch, global)
    }

    fn queued(&self, jobs: &[Job], batch: bool, global: &Global) -> anyhow::Result<()> {
        if self.quiet {
            jobs.iter().for_each(|j| println!("{}", j.id));
            return Ok(());
        }
        if global.json {
            return match jobs {
                [job] if !batch => output::json(job),
                _ => output::json(&json!({ "items": jobs })),
            };
        }
        for job in jobs {
            println!(
                "Queued {} ({} reserved). Finish it with `facetra jobs {} --wait`.",
                job.id,
                output::count(job.credits_reserved, "credit"),
                job.id
            );
        }
        Ok(())
    }

    fn report(
        &self,
        results: &[(Job, Vec<Saved>)],
        batch: bool,
        global: &Global,
    ) -> anyhow::Result<()> {
        if self.quiet {
            for (_, files) in results {
                files.iter().for_each(|f| println!("{}", f.render_id));
            }
            return Ok(());
        }
        if global.json {
            let each: Vec<_> = results
                .iter()
                .map(|(job, files)| json!({ "job": job, "files": files }))
                .collect();
            return match each.as_slice() {
                [one] if !batch => output::json(one),
                _ => output::json(&json!({ "items": each })),
            };
        }
        for (job, files) in results {
            print_job(job, files);
        }
        Ok(())
    }
}

/// A saved image: which variant, which render, where.
#[derive(Debug, serde::Serialize)]
pub struct Saved {
    pub variant: u32,
    pub render_id: String,
    pub path: String,
}

/// What is said when Ctrl-C stopped a job: what was saved and what becomes of the rest.
fn interrupted(client: &dyn Client, job: &Job, saved: usize, out: &Path) -> Interrupted {
    let left = job
        .variants
        .iter()
        .filter(|v| v.status == VariantStatus::Queued)
        .count();
    let rest = if left == 0 {
        String::new()
    } else if client.renders_elsewhere() {
        format!(
            " The server goes on rendering the other {}: `facetra jobs {} --wait` saves them, \
             `facetra jobs cancel {}` stops them and refunds their credits.",
            output::count(left as i64, "variant"),
            job.id,
            job.id
        )
    } else {
        format!(
            " The other {} keep their credits reserved: run the same command again to finish \
             them (nothing is charged twice), or `facetra jobs cancel {}` to refund them.",
            output::count(left as i64, "variant"),
            job.id
        )
    };
    Interrupted(format!(
        "stopped. Saved {} of job {} under {}.{rest}",
        output::count(saved as i64, "finished image"),
        job.id,
        out.display()
    ))
}

/// Runs the job to its end with a progress bar per variant; Ctrl-C lets go of it (the bars
/// stay, marked) and ends with [`Interrupted`].
pub async fn wait_with_bars(client: &dyn Client, job: &Job, quiet: bool) -> anyhow::Result<Job> {
    let bars = indicatif::MultiProgress::new();
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let per_variant: Vec<_> = job
        .variants
        .iter()
        .map(|v| {
            let bar = bars.add(indicatif::ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(format!("{} variant {}", job.id, v.index));
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
            for bar in per_variant.iter().filter(|b| !b.is_finished()) {
                bar.abandon_with_message("stopped");
            }
            client.release_job(job.id.as_str()).await?;
            return Err(Interrupted(format!("stopped: job {} was not finished", job.id)).into());
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

/// Saves a job's finished images under `out`, each streamed to its file.
pub async fn save_files(client: &dyn Client, job: &Job, out: &Path) -> anyhow::Result<Vec<Saved>> {
    let mut files = Vec::new();
    for v in &job.variants {
        let Some(id) = v.render_id.as_deref() else {
            continue;
        };
        let render = client.render(id).await?;
        let ext = crate::commands::download::extension(&render);
        let path = out.join(format!("{}-{}.{ext}", job.id, render.variant));
        crate::commands::download::stream_to_file(client, id, &path).await?;
        files.push(Saved {
            variant: render.variant,
            render_id: render.id.clone(),
            path: path.display().to_string(),
        });
    }
    Ok(files)
}

/// A finished job as a table: each variant, its render id beside its file.
pub fn print_job(job: &Job, files: &[Saved]) {
    let mut t = output::table(&["variant", "status", "render", "saved to"]);
    for v in &job.variants {
        let saved = files.iter().find(|f| f.variant == v.index);
        t.add_row(vec![
            v.index.to_string(),
            describe(v),
            saved.map(|f| f.render_id.clone()).unwrap_or_default(),
            saved
                .map(|f| f.path.clone())
                .unwrap_or_else(|| v.reason.clone().unwrap_or_default()),
        ]);
    }
    println!("{t}");
    println!("{}", settled(job));
}

/// A job's end in one line: its status and what it cost.
pub fn settled(job: &Job) -> String {
    format!(
        "Job {}: {}; {} charged, {} refunded.",
        job.id,
        job.status.as_str(),
        output::count(job.credits_charged, "credit"),
        job.credits_refunded
    )
}
