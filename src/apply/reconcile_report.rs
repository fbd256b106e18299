//! What `sheetsync reconcile` prints: per mapping, the rows only in the tab, the rows only in
//! the table, and each differing cell with both values; then what the repair did.
//!
//! Consumes a [`TabDiff`] (and a [`RepairSummary`]); produces plain text, one finding a line,
//! stable and greppable:
//!
//! ```text
//! mapping items (shop.items ⇄ tab Items): 3 rows in the tab, 3 in the table, 3 differences
//!   only in the table: key 3
//!   only in the tab:   key 9 (sheet row 4)
//!   cell differs:      key 2, column name (sheet row 3): tab "B", table "b"
//!   repaired: 2 rows written to the sheet, 0 rows written to the table, 1 left as is
//! ```
//!
//! Text values are quoted (JSON string escaping, so control characters stay on one line),
//! numbers and booleans are bare, an empty cell is `empty`, NULL is `NULL`. A table value whose
//! cell is a serial number (dates, times) also shows as MySQL prints it. Pure.

use std::fmt::Write as _;

use super::reconcile::{Drift, RepairSummary, TabDiff};
use crate::webhook::CellValue;

/// The diff of one mapping.
pub fn render_diff(diff: &TabDiff) -> String {
    let mut text = String::new();
    let differences = diff.drift.len();
    let _ = writeln!(
        text,
        "mapping {} ({} ⇄ tab {}): {} rows in the tab, {} in the table, {}",
        diff.mapping,
        diff.table,
        diff.sheet,
        diff.rows_in_sheet,
        diff.rows_in_database,
        match differences {
            0 => "no differences".to_string(),
            1 => "1 difference".to_string(),
            count => format!("{count} differences"),
        }
    );
    for drift in &diff.drift {
        let _ = match drift {
            Drift::MissingInSheet { key } => {
                writeln!(text, "  only in the table: key {}", key_text(&key.0))
            }
            Drift::MissingInDatabase { key, sheet_row } => writeln!(
                text,
                "  only in the tab:   key {} (sheet row {sheet_row})",
                key_text(&key.0)
            ),
            Drift::Cell {
                key,
                sheet_row,
                column,
                sheet,
                database,
                database_text,
            } => writeln!(
                text,
                "  cell differs:      key {}, column {column} (sheet row {sheet_row}): tab {}, table {}",
                key_text(&key.0),
                sheet_value(sheet),
                table_value(database, database_text)
            ),
        };
    }
    text
}

/// The repair's line, indented under its mapping.
pub fn render_repair(summary: &RepairSummary) -> String {
    let mut text = format!(
        "  repaired: {} rows written to the sheet, {} rows written to the table, {} left as is",
        summary.sheet_writes, summary.database_rows, summary.left
    );
    if summary.changed_meanwhile > 0 {
        let _ = write!(
            text,
            ", {} changed in the database meanwhile (the stream updates them)",
            summary.changed_meanwhile
        );
    }
    text.push('\n');
    text
}

fn key_text(parts: &[String]) -> String {
    parts
        .iter()
        .map(|part| quote_if_needed(part))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keys are bare when they are plain words or numbers, quoted otherwise.
fn quote_if_needed(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|character| character.is_alphanumeric() || "-_.:@".contains(character));
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

fn sheet_value(cell: &CellValue) -> String {
    match cell {
        CellValue::Empty => "empty".into(),
        CellValue::Boolean(flag) => if *flag { "TRUE" } else { "FALSE" }.into(),
        CellValue::Number(number) => crate::sync::number_key_text(*number),
        CellValue::Text(text) => quoted(text),
    }
}

/// `database` is the cell's canonical text, `database_text` the value as MySQL prints it.
fn table_value(database: &str, database_text: &str) -> String {
    if database_text == "NULL" {
        return "NULL".into();
    }
    if database.parse::<f64>().is_ok() {
        if database == database_text || database_text.parse::<f64>().is_ok() {
            database.to_string()
        } else {
            format!("{database} ({database_text})")
        }
    } else {
        quoted(database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::RowKey;

    #[test]
    fn a_diff_reads_one_finding_a_line() {
        let key = |text: &str| RowKey(vec![text.to_string()]);
        let diff = TabDiff {
            mapping: "items".into(),
            table: "shop.items".into(),
            sheet: "Items".into(),
            rows_in_sheet: 3,
            rows_in_database: 3,
            drift: vec![
                Drift::MissingInSheet { key: key("3") },
                Drift::MissingInDatabase {
                    key: key("a b"),
                    sheet_row: 4,
                },
                Drift::Cell {
                    key: key("2"),
                    sheet_row: 3,
                    column: "name".into(),
                    sheet: CellValue::Text("B\n".into()),
                    database: "b".into(),
                    database_text: "b".into(),
                },
                Drift::Cell {
                    key: key("2"),
                    sheet_row: 3,
                    column: "due".into(),
                    sheet: CellValue::Empty,
                    database: "45351".into(),
                    database_text: "2024-02-29".into(),
                },
                Drift::Cell {
                    key: key("2"),
                    sheet_row: 3,
                    column: "qty".into(),
                    sheet: CellValue::Number(7.0),
                    database: String::new(),
                    database_text: "NULL".into(),
                },
            ],
        };
        assert_eq!(
            render_diff(&diff),
            "mapping items (shop.items ⇄ tab Items): 3 rows in the tab, 3 in the table, 5 differences\n\
             \x20 only in the table: key 3\n\
             \x20 only in the tab:   key \"a b\" (sheet row 4)\n\
             \x20 cell differs:      key 2, column name (sheet row 3): tab \"B\\n\", table \"b\"\n\
             \x20 cell differs:      key 2, column due (sheet row 3): tab empty, table 45351 (2024-02-29)\n\
             \x20 cell differs:      key 2, column qty (sheet row 3): tab 7, table NULL\n"
        );
        let clean = TabDiff {
            drift: Vec::new(),
            ..diff
        };
        assert!(render_diff(&clean).ends_with("3 in the table, no differences\n"));
        let summary = RepairSummary {
            sheet_writes: 2,
            database_rows: 0,
            left: 1,
            changed_meanwhile: 1,
        };
        assert_eq!(
            render_repair(&summary),
            "  repaired: 2 rows written to the sheet, 0 rows written to the table, 1 left as is, 1 changed in the database meanwhile (the stream updates them)\n"
        );
    }
}
