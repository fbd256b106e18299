//! `spreadsheets.values.update` and `batchUpdate`: writing a grid of values with RAW or
//! USER_ENTERED, and the `UpdateValuesResponse`.

use serde_json::{json, Map, Value};

use super::a1;
use super::http::Query;
use super::model::Spreadsheet;
use super::ranges::{self, exceeds_grid, Resolved};
use super::render::{DateTimeRender, ValueRender};
use super::store::Store;
use super::user_entered::{interpret, Input, InputOption};
use super::values::{parse_major, value_range, Major, ReadOptions};
use crate::error::ApiError;

/// What one write did, for `UpdateValuesResponse`.
pub(super) struct Written {
    sheet_index: usize,
    start_row: u32,
    end_row: u32,
    start_column: u32,
    end_column: u32,
    rows: u32,
    columns: u32,
    cells: u32,
}

/// The `values` array as a row-major grid of JSON values.
pub(super) fn as_rows(body: &Value, major: Major) -> Result<Vec<Vec<Value>>, ApiError> {
    let lines = match body.get("values") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(lines)) => lines,
        Some(other) => return Err(ApiError::invalid_argument(format!("Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), {other}"))),
    };
    let mut grid: Vec<Vec<Value>> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let line = line.as_array().ok_or_else(|| {
            ApiError::invalid_argument(format!("Invalid value at 'data.values[{index}]' (type.googleapis.com/google.protobuf.ListValue), {line}"))
        })?;
        grid.push(line.clone());
    }
    if major == Major::Rows {
        return Ok(grid);
    }
    let height = grid.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..height)
        .map(|row| {
            grid.iter()
                .map(|column| column.get(row).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect())
}

/// Write a grid of values at the top-left of `range`. `bounded` enforces the range's explicit
/// ends ("Requested writing within range ..."); the grid's ends are always enforced.
pub(super) fn write_grid(
    spreadsheet: &mut Spreadsheet,
    range: &Resolved,
    rows: &[Vec<Value>],
    option: InputOption,
    bounded: bool,
) -> Result<Written, ApiError> {
    let height = rows.len() as u32;
    let width = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let sheet = &mut spreadsheet.sheets[range.sheet_index];
    if bounded && !range.single_cell {
        let requested = range.format(sheet);
        if !range.open_columns && range.start_column + width > range.end_column {
            return Err(ApiError::invalid_argument(format!(
                "Requested writing within range [{requested}], but tried writing to column [{}]",
                a1::column_letters(range.end_column)
            )));
        }
        if !range.open_rows && range.start_row + height > range.end_row {
            return Err(ApiError::invalid_argument(format!(
                "Requested writing within range [{requested}], but tried writing to row [{}]",
                range.end_row + 1
            )));
        }
    }
    if range.start_row + height > sheet.row_count || range.start_column + width > sheet.column_count
    {
        return Err(exceeds_grid(
            sheet,
            range.start_row,
            range.start_row + height,
            range.start_column,
            range.start_column + width,
        ));
    }
    let mut touched_columns = vec![false; width as usize];
    let (mut rows_written, mut cells_written) = (0, 0);
    for (row_offset, line) in rows.iter().enumerate() {
        let mut row_touched = false;
        for (column_offset, value) in line.iter().enumerate() {
            let input = interpret(value, option)?;
            if input == Input::Skip {
                continue;
            }
            let row = range.start_row + row_offset as u32;
            let column = range.start_column + column_offset as u32;
            // Clearing a cell that was never stored needs no allocation.
            if input == Input::Clear
                && sheet
                    .cell(row, column)
                    .is_none_or(|cell| cell.value.is_none())
            {
            } else {
                let cell = sheet.cell_mut(row, column);
                match input {
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
            }
            row_touched = true;
            cells_written += 1;
            touched_columns[column_offset] = true;
        }
        if row_touched {
            rows_written += 1;
        }
    }
    Ok(Written {
        sheet_index: range.sheet_index,
        start_row: range.start_row,
        end_row: range.start_row + height,
        start_column: range.start_column,
        end_column: range.start_column + width,
        rows: rows_written,
        columns: touched_columns.iter().filter(|touched| **touched).count() as u32,
        cells: cells_written,
    })
}

/// Options of a write call: the response rendering of `includeValuesInResponse`.
pub(super) struct ResponseOptions {
    pub(super) include_values: bool,
    pub(super) value_render: ValueRender,
    pub(super) date_render: DateTimeRender,
}

impl ResponseOptions {
    /// `values.update` and `values.append` take these as query parameters.
    pub(super) fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(Self {
            include_values: query.flag("includeValuesInResponse"),
            value_render: ValueRender::parse(query.get("responseValueRenderOption"))?,
            date_render: DateTimeRender::parse(query.get("responseDateTimeRenderOption"))?,
        })
    }

    /// `values.batchUpdate` takes the same three in its JSON body.
    pub(super) fn from_body(body: &Value) -> Result<Self, ApiError> {
        let text = |name: &str| body.get(name).and_then(Value::as_str);
        Ok(Self {
            include_values: body
                .get("includeValuesInResponse")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            value_render: ValueRender::parse(text("responseValueRenderOption"))?,
            date_render: DateTimeRender::parse(text("responseDateTimeRenderOption"))?,
        })
    }
}

pub(super) fn update_values_response(
    spreadsheet: &Spreadsheet,
    written: &Written,
    requested: &Resolved,
    options: &ResponseOptions,
) -> Value {
    let sheet = &spreadsheet.sheets[written.sheet_index];
    let mut response = Map::new();
    response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
    let updated_range =
        if written.end_row > written.start_row && written.end_column > written.start_column {
            a1::format_range(
                &sheet.title,
                written.start_row,
                written.end_row,
                written.start_column,
                written.end_column,
            )
        } else {
            requested.format(sheet)
        };
    response.insert("updatedRange".into(), json!(updated_range));
    // proto3 JSON leaves out zero counts.
    for (name, count) in [
        ("updatedRows", written.rows),
        ("updatedColumns", written.columns),
        ("updatedCells", written.cells),
    ] {
        if count > 0 {
            response.insert(name.into(), json!(count));
        }
    }
    if options.include_values {
        let range = Resolved {
            sheet_index: written.sheet_index,
            start_row: written.start_row,
            end_row: written.end_row.max(written.start_row + 1),
            start_column: written.start_column,
            end_column: written.end_column.max(written.start_column + 1),
            single_cell: false,
            open_rows: false,
            open_columns: false,
        };
        let read = ReadOptions {
            major: Major::Rows,
            value_render: options.value_render,
            date_render: options.date_render,
        };
        response.insert("updatedData".into(), value_range(sheet, &range, &read));
    }
    Value::Object(response)
}

pub fn update(
    store: &Store,
    spreadsheet_id: &str,
    range: &str,
    query: &Query,
    body: &Value,
) -> Result<Value, ApiError> {
    let option = InputOption::parse(query.get("valueInputOption"))?;
    let major = parse_major(body.get("majorDimension").and_then(Value::as_str))?;
    let rows = as_rows(body, major)?;
    let response_options = ResponseOptions::from_query(query)?;
    store.write(spreadsheet_id, |spreadsheet, _| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        let written = write_grid(spreadsheet, &resolved, &rows, option, true)?;
        Ok(update_values_response(
            spreadsheet,
            &written,
            &resolved,
            &response_options,
        ))
    })
}

pub fn batch_update(store: &Store, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
    let option = InputOption::parse(body.get("valueInputOption").and_then(Value::as_str))?;
    let response_options = ResponseOptions::from_body(body)?;
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut prepared = Vec::with_capacity(data.len());
    for entry in &data {
        let range = entry
            .get("range")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::invalid_argument("Invalid data: range must be specified."))?;
        let major = parse_major(entry.get("majorDimension").and_then(Value::as_str))?;
        prepared.push((range.to_string(), as_rows(entry, major)?));
    }
    store.write(spreadsheet_id, |spreadsheet, _| {
        let mut responses = Vec::with_capacity(prepared.len());
        let (mut total_rows, mut total_columns, mut total_cells) = (0u64, 0u64, 0u64);
        let mut sheets_touched = std::collections::BTreeSet::new();
        for (range, rows) in &prepared {
            let resolved = ranges::resolve(spreadsheet, range)?;
            let written = write_grid(spreadsheet, &resolved, rows, option, true)?;
            total_rows += written.rows as u64;
            total_columns += written.columns as u64;
            total_cells += written.cells as u64;
            if written.cells > 0 {
                sheets_touched.insert(written.sheet_index);
            }
            responses.push(update_values_response(
                spreadsheet,
                &written,
                &resolved,
                &response_options,
            ));
        }
        let mut response = Map::new();
        response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
        for (name, count) in [
            ("totalUpdatedRows", total_rows),
            ("totalUpdatedColumns", total_columns),
            ("totalUpdatedCells", total_cells),
            ("totalUpdatedSheets", sheets_touched.len() as u64),
        ] {
            if count > 0 {
                response.insert(name.into(), json!(count));
            }
        }
        if !responses.is_empty() {
            response.insert("responses".into(), Value::Array(responses));
        }
        Ok(Value::Object(response))
    })
}
