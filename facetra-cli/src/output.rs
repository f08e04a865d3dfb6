//! Printing, for both command lines: a table for people, plain tab-separated rows for
//! programs (standard output is not a terminal), JSON with `--json`.

use std::io::IsTerminal;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement};
use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Rows with a header: drawn to fit the terminal's width on a terminal, else one line per
/// row, cells separated by tabs and no header (for `cut`, `awk` and `head`).
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Adds a row.
    pub fn add_row(&mut self, row: Vec<String>) -> &mut Table {
        self.rows.push(row);
        self
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Drawn for a terminal `width` columns wide.
    pub fn drawn(&self, width: u16) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(width);
        if !self.header.is_empty() {
            t.set_header(self.header.clone());
        }
        for row in &self.rows {
            t.add_row(row.clone());
        }
        t.to_string()
    }

    /// As tab-separated lines (tabs and line breaks inside a cell become spaces).
    pub fn plain(&self) -> String {
        let clean = |cell: &String| cell.replace(['\t', '\n', '\r'], " ");
        self.rows
            .iter()
            .map(|row| row.iter().map(clean).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The terminal's width, when standard output is one.
fn terminal_width() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let (_, cols) = console::Term::stdout().size_checked().unwrap_or((24, 80));
    Some(cols.max(20))
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match terminal_width() {
            Some(width) => f.write_str(&self.drawn(width)),
            None if self.rows.is_empty() => Ok(()),
            None => f.write_str(&self.plain()),
        }
    }
}

/// A two-column key/value table.
pub fn fields(rows: &[(&str, String)]) {
    let mut t = Table {
        header: Vec::new(),
        rows: Vec::new(),
    };
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v.clone()]);
    }
    println!("{t}");
}

/// A table with the given header.
pub fn table(header: &[&str]) -> Table {
    Table {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows: Vec::new(),
    }
}

/// An instant as both CLIs print it in text: `2026-12-01 22:41 UTC` (`--json` keeps RFC 3339).
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A day (a due date, a deadline's day): `2026-12-31`.
pub fn day(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Under a page of a list: how to get the next one.
pub fn more(next_cursor: Option<&str>, command: &str) {
    if let Some(next) = next_cursor {
        println!("more: {command} --cursor {next}");
    }
}

/// Paise as rupees: `₹1,499.00`.
pub fn rupees(paise: i64) -> String {
    let rupees = paise / 100;
    let digits = rupees.to_string();
    // Indian grouping: the last three digits, then groups of two.
    let (head, tail) = digits.split_at(digits.len().saturating_sub(3));
    let mut groups = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.insert(0, b.to_owned());
        rest = a;
    }
    if !rest.is_empty() {
        groups.insert(0, rest.to_owned());
    }
    groups.push(tail.to_owned());
    format!("₹{}.{:02}", groups.join(","), paise % 100)
}

/// `n` things, in words that agree: `1 credit`, `2 credits`.
pub fn count(n: i64, one: &str) -> String {
    if n == 1 || n == -1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_use_indian_grouping() {
        assert_eq!(rupees(49_900), "₹499.00");
        assert_eq!(rupees(149_900), "₹1,499.00");
        assert_eq!(rupees(12_345_678_950), "₹12,34,56,789.50");
    }

    #[test]
    fn a_table_fits_the_width_and_is_plain_rows_for_programs() {
        let mut t = table(&["id", "prompt"]);
        t.add_row(vec![
            "rnd_1".into(),
            "an oak dining table with brass legs ".repeat(6),
        ]);
        t.add_row(vec!["rnd_2".into(), "a\tcane chair".into()]);
        for line in t.drawn(80).lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let plain = t.plain();
        assert_eq!(plain.lines().count(), 2, "no header, one line a row");
        assert!(
            plain.lines().nth(1) == Some("rnd_2\ta cane chair"),
            "{plain}"
        );
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "credit"), "1 credit");
        assert_eq!(count(0, "credit"), "0 credits");
        assert_eq!(count(12, "credit"), "12 credits");
    }
}
