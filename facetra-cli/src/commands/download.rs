//! `facetra download RENDER [--out FILE|DIR|-]`, `facetra download --selected --out DIR`, and
//! `facetra open RENDER`.

use std::path::{Path, PathBuf};

use facetra_api::Render;
use facetra_core::Error;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// Save a render's image, or every selected render's.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The render id (rnd_…).
    #[arg(required_unless_present = "selected", conflicts_with = "selected")]
    pub render: Option<String>,
    /// Every selected render (into the folder --out).
    #[arg(long)]
    pub selected: bool,
    /// A folder, a file name (ending in .png, .jpg, .jpeg or .webp) or `-` for standard
    /// output.
    #[arg(long, default_value = "renders")]
    pub out: PathBuf,
    /// Replace files that exist (else they are kept).
    #[arg(long)]
    pub force: bool,
}

/// Where an image goes.
enum Target {
    Stdout,
    File(PathBuf),
    Folder(PathBuf),
}

impl Target {
    fn of(out: &Path) -> Target {
        let image_name = out
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(crate::commands::is_image_extension);
        if out == Path::new("-") {
            Target::Stdout
        } else if image_name && !out.is_dir() {
            Target::File(out.to_owned())
        } else {
            Target::Folder(out.to_owned())
        }
    }
}

/// The file extension of a render's image.
pub fn extension(render: &Render) -> &'static str {
    if render.mime == "image/jpeg" {
        "jpg"
    } else {
        "png"
    }
}

/// Streams a render's image into `path` as it arrives, through `<path>.part` renamed once
/// complete (an interrupted download leaves no half image under the real name); the render
/// and its size.
pub async fn stream_to_file(
    client: &dyn Client,
    id: &str,
    path: &Path,
) -> anyhow::Result<(Render, u64)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::invalid("--out", format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let cannot = |e: std::io::Error| {
        Error::invalid("--out", format!("cannot write {}: {e}", path.display()))
    };
    let part = path.with_extension("part");
    let mut file = tokio::fs::File::create(&part).await.map_err(cannot)?;
    let fetched = client.download_render(id, &mut file).await;
    drop(file);
    match fetched {
        Ok(done) => {
            std::fs::rename(&part, path).map_err(cannot)?;
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.go(client.as_ref(), global).await;
        client.close().await;
        result
    }

    async fn go(&self, client: &dyn Client, global: &Global) -> anyhow::Result<()> {
        let target = Target::of(&self.out);
        let Some(id) = &self.render else {
            let Target::Folder(dir) = target else {
                return Err(
                    Error::invalid("--out", "--selected saves into a folder: give one").into(),
                );
            };
            return self.selected(client, &dir, global).await;
        };
        let path = match target {
            Target::Stdout => {
                client.download_render(id, &mut tokio::io::stdout()).await?;
                return Ok(());
            }
            Target::File(path) => path,
            Target::Folder(dir) => {
                let render = client.render(id).await?;
                dir.join(format!("{}.{}", render.id, extension(&render)))
            }
        };
        if path.exists() && !self.force {
            return Err(Error::Conflict(format!(
                "{} exists and was kept; pass --force to replace it",
                path.display()
            ))
            .into());
        }
        let (render, size) = stream_to_file(client, id, &path).await?;
        if global.json {
            return output::json(&serde_json::json!({
                "render_id": render.id, "path": path.display().to_string(), "bytes": size,
            }));
        }
        println!(
            "Saved {} ({}×{}) to {}",
            render.id,
            render.width,
            render.height,
            path.display()
        );
        Ok(())
    }

    async fn selected(
        &self,
        client: &dyn Client,
        dir: &Path,
        global: &Global,
    ) -> anyhow::Result<()> {
        let mut query = facetra_api::ListQuery {
            cursor: None,
            limit: Some(100),
        };
        let mut saved = Vec::new();
        loop {
            let page = client.renders(true, &query).await?;
            for render in page.items {
                let path = dir.join(format!("{}.{}", render.id, extension(&render)));
                let written = if path.exists() && !self.force {
                    false
                } else {
                    stream_to_file(client, &render.id, &path).await?;
                    true
                };
                saved.push((render.id, path.display().to_string(), written));
            }
            match page.next_cursor {
                Some(next) => query.cursor = Some(next),
                None => break,
            }
        }
        if global.json {
            let items: Vec<_> = saved
                .iter()
                .map(|(id, path, written)| serde_json::json!({ "render_id": id, "path": path, "written": written }))
                .collect();
            return output::json(&serde_json::json!({ "items": items }));
        }
        if saved.is_empty() {
            println!("No render is selected: select one with `facetra select ID`.");
            return Ok(());
        }
        let mut t = output::table(&["render", "saved to", ""]);
        for (id, path, written) in &saved {
            t.add_row(vec![
                id.clone(),
                path.clone(),
                if *written {
                    ""
                } else {
                    "kept (exists; --force replaces it)"
                }
                .to_owned(),
            ]);
        }
        println!("{t}");
        Ok(())
    }
}

/// Show a render in the system's image viewer (or print where it was saved).
#[derive(Debug, clap::Args)]
pub struct Open {
    /// The render id (rnd_…).
    pub render: String,
}

impl Open {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let fetched = async {
            let render = client.render(&self.render).await?;
            let dir = std::env::temp_dir().join("facetra-open");
            let path = dir.join(format!("{}.{}", render.id, extension(&render)));
            stream_to_file(client.as_ref(), &render.id, &path).await?;
            anyhow::Ok((render, path))
        }
        .await;
        client.close().await;
        let (render, path) = fetched?;
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let opened = (display || cfg!(target_os = "macos"))
            && std::process::Command::new(opener)
                .arg(&path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if global.json {
            return output::json(&serde_json::json!({
                "render_id": render.id, "path": path.display().to_string(), "opened": opened,
            }));
        }
        if opened {
            eprintln!("Opened {} ({})", render.id, path.display());
        } else {
            // No display to show it on: the path, for another tool.
            println!("{}", path.display());
        }
        Ok(())
    }
}
