//! `spreadsheets.values.append` (table detection, OVERWRITE / INSERT_ROWS, grid growth) and
//! `values.clear` / `batchClear`.

use serde_json::{json, Map, Value};

use super::a1;
use super::http::Query;
use super::metadata::{self, Dimension};
use super::model::{Sheet, Spreadsheet};
use super::ranges::{self, Resolved};
use super::spreadsheets::check_cell_limit;
use super::store::Store;
use super::user_entered::InputOption;
use super::values::parse_major;
use super::values_write::{as_rows, update_values_response, write_grid, ResponseOptions};
use crate::error::ApiError;

/// The "table" `values.append` appends to: the first block of consecutive non-empty rows (looking
/// only at the range's columns) that starts within the range. `(first row, end row, first
/// column, end column)`.
fn find_table(sheet: &Sheet, range: &Resolved) -> Option<(u32, u32, u32, u32)> {
    let (start_column, end_column) = if range.single_cell {
        (range.start_column, sheet.column_count)
    } else {
        (range.start_column, range.end_column)
    };
    let stored_end = range.end_row.min(sheet.rows.len() as u32);
    let end_search = if range.single_cell {
        sheet.rows.len() as u32
    } else {
        stored_end
    };
    // A single-cell range (gspread's `insert_rows` appends at `A{row}` into rows it just
    // inserted) only continues a table that starts at that cell's row; a larger range looks
    // for the first table below its start.
    if range.single_cell && !sheet.row_has_value(range.start_row, start_column, end_column) {
        return None;
    }
    let first = (range.start_row..end_search)
        .find(|row| sheet.row_has_value(*row, start_column, end_column))?;
    // The table is found within the range but may continue below it (`Sheet1!A1:E1`
    // appends after the last row of the table that starts there).
    let stored_rows = sheet.rows.len() as u32;
    let mut end = first;
    while end < stored_rows && sheet.row_has_value(end, start_column, end_column) {
        end += 1;
    }
    let (mut left, mut right) = (u32::MAX, 0);
    for row in first..end {
        for (column, cell) in sheet.rows[row as usize].iter().enumerate() {
            let column = column as u32;
            if cell.value.is_some() && column >= start_column && column < end_column {
                left = left.min(column);
                right = right.max(column + 1);
            }
        }
    }
    Some((first, end, left, right))
}

pub fn append(
    store: &Store,
    spreadsheet_id: &str,
    range: &str,
    query: &Query,
    body: &Value,
) -> Result<Value, ApiError> {
    let option = InputOption::parse(query.get("valueInputOption"))?;
    let insert_rows = match query.get("insertDataOption") {
        None | Some("OVERWRITE") => false,
        Some("INSERT_ROWS") => true,
        Some(other) => {
            return Err(ApiError::invalid_argument(format!(
                "Invalid value at 'insert_data_option' (type.googleapis.com/google.apps.sheets.v4.InsertDataOption), \"{other}\""
            )))
        }
    };
    let major = parse_major(body.get("majorDimension").and_then(Value::as_str))?;
    let rows = as_rows(body, major)?;
    let response_options = ResponseOptions::from_query(query)?;
    store.write(spreadsheet_id, |spreadsheet, _| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        let sheet = &spreadsheet.sheets[resolved.sheet_index];
        let table = find_table(sheet, &resolved);
        let (write_row, write_column) = match table {
            Some((_, end, left, _)) => (end, left),
            None => (resolved.start_row, resolved.start_column),
        };
        let table_range = table.map(|(first, end, left, right)| {
            a1::format_range(&sheet.title, first, end, left, right)
        });
        let height = rows.len() as u32;
        let width = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
        let sheet_id = sheet.sheet_id;
        let sheet = &mut spreadsheet.sheets[resolved.sheet_index];
        if insert_rows && height > 0 {
            sheet.insert_rows(write_row, height);
        }
        // Appending past the end of the grid grows it, as Google does.
        if write_row + height > sheet.row_count {
            sheet.row_count = write_row + height;
        }
        if write_column + width > sheet.column_count {
            sheet.column_count = write_column + width;
        }
        if insert_rows && height > 0 {
            metadata::shift_for_insert(spreadsheet, sheet_id, Dimension::Rows, write_row, height);
        }
        check_cell_limit(spreadsheet)?;
        let target = Resolved {
            start_row: write_row,
            start_column: write_column,
            single_cell: true,
            ..resolved
        };
        let written = write_grid(spreadsheet, &target, &rows, option, false)?;
        let mut response = Map::new();
        response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
        if let Some(table_range) = table_range {
            response.insert("tableRange".into(), json!(table_range));
        }
        response.insert(
            "updates".into(),
            update_values_response(spreadsheet, &written, &target, &response_options),
        );
        Ok(Value::Object(response))
    })
}

fn clear_range(spreadsheet: &mut Spreadsheet, text: &str) -> Result<String, ApiError> {
    let resolved = ranges::resolve(spreadsheet, text)?;
    let sheet = &mut spreadsheet.sheets[resolved.sheet_index];
    let last_row = resolved.end_row.min(sheet.rows.len() as u32);
    for row in resolved.start_row..last_row {
        let stored = sheet.rows[row as usize].len() as u32;
        let last_column = resolved.end_column.min(stored);
        if (resolved.start_column..last_column).any(|column| {
            sheet
                .cell(row, column)
                .is_some_and(|cell| cell.value.is_some())
        }) {
            for column in resolved.start_column..last_column {
                sheet.cell_mut(row, column).value = None;
            }
        }
    }
    Ok(resolved.format(sheet))
}

pub fn clear(store: &Store, spreadsheet_id: &str, range: &str) -> Result<Value, ApiError> {
    store.write(spreadsheet_id, |spreadsheet, _| {
        let cleared = clear_range(spreadsheet, range)?;
        Ok(json!({"spreadsheetId": spreadsheet.spreadsheet_id, "clearedRange": cleared}))
    })
}

pub fn batch_clear(store: &Store, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
    let texts: Vec<String> = body
        .get("ranges")
        .and_then(Value::as_array)
        .map(|ranges| {
            ranges
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    store.write(spreadsheet_id, |spreadsheet, _| {
        let cleared = texts
            .iter()
            .map(|text| clear_range(spreadsheet, text))
            .collect::<Result<Vec<_>, _>>()?;
        let mut response = json!({"spreadsheetId": spreadsheet.spreadsheet_id});
        if !cleared.is_empty() {
            response["clearedRanges"] = json!(cleared);
        }
        Ok(response)
    })
}
