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

/// A table with the given header.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
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
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "credit"), "1 credit");
        assert_eq!(count(0, "credit"), "0 credits");
        assert_eq!(count(12, "credit"), "12 credits");
    }
}
