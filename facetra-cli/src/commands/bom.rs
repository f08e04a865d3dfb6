//! `facetra bom show|generate|edit|set|export RENDER`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use facetra_api::{Bom, BomItem};
use facetra_core::studio::bom::to_csv;
use facetra_core::studio::bom::BomSource;
use facetra_core::Error;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// A render's bill of materials, kept in versions.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Show the latest version (or an earlier one).
    Show {
        /// The render id (rnd_…).
        render: String,
        /// This version instead of the latest.
        #[arg(long, value_name = "N")]
        version: Option<i64>,
    },
    /// Generate a new version from the render's prompt. Over a version you edited it asks
    /// first (the edit stays in the history).
    Generate {
        /// The render id (rnd_…).
        render: String,
        /// Generate over your edits without asking.
        #[arg(long)]
        force: bool,
    },
    /// Edit the latest version in $EDITOR (a JSON list of items); saved as a new version only
    /// when it changed. A file that is not valid JSON is opened again with the error on top.
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
            Cmd::Show {
                render,
                version: None,
            } => show(global, &c.bom(render).await?),
            Cmd::Show {
                render,
                version: Some(n),
            } => show(global, &version_of(c, render, *n).await?),
            Cmd::Generate { render, force } => {
                if !force {
                    if let Ok(latest) = c.bom(render).await {
                        if latest.source == BomSource::User {
                            let question = format!(
                                "Version {} holds your edits. Generate a new version over it? \
                                 (Your edits stay: `facetra bom show {render} --version {}`.)",
                                latest.version, latest.version
                            );
                            if !crate::commands::confirm(&question).map_err(|_| {
                                Error::Conflict(format!(
                                    "version {} holds your edits; pass --force to generate a \
                                     new version over it (the edits stay in the history)",
                                    latest.version
                                ))
                            })? {
                                eprintln!("Nothing was generated.");
                                return Ok(());
                            }
                        }
                    }
                }
                show(global, &c.generate_bom(render).await?)
            }
            Cmd::Set {
                render,
                file,
                version,
            } => {
                let bytes = crate::commands::read_input(file, "FILE")?;
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
                let Some(items) = edit_items(&bom)? else {
                    eprintln!("No changes; nothing was saved.");
                    return Ok(());
                };
                show(global, &c.set_bom(render, bom.version, items).await?)
            }
        }
    }
}

/// A version of a render's BOM, found in its history.
async fn version_of(c: &dyn Client, render: &str, version: i64) -> anyhow::Result<Bom> {
    let mut query = facetra_api::ListQuery {
        cursor: None,
        limit: Some(100),
    };
    loop {
        let page = c.bom_history(render, &query).await?;
        if let Some(found) = page.items.into_iter().find(|b| b.version == version) {
            return Ok(found);
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Err(Error::NotFound("BOM version").into()),
        }
    }
}

/// Lines an editor round adds above a file that did not parse; they are dropped on reading.
const NOTE: &str = "//";

/// Opens the items in $VISUAL/$EDITOR until they parse; `None` when nothing changed (or the
/// file was emptied). The file stays where it is if the editor fails, so nothing typed is lost.
fn edit_items(bom: &Bom) -> anyhow::Result<Option<Vec<BomItem>>> {
    let path = std::env::temp_dir().join(format!("facetra-bom-{}.json", bom.render_id));
    std::fs::write(&path, serde_json::to_string_pretty(&bom.items)?)?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    loop {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status()
            .map_err(|e| Error::invalid("edit", format!("cannot start {editor}: {e}")))?;
        if !status.success() {
            return Err(Error::invalid(
                "edit",
                format!(
                    "{editor} exited with {status}; nothing was saved (your file is {})",
                    path.display()
                ),
            )
            .into());
        }
        let text = std::fs::read_to_string(&path)?;
        let json: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with(NOTE))
            .collect::<Vec<_>>()
            .join("\n");
        if json.trim().is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        match read_items(&json) {
            Ok(items) => {
                let _ = std::fs::remove_file(&path);
                return Ok((items != bom.items).then_some(items));
            }
            Err(e) => {
                // Open it again with the error on top, the edits kept.
                let note = format!(
                    "{NOTE} facetra: {e:#}\n{NOTE} Fix it and save, or empty the file to give up. \
                     Lines starting with {NOTE} are ignored.\n"
                );
                std::fs::write(&path, note + &json)?;
            }
        }
    }
}
