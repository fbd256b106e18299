//! The cell-writing requests of `spreadsheets.batchUpdate`: `updateCells`, `appendCells`,
//! `repeatCell`.

use serde_json::Value;

use super::cells::{apply_cell_data, required_mask};
use super::field_mask::FieldMask;
use super::model::{Sheet, Spreadsheet};
use super::ranges::{self, exceeds_grid, integer, no_grid};
use super::spreadsheets::check_cell_limit;
use crate::error::ApiError;

pub(super) fn rows_of(request: &Value) -> Result<Vec<Vec<Value>>, ApiError> {
    let Some(rows) = request.get("rows") else {
        return Ok(Vec::new());
    };
    let rows = rows
        .as_array()
        .ok_or_else(|| ApiError::invalid_argument("rows must be a list of RowData."))?;
    Ok(rows
        .iter()
        .map(|row| {
            row.get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect())
}

/// Write `rows` of `CellData` with their top-left at `(start_row, start_column)`.
pub(super) fn write_rows(
    sheet: &mut Sheet,
    rows: &[Vec<Value>],
    start_row: u32,
    start_column: u32,
    mask: &FieldMask,
) -> Result<(), ApiError> {
    let height = rows.len() as u32;
    let width = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    if height > 0
        && width > 0
        && (start_row + height > sheet.row_count || start_column + width > sheet.column_count)
    {
        return Err(exceeds_grid(
            sheet,
            start_row,
            start_row + height,
            start_column,
            start_column + width,
        ));
    }
    for (row_offset, cells) in rows.iter().enumerate() {
        for (column_offset, data) in cells.iter().enumerate() {
            let row = start_row + row_offset as u32;
            let column = start_column + column_offset as u32;
            // Clearing an untouched cell needs no storage.
            let clears = data.as_object().is_none_or(|object| object.is_empty());
            if clears && sheet.cell(row, column).is_none_or(|cell| cell.is_empty()) {
                continue;
            }
            apply_cell_data(sheet.cell_mut(row, column), data, mask)?;
        }
    }
    Ok(())
}

pub fn update_cells(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let mask = required_mask(request.get("fields"))?;
    let rows = rows_of(request)?;
    if let Some(start) = request.get("start") {
        let sheet_id = integer(start.get("sheetId")).unwrap_or(0);
        let row = ranges::clamp_index(integer(start.get("rowIndex")).unwrap_or(0));
        let column = ranges::clamp_index(integer(start.get("columnIndex")).unwrap_or(0));
        let sheet = spreadsheet
            .sheet_by_id_mut(sheet_id)
            .ok_or_else(|| no_grid(sheet_id))?;
        write_rows(sheet, &rows, row, column, &mask)?;
        return Ok(Value::Object(Default::default()));
    }
    let Some(range) = request.get("range") else {
        return Err(ApiError::invalid_argument(
            "Either start or range must be specified.",
        ));
    };
    let resolved = ranges::resolve_grid_range(spreadsheet, range)?;
    let sheet = &mut spreadsheet.sheets[resolved.sheet_index];
    // With a range, masked fields of cells the rows do not cover are cleared; data outside the
    // range is ignored.
    let clear = Value::Object(Default::default());
    let last_row = resolved
        .end_row
        .min((sheet.rows.len() as u32).max(resolved.start_row + rows.len() as u32));
    for row in resolved.start_row..last_row {
        let offset = (row - resolved.start_row) as usize;
        let given = rows.get(offset);
        let stored = sheet
            .rows
            .get(row as usize)
            .map_or(0, |cells| cells.len() as u32);
        let given_width = given.map_or(0, |cells| cells.len() as u32);
        let last_column = resolved
            .end_column
            .min(stored.max(resolved.start_column + given_width));
        for column in resolved.start_column..last_column {
            let data = given
                .and_then(|cells| cells.get((column - resolved.start_column) as usize))
                .unwrap_or(&clear);
            let clears = data.as_object().is_none_or(|object| object.is_empty());
            if clears && sheet.cell(row, column).is_none_or(|cell| cell.is_empty()) {
                continue;
            }
            apply_cell_data(sheet.cell_mut(row, column), data, &mask)?;
        }
    }
    Ok(Value::Object(Default::default()))
}

pub fn append_cells(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let mask = required_mask(request.get("fields"))?;
    let rows = rows_of(request)?;
    let sheet_id = integer(request.get("sheetId")).unwrap_or(0);
    let sheet = spreadsheet
        .sheet_by_id_mut(sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    let start_row = sheet.used_row_end();
    let width = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    // appendCells inserts rows (and columns) when the data does not fit.
    sheet.row_count = sheet.row_count.max(start_row + rows.len() as u32);
    sheet.column_count = sheet.column_count.max(width);
    write_rows(sheet, &rows, start_row, 0, &mask)?;
    check_cell_limit(spreadsheet)?;
    Ok(Value::Object(Default::default()))
}

pub fn repeat_cell(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let mask = required_mask(request.get("fields"))?;
    let range = request
        .get("range")
        .ok_or_else(|| ApiError::invalid_argument("range must be specified."))?;
    let resolved = ranges::resolve_grid_range(spreadsheet, range)?;
    let data = request
        .get("cell")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let sheet = &mut spreadsheet.sheets[resolved.sheet_index];
    for row in resolved.start_row..resolved.end_row {
        for column in resolved.start_column..resolved.end_column {
            apply_cell_data(sheet.cell_mut(row, column), &data, &mask)?;
        }
    }
    Ok(Value::Object(Default::default()))
}

/// `copyPaste`, modelled for a range pasted onto itself only — what sheetsync's grid guard sends:
/// both ranges are validated like every `GridRange` (outside the grid: `exceeds grid limits`),
/// then nothing changes. Any other copy is refused as not modelled, so a client relying on it
/// fails loudly here rather than passing against an emulator that ignored it.
pub fn copy_paste(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let range = |name: &str| {
        request
            .get(name)
            .ok_or_else(|| ApiError::invalid_argument(format!("{name} must be specified.")))
    };
    let source = ranges::resolve_grid_range(spreadsheet, range("source")?)?;
    let destination = ranges::resolve_grid_range(spreadsheet, range("destination")?)?;
    if source != destination {
        return Err(ApiError::invalid_argument(
            "the emulator models copyPaste of a range onto itself only",
        ));
    }
    Ok(Value::Object(Default::default()))
}
