//! What a person does to a tab in the Sheets UI, applied to the store: type or paste cells,
//! insert or delete rows (sorting is in `sort.rs`).
//!
//! Consumes the request bodies of the admin calls (also the Rust API's arguments); produces the
//! tab as it is right after the change (the snapshot the trigger reads) and, for edits, the
//! `onEdit` event with Google's `e.oldValue`. Guarantees: each change is one atomic store write
//! with the API's semantics (typed text is parsed as `USER_ENTERED`; inserted and deleted rows go
//! through `insertDimension`/`deleteDimension`, so developer metadata moves as it does for the
//! API); a change the UI could not make (outside the grid, an unknown tab) changes nothing.

use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};

use super::error::PersonError;
use super::message::{event_text, last_row, EditEvent};
use crate::api::a1;
use crate::api::model::{Cell, Sheet, Spreadsheet};
use crate::api::user_entered::{interpret, Input, InputOption};
use crate::api::Store;
use crate::error::ApiError;

/// Cells typed or pasted: one cell (`value`) or a rectangle (`values`), top-left at `cell`
/// (A1, e.g. `"C2"`) or at `row`/`column` (1-based).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub spreadsheet_id: String,
    pub sheet: String,
    #[serde(default)]
    pub cell: Option<String>,
    #[serde(default)]
    pub row: Option<u32>,
    #[serde(default)]
    pub column: Option<u32>,
    /// One cell's new value: text is typed (`"12"` becomes a number, `"2026-01-02"` a date),
    /// numbers and booleans are kept, `null` or `""` clears the cell.
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Value>,
    /// A pasted block, rows of values typed as `value` is.
    #[serde(default)]
    pub values: Option<Vec<Vec<Value>>>,
    /// The editor's email as the trigger reports it; default: the webhook target's `user`.
    #[serde(default)]
    pub user: Option<String>,
}

impl Edit {
    /// One cell typed at `cell` (A1).
    pub fn cell(spreadsheet_id: &str, sheet: &str, cell: &str, value: Value) -> Edit {
        Edit {
            spreadsheet_id: spreadsheet_id.into(),
            sheet: sheet.into(),
            cell: Some(cell.into()),
            value: Some(value),
            ..Edit::default()
        }
    }

    /// A block pasted with its top-left at `cell` (A1).
    pub fn paste(spreadsheet_id: &str, sheet: &str, cell: &str, values: Vec<Vec<Value>>) -> Edit {
        Edit {
            spreadsheet_id: spreadsheet_id.into(),
            sheet: sheet.into(),
            cell: Some(cell.into()),
            values: Some(values),
            ..Edit::default()
        }
    }

    /// The same edit made by `user`.
    pub fn by(mut self, user: &str) -> Edit {
        self.user = Some(user.into());
        self
    }
}

/// A `null` that is there is a value (clear the cell), unlike a missing field.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A new row typed cell by cell, left to right, key cells left empty (the service assigns the
/// key). `row` defaults to the row after the last one holding a value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddRow {
    pub spreadsheet_id: String,
    pub sheet: String,
    /// Header name → value, typed as [`Edit::value`] is.
    pub values: Map<String, Value>,
    #[serde(default)]
    pub row: Option<u32>,
    #[serde(default)]
    pub user: Option<String>,
}

/// Rows deleted, or blank rows inserted before `row` (1-based; the new rows get its number).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowSpan {
    pub spreadsheet_id: String,
    pub sheet: String,
    pub row: u32,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub user: Option<String>,
}

fn one() -> u32 {
    1
}

/// The tab after the change, for the trigger to read.
pub struct Changed {
    pub sheet: Sheet,
}

/// Apply typed or pasted cells; returns the tab after the edit and the `onEdit` event.
pub fn edit(store: &Store, request: &Edit) -> Result<(Changed, EditEvent), PersonError> {
    let (row, column) = anchor(request)?;
    let grid = match (&request.value, &request.values) {
        (Some(value), None) => vec![vec![value.clone()]],
        (None, Some(values))
            if !values.is_empty() && values.iter().all(|line| !line.is_empty()) =>
        {
            values.clone()
        }
        (None, Some(_)) => return Err(PersonError::invalid("`values` must be non-empty rows")),
        _ => {
            return Err(PersonError::invalid(
                "give exactly one of `value` and `values`",
            ))
        }
    };
    let height = grid.len() as u32;
    let width = grid.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let result = store.write(&request.spreadsheet_id, |spreadsheet, _| {
        let sheet = sheet_mut(spreadsheet, &request.sheet)?;
        // In u64: a row number near u32::MAX from a request must not overflow.
        let last_row = u64::from(row) - 1 + u64::from(height);
        let last_column = u64::from(column) - 1 + u64::from(width);
        if last_row > u64::from(sheet.row_count) || last_column > u64::from(sheet.column_count) {
            return Err(ApiError::invalid_argument(format!(
                "the edit ends at row {last_row}, column {last_column}, outside the tab's {} rows and {} columns",
                sheet.row_count,
                sheet.column_count
            )));
        }
        let single_cell = height == 1 && width == 1;
        let old_value = sheet
            .cell(row - 1, column - 1)
            .and_then(|cell| cell.value.as_ref())
            .filter(|_| single_cell)
            .map(event_text);
        for (row_offset, line) in grid.iter().enumerate() {
            for (column_offset, value) in line.iter().enumerate() {
                let cell = sheet.cell_mut(
                    row - 1 + row_offset as u32,
                    column - 1 + column_offset as u32,
                );
                type_into(cell, value)?;
            }
        }
        let event = EditEvent {
            first_row: row,
            first_column: column,
            rows: height,
            columns: width,
            old_value,
        };
        Ok((
            Changed {
                sheet: sheet.clone(),
            },
            event,
        ))
    })?;
    Ok(result)
}

/// The 1-based top-left cell of an edit.
fn anchor(request: &Edit) -> Result<(u32, u32), PersonError> {
    match (&request.cell, request.row, request.column) {
        (Some(cell), None, None) => a1::parse_bare(cell)
            .filter(|span| span.single_cell)
            .and_then(|span| Some((span.start_row? + 1, span.start_column? + 1)))
            .ok_or_else(|| {
                PersonError::invalid(format!("`cell` {cell:?} is not one A1 cell such as \"C2\""))
            }),
        (None, Some(row), Some(column)) if row >= 1 && column >= 1 => Ok((row, column)),
        _ => Err(PersonError::invalid(
            "give `cell` (A1, e.g. \"C2\") or `row` and `column` (1-based)",
        )),
    }
}

/// What typing `value` into a cell does: text parsed as the UI parses it, `null`/`""` clears.
pub(super) fn type_into(cell: &mut Cell, value: &Value) -> Result<(), ApiError> {
    if value.is_null() {
        cell.value = None;
        return Ok(());
    }
    match interpret(value, InputOption::UserEntered)? {
        Input::Skip => {}
        Input::Clear => cell.value = None,
        Input::Set(value, number_format) => {
            cell.value = Some(value);
            if let Some(number_format) = number_format {
                let mut format = cell
                    .format
                    .take()
                    .map(|format| *format)
                    .unwrap_or_else(|| json!({}));
                format["numberFormat"] = number_format;
                cell.format = Some(Box::new(format));
            }
        }
    }
    Ok(())
}

/// The cells of a new row, in header order: `(row, column, value)`, 1-based.
pub fn new_row_cells(
    store: &Store,
    request: &AddRow,
) -> Result<Vec<(u32, u32, Value)>, PersonError> {
    let sheet = snapshot(store, &request.spreadsheet_id, &request.sheet)?;
    let header = super::message::read_header(&sheet, super::message::last_column(&sheet));
    let row = request.row.unwrap_or_else(|| last_row(&sheet) + 1).max(2);
    let mut cells = Vec::new();
    for (name, value) in &request.values {
        let column = header
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| {
                PersonError::invalid(format!(
                    "column {name:?} is not in the header of {:?}",
                    request.sheet
                ))
            })?;
        if !value.is_null() {
            // Refuse a value the UI would refuse before typing any cell of the row.
            interpret(value, InputOption::UserEntered)?;
        }
        cells.push((row, column as u32 + 1, value.clone()));
    }
    if cells.is_empty() {
        return Err(PersonError::invalid("`values` names no column"));
    }
    cells.sort_by_key(|(_, column, _)| *column);
    Ok(cells)
}

/// Delete rows `row..row+count` (1-based) as the UI's "Delete rows" does.
pub fn delete_rows(store: &Store, request: &RowSpan) -> Result<Changed, PersonError> {
    dimension_change(store, request, "deleteDimension", false)
}

/// Insert `count` blank rows before `row` (1-based) as "Insert rows above" does.
pub fn insert_rows(store: &Store, request: &RowSpan) -> Result<Changed, PersonError> {
    dimension_change(store, request, "insertDimension", request.row > 1)
}

fn dimension_change(
    store: &Store,
    request: &RowSpan,
    kind: &str,
    inherit_from_before: bool,
) -> Result<Changed, PersonError> {
    if request.row < 1 || request.count < 1 || request.row.checked_add(request.count).is_none() {
        return Err(PersonError::invalid(
            "`row` and `count` must be at least 1 and within the grid",
        ));
    }
    let sheet_id = snapshot(store, &request.spreadsheet_id, &request.sheet)?.sheet_id;
    let range = json!({
        "sheetId": sheet_id,
        "dimension": "ROWS",
        "startIndex": request.row - 1,
        "endIndex": request.row - 1 + request.count,
    });
    let mut change = json!({ "range": range });
    if kind == "insertDimension" {
        change["inheritFromBefore"] = json!(inherit_from_before);
    }
    store.batch_update(
        &request.spreadsheet_id,
        &json!({ "requests": [{ kind: change }] }),
    )?;
    Ok(Changed {
        sheet: snapshot(store, &request.spreadsheet_id, &request.sheet)?,
    })
}

/// A copy of one tab (rows are shared, so this is cheap).
pub fn snapshot(store: &Store, spreadsheet_id: &str, title: &str) -> Result<Sheet, PersonError> {
    Ok(store.read(spreadsheet_id, |spreadsheet| {
        let index = sheet_index(spreadsheet, title)?;
        Ok(spreadsheet.sheets[index].clone())
    })?)
}

pub(super) fn sheet_mut<'a>(
    spreadsheet: &'a mut Spreadsheet,
    title: &str,
) -> Result<&'a mut Sheet, ApiError> {
    let index = sheet_index(spreadsheet, title)?;
    Ok(&mut spreadsheet.sheets[index])
}

fn sheet_index(spreadsheet: &Spreadsheet, title: &str) -> Result<usize, ApiError> {
    spreadsheet
        .sheets
        .iter()
        .position(|sheet| sheet.title == title)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no tab named {title:?} in spreadsheet {}",
                spreadsheet.spreadsheet_id
            ))
        })
}
