//! `facetra config list|get|set`: the settings as this command line sees them, and the TOML
//! file they can be kept in. Secrets are never printed.

use std::io::Write;
use std::path::PathBuf;

use facetra_core::config::{self, keys, Config, Sources};
use facetra_core::Error;
use serde_json::json;

use crate::cli::Global;
use crate::client::sources;
use crate::output;

/// Show or change settings (docs/CONFIG.md lists them all).
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Every setting: its value and where it comes from (flag, environment, file, default).
    List,
    /// One setting's value (by variable, `FACETRA_RENDERER`, or TOML key, `renderer`).
    Get {
        /// The setting.
        key: String,
    },
    /// Keep a setting in the configuration file (--config, else <config dir>/facetra.toml),
    /// checked before it is saved.
    Set {
        /// The setting.
        key: String,
        /// Its value.
        value: String,
    },
}

/// The file `set` writes: the one in use, else the default place.
fn target_file(sources: &Sources) -> anyhow::Result<PathBuf> {
    config::config_file(sources)
        .or_else(config::default_config_file)
        .ok_or_else(|| {
            Error::Config("no configuration directory (HOME is not set); pass --config FILE".into())
                .into()
        })
}

/// A TOML value: integers and booleans as they are, anything else a quoted string.
fn toml_value(raw: &str) -> String {
    let raw = raw.trim();
    if raw.parse::<i64>().is_ok() || raw == "true" || raw == "false" {
        return raw.to_owned();
    }
    let escaped: String = raw
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

impl Cmd {
    pub fn run(&self, global: &Global) -> anyhow::Result<()> {
        match self {
            Cmd::List => {
                let all = config::effective(sources(global))?;
                if global.json {
                    let items: Vec<_> = all
                        .iter()
                        .map(|e| json!({ "key": e.setting.key, "toml_key": e.setting.toml_key(), "value": e.value, "from": e.from, "default": e.setting.default }))
                        .collect();
                    return output::json(&json!({ "items": items }));
                }
                let mut t = output::table(&["setting", "value", "from"]);
                for e in &all {
                    let value = e
                        .value
                        .clone()
                        .unwrap_or_else(|| format!("(default: {})", e.setting.default));
                    t.add_row(vec![e.setting.toml_key(), value, e.from.to_owned()]);
                }
                println!("{t}");
                Ok(())
            }
            Cmd::Get { key } => {
                let wanted = config::setting(key)?;
                let all = config::effective(sources(global))?;
                let e = all
                    .into_iter()
                    .find(|e| e.setting.key == wanted.key)
                    .ok_or(Error::NotFound("setting"))?;
                if global.json {
                    return output::json(
                        &json!({ "key": wanted.key, "value": e.value, "from": e.from, "default": wanted.default }),
                    );
                }
                match e.value {
                    Some(v) => println!("{v}"),
                    None => println!("(default: {})", wanted.default),
                }
                Ok(())
            }
            Cmd::Set { key, value } => self.set(global, key, value),
        }
    }

    fn set(&self, global: &Global, key: &str, value: &str) -> anyhow::Result<()> {
        let setting = config::setting(key)?;
        if [keys::SERVER, keys::TOKEN, keys::LOG, keys::CONFIG].contains(&setting.key) {
            return Err(Error::invalid(
                "KEY",
                format!(
                    "{} is not read from the file: {}",
                    setting.key,
                    if setting.key == keys::LOG {
                        "set it in the environment"
                    } else if setting.key == keys::CONFIG {
                        "pass --config FILE"
                    } else {
                        "use `facetra login --server URL`"
                    }
                ),
            )
            .into());
        }
        let sources = sources(global);
        let path = target_file(&sources)?;
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        let toml_key = setting.toml_key();
        let line = format!("{toml_key} = {}", toml_value(value));
        let mut replaced = false;
        let mut lines: Vec<String> = before
            .lines()
            .map(|l| {
                let is_it = l.split_once('=').is_some_and(|(k, _)| k.trim() == toml_key);
                if is_it && !replaced {
                    replaced = true;
                    line.clone()
                } else {
                    l.to_owned()
                }
            })
            .collect();
        if !replaced {
            lines.push(line);
        }
        let after = lines.join("\n") + "\n";
        if let Some(dir) = path.parent() {
            facetra_core::private_fs::private_dir(dir)?;
        }
        // Checked as the next command would read it, before the file changes.
        let check = path.with_extension("toml.check");
        write_private(&check, &after)?;
        let loaded = Config::load(Sources {
            config_file: Some(check.clone()),
            ..sources
        });
        let _ = std::fs::remove_file(&check);
        loaded.map_err(|e| {
            Error::invalid("VALUE", format!("{toml_key} = {value:?} is refused: {e}"))
        })?;
        write_private(&path, &after)?;
        let shown = if config::is_secret(setting.key) {
            "[secret]".to_owned()
        } else {
            value.to_owned()
        };
        if global.json {
            return output::json(
                &json!({ "key": setting.key, "value": shown, "file": path.display().to_string() }),
            );
        }
        println!("{toml_key} = {shown} (in {})", path.display());
        Ok(())
    }
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let cannot = |e: std::io::Error| Error::Config(format!("cannot write {}: {e}", path.display()));
    let mut file = facetra_core::private_fs::create_private_sync(path).map_err(cannot)?;
    file.write_all(text.as_bytes()).map_err(cannot)?;
    facetra_core::private_fs::make_private(path).map_err(cannot)?;
    Ok(())
}
