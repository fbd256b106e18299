//! An edit message turned into typed work, before any SQL runs.
//!
//! Consumes a validated edit and the table's [`TableInfo`]; produces one [`PlannedRow`] per
//! edited sheet row: its key (existing, new, or unusable), each edited cell converted to its
//! column's type, and a [`CellError`] for each cell that could not be converted (the rest of
//! the row and message still apply). Pure. Key cells are never updated through an edit: a
//! person changing a key cell is refused (the row would lose its identity), and key values of
//! a pasted row are the row's identity, not cells to write.

use super::columns::TableInfo;
use super::convert::{convert_cell, convert_old_value};
use super::typed::{days_from_civil, Date, Typed};
use crate::webhook::{CellError, CellValue, EditedRow};

#[derive(Debug, Clone, PartialEq)]
pub enum PlannedKey {
    /// The key the sheet shows, converted to the key columns' types.
    Existing(Vec<Typed>),
    /// Every key cell empty: a row typed into the sheet that the table does not have yet.
    New,
    /// A key cell that cannot be a key value (the errors say why).
    Invalid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCell {
    /// Index into `TableInfo::columns`.
    pub column: usize,
    pub value: Typed,
    /// The cell as typed, for conflict records and notes.
    pub typed_text: String,
    /// What the editor saw before (single-cell edits only): `Err` when it does not even fit
    /// the column, which means the database must have changed since.
    pub old: Option<Result<Typed, ()>>,
    pub old_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyEdit {
    /// The key the sheet shows now (where the row is found).
    pub shown: Vec<Typed>,
    /// (key column index, the value it had before the edit).
    pub previous: Vec<(usize, Typed)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow {
    pub sheet_row: u32,
    pub key: PlannedKey,
    pub cells: Vec<PlannedCell>,
    /// Cells refused before reaching the database: (column index, error).
    pub refused: Vec<(usize, CellError)>,
    /// Key cells the person changed: nothing of the row is applied, and the old key values
    /// go back into the sheet.
    pub key_edit: Option<KeyEdit>,
}

pub fn plan_row(row: &EditedRow, table: &TableInfo) -> PlannedRow {
    let mut refused = Vec::new();
    let key = plan_key(row, table, &mut refused);
    let mut cells = Vec::new();
    let mut key_edit: Option<KeyEdit> = None;
    for (name, cell) in &row.values {
        let Some(column) = table.column_index(name) else {
            refused.push((
                usize::MAX,
                CellError {
                    column: name.clone(),
                    message: format!("{name} is not a column of {}", table.display_name()),
                },
            ));
            continue;
        };
        let old_text = row
            .old_values
            .as_ref()
            .and_then(|old| old.get(name))
            .cloned();
        if table.is_key(column) {
            let changed_key = old_text
                .as_deref()
                .is_some_and(|old| !old.is_empty() && *old != request_text(cell));
            if changed_key {
                let previous = old_text.as_deref().and_then(|old| {
                    convert_old_value(old, &table.columns[column], &table.display.time_zone).ok()
                });
                if let (PlannedKey::Existing(shown), Some(previous)) = (&key, previous) {
                    key_edit
                        .get_or_insert_with(|| KeyEdit {
                            shown: shown.clone(),
                            previous: Vec::new(),
                        })
                        .previous
                        .push((column, previous));
                }
                refused.push((
                    column,
                    CellError {
                        column: name.clone(),
                        message: "key cells cannot be changed in the sheet; change the key in \
                                  the database"
                            .into(),
                    },
                ));
            }
            continue;
        }
        let info = &table.columns[column];
        match convert_cell(cell, info, &table.display.time_zone) {
            Ok(value) => cells.push(PlannedCell {
                column,
                value,
                typed_text: request_text(cell),
                old: old_text.as_deref().map(|old| {
                    convert_old_value(old, info, &table.display.time_zone).map_err(|_| ())
                }),
                old_text,
            }),
            Err(message) => refused.push((
                column,
                CellError {
                    column: name.clone(),
                    message,
                },
            )),
        }
    }
    PlannedRow {
        sheet_row: row.row,
        key,
        cells,
        refused,
        key_edit,
    }
}

fn plan_key(
    row: &EditedRow,
    table: &TableInfo,
    refused: &mut Vec<(usize, CellError)>,
) -> PlannedKey {
    if row.is_new() {
        return PlannedKey::New;
    }
    let mut values = Vec::with_capacity(table.key.len());
    for index in &table.key {
        let column = &table.columns[*index];
        let cell = row
            .key
            .get(column.name.as_ref())
            .unwrap_or(&CellValue::Empty);
        let converted = if cell.is_empty() {
            Err(format!("the key cell {} is empty", column.name))
        } else {
            convert_cell(cell, column, &table.display.time_zone)
        };
        match converted {
            Ok(value) => values.push(value),
            Err(message) => {
                refused.push((
                    *index,
                    CellError {
                        column: column.name.to_string(),
                        message: format!("the row's key is not usable: {message}"),
                    },
                ));
                return PlannedKey::Invalid;
            }
        }
    }
    PlannedKey::Existing(values)
}

/// A request cell as text (for notes and the conflicts table).
pub fn request_text(cell: &CellValue) -> String {
    super::cells::request_key_text(cell)
}

/// `2026-01-01T12:00:00.000Z` → unix milliseconds (the parser already checked the shape).
pub fn iso_milliseconds(text: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .and_then(|part| part.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let date = Date {
        year: number(0..4) as i32,
        month: number(5..7) as u8,
        day: number(8..10) as u8,
    };
    let seconds = days_from_civil(date) * 86_400
        + number(11..13) * 3600
        + number(14..16) * 60
        + number(17..19);
    seconds * 1000 + number(20..23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_become_milliseconds() {
        assert_eq!(iso_milliseconds("1970-01-01T00:00:01.250Z"), 1_250);
        assert_eq!(
            iso_milliseconds("2026-01-01T00:00:00.000Z"),
            1_767_225_600_000
        );
    }
}
