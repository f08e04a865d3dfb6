//! `facetra bom show|generate|edit|set|export RENDER`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use facetra_api::{Bom, BomItem};
use facetra_core::studio::bom::to_csv;
use facetra_core::Error;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// A render's bill of materials, kept in versions.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Show the latest version.
    Show {
        /// The render id (rnd_…).
        render: String,
    },
    /// Generate a new version from the render's prompt.
    Generate {
        /// The render id (rnd_…).
        render: String,
    },
    /// Edit the latest version in $EDITOR (a JSON list of items); saved as a new version.
    Edit {
        /// The render id (rnd_…).
        render: String,
    },
    /// Replace the items with those in a JSON file, as the version after the one it was based
    /// on; refused (exit 7) if someone saved a newer version meanwhile.
    Set {
        /// The render id (rnd_…).
        render: String,
        /// A JSON file: what `facetra bom show RENDER --json` prints (it carries its version),
        /// or a plain list of {name, category, material, quantity, unit, unit_price_paise, note}.
        file: PathBuf,
        /// The version the file was based on; needed for a plain list.
        #[arg(long)]
        version: Option<i64>,
    },
    /// Print the latest version as CSV (or write it to --out).
    Export {
        /// The render id (rnd_…).
        render: String,
        /// Where to write the CSV.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn show(global: &Global, bom: &Bom) -> anyhow::Result<()> {
    if global.json {
        return output::json(bom);
    }
    let mut t = output::table(&[
        "item",
        "category",
        "material",
        "quantity",
        "unit price",
        "note",
    ]);
    let mut total = 0f64;
    for i in &bom.items {
        total += i.quantity * i.unit_price_paise as f64;
        t.add_row(vec![
            i.name.clone(),
            i.category.clone(),
            i.material.clone(),
            format!("{} {}", i.quantity, i.unit),
            output::rupees(i.unit_price_paise),
            i.note.clone(),
        ]);
    }
    println!("{t}");
    println!(
        "Version {} ({}); total {}.",
        bom.version,
        serde_json::to_value(bom.source)?
            .as_str()
            .unwrap_or_default(),
        output::rupees(total.round() as i64)
    );
    Ok(())
}

fn read_items(text: &str) -> anyhow::Result<Vec<BomItem>> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid("items", format!("the file is not a JSON list of BOM items ({e}); each needs name, category, material, quantity, unit, unit_price_paise")).into()
    })
}

/// A file for `bom set`: a BOM as `bom show --json` prints it (with the version it is), or a
/// plain list of items (no version).
fn read_edit(text: &str) -> anyhow::Result<(Option<i64>, Vec<BomItem>)> {
    #[derive(serde::Deserialize)]
    struct Saved {
        version: i64,
        items: Vec<BomItem>,
    }
    if text.trim_start().starts_with('{') {
        let saved: Saved = serde_json::from_str(text).map_err(|e| {
            Error::invalid(
                "items",
                format!("the file is not a BOM as `facetra bom show --json` prints it ({e})"),
            )
        })?;
        return Ok((Some(saved.version), saved.items));
    }
    Ok((None, read_items(text)?))
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.apply(client.as_ref(), global).await;
        client.close().await;
        result
    }

    async fn apply(&self, c: &dyn Client, global: &Global) -> anyhow::Result<()> {
        match self {
            Cmd::Show { render } => show(global, &c.bom(render).await?),
            Cmd::Generate { render } => show(global, &c.generate_bom(render).await?),
            Cmd::Set {
                render,
                file,
                version,
            } => {
                let bytes = crate::commands::render::read_input(file, "FILE")?;
                let text = String::from_utf8_lossy(&bytes);
                let (saved, items) = read_edit(&text)?;
                let Some(version) = version.or(saved) else {
                    // Never guess: the latest version may be newer than what the file was made
                    // from, and saving over it would lose someone's edit.
                    let latest = match c.bom(render).await {
                        Ok(b) => b.version.to_string(),
                        Err(_) => "none yet (use 0)".into(),
                    };
                    return Err(Error::invalid(
                        "version",
                        format!(
                            "say which version the file was based on with --version N (the \
                             latest is {latest}); a file saved with `facetra bom show RENDER \
                             --json` carries its own"
                        ),
                    )
                    .into());
                };
                show(global, &c.set_bom(render, version, items).await?)
            }
            Cmd::Export { render, out } => {
                let items: Vec<_> = c
                    .bom(render)
                    .await?
                    .items
                    .into_iter()
                    .map(Into::into)
                    .collect();
                let csv = to_csv(&items);
                match out {
                    Some(path) => tokio::fs::write(path, csv)
                        .await
                        .with_context(|| format!("writing {}", path.display()))?,
                    None => print!("{csv}"),
                }
                Ok(())
            }
            Cmd::Edit { render } => {
                if !std::io::stdin().is_terminal() {
                    return Err(Error::invalid(
                        "edit",
                        "there is no terminal for an editor; use `facetra bom set RENDER FILE`",
                    )
                    .into());
                }
                let bom = c.bom(render).await?;
                let path = std::env::temp_dir().join(format!("facetra-bom-{}.json", bom.render_id));
                tokio::fs::write(&path, serde_json::to_string_pretty(&bom.items)?).await?;
                let editor = std::env::var("VISUAL")
                    .or_else(|_| std::env::var("EDITOR"))
                    .unwrap_or_else(|_| "vi".into());
                let status = std::process::Command::new(&editor)
                    .arg(&path)
                    .status()
                    .with_context(|| format!("starting {editor}"))?;
                let text = tokio::fs::read_to_string(&path).await?;
                let _ = tokio::fs::remove_file(&path).await;
                if !status.success() {
                    return Err(Error::invalid(
                        "edit",
                        format!("{editor} exited with {status}; nothing was saved"),
                    )
                    .into());
                }
                show(
                    global,
                    &c.set_bom(render, bom.version, read_items(&text)?).await?,
                )
            }
        }
    }
}
