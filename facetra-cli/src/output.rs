//! Printing: a table for people, JSON with `--json`.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A two-column key/value table.
pub fn fields(rows: &[(&str, String)]) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    for (k, v) in rows {
        table.add_row(vec![k.to_string(), v.clone()]);
    }
    println!("{table}");
}
