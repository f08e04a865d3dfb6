//! `facetra upload FILE [--kind sketch|reference]`.

use std::path::PathBuf;

use facetra_core::studio::UploadKind;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// Upload a sketch or a reference image (PNG, JPEG or WebP; metadata such as GPS is removed).
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The image file.
    pub file: PathBuf,
    /// What the image is for.
    #[arg(long, value_parser = ["sketch", "reference"], default_value = "sketch")]
    pub kind: String,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let kind = UploadKind::parse(&self.kind)?;
        let bytes = crate::commands::read_input(&self.file, "FILE")?;
        let client = connect(global).await?;
        let uploaded = client.upload(kind, bytes).await;
        client.close().await;
        let u = uploaded?;
        if global.json {
            return output::json(&u);
        }
        output::fields(&[
            ("id", u.id),
            ("kind", u.kind.as_str().to_owned()),
            ("type", u.mime),
            (
                "size",
                format!("{}×{} px, {} bytes", u.width, u.height, u.size),
            ),
            ("sha256", u.sha256),
        ]);
        Ok(())
    }
}
