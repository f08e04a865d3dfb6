//! `facetra download RENDER [--out DIR]`.

use std::path::PathBuf;

use anyhow::Context;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// Save a render's image under --out.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The render id (rnd_…).
    pub render: String,
    /// Where to save it.
    #[arg(long, default_value = "renders")]
    pub out: PathBuf,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let fetched = client.render_bytes(&self.render).await;
        client.close().await;
        let (render, bytes) = fetched?;
        tokio::fs::create_dir_all(&self.out)
            .await
            .with_context(|| format!("creating {}", self.out.display()))?;
        let ext = if render.mime == "image/jpeg" {
            "jpg"
        } else {
            "png"
        };
        let path = self.out.join(format!("{}.{ext}", render.id));
        tokio::fs::write(&path, &bytes)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        if global.json {
            return output::json(
                &serde_json::json!({ "render_id": render.id, "path": path.display().to_string(), "bytes": bytes.len() }),
            );
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
}
