//! `spreadsheets.values.*`: get, batchGet, update, batchUpdate, append, clear, batchClear.

use serde_json::{json, Map, Value};

use super::a1;
use super::http::Query;
use super::metadata::{self, Dimension};
use super::model::{Sheet, Spreadsheet};
use super::ranges::{self, exceeds_grid, Resolved};
use super::render::{self, DateTimeRender, ValueRender};
use super::spreadsheets::check_cell_limit;
use super::store::Store;
use super::user_entered::{interpret, Input, InputOption};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Major {
    Rows,
    Columns,
}

fn parse_major(value: Option<&str>) -> Result<Major, ApiError> {
    match value {
        None | Some("ROWS") | Some("DIMENSION_UNSPECIFIED") => Ok(Major::Rows),
        Some("COLUMNS") => Ok(Major::Columns),
        Some(other) => Err(ApiError::invalid_argument(format!(
            "Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), \"{other}\""
        ))),
    }
}

struct ReadOptions {
    major: Major,
    value_render: ValueRender,
    date_render: DateTimeRender,
}

impl ReadOptions {
    fn from_query(query: &Query) -> Result<ReadOptions, ApiError> {
        Ok(ReadOptions {
            major: parse_major(query.get("majorDimension"))?,
            value_render: ValueRender::parse(query.get("valueRenderOption"))?,
            date_render: DateTimeRender::parse(query.get("dateTimeRenderOption"))?,
        })
    }
}

/// A `ValueRange` for a resolved range: trailing empty rows and cells dropped, `values` absent
/// when everything is empty.
fn value_range(sheet: &Sheet, range: &Resolved, options: &ReadOptions) -> Value {
    let render_cell = |row: u32, column: u32| render::render(sheet.cell(row, column), options.value_render, options.date_render);
    // Rows past the stored ones are empty: never iterate a 1,000,000-row open range cell by cell.
    let last_row = range.end_row.min(sheet.rows.len() as u32);
    let last_column = |row: u32| range.end_column.min(sheet.rows.get(row as usize).map_or(0, |cells| cells.len() as u32));
    let mut lines: Vec<Vec<Value>> = match options.major {
        Major::Rows => (range.start_row..last_row)
            .map(|row| (range.start_column..last_column(row).max(range.start_column)).map(|column| render_cell(row, column)).collect())
            .collect(),
        Major::Columns => {
            let widest = (range.start_row..last_row).map(last_column).max().unwrap_or(range.start_column).max(range.start_column);
            (range.start_column..widest)
                .map(|column| (range.start_row..last_row).map(|row| render_cell(row, column)).collect())
                .collect()
        }
    };
    for line in lines.iter_mut() {
        while line.last().is_some_and(|value| value == "") {
            line.pop();
        }
    }
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut object = Map::new();
    object.insert("range".into(), json!(range.format(sheet)));
    object.insert("majorDimension".into(), json!(if options.major == Major::Rows { "ROWS" } else { "COLUMNS" }));
    if !lines.is_empty() {
        object.insert("values".into(), json!(lines));
    }
    Value::Object(object)
}

pub fn get(store: &Store, spreadsheet_id: &str, range: &str, query: &Query) -> Result<Value, ApiError> {
    let options = ReadOptions::from_query(query)?;
    store.read(spreadsheet_id, |spreadsheet| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        Ok(value_range(&spreadsheet.sheets[resolved.sheet_index], &resolved, &options))
    })
}

pub fn batch_get(store: &Store, spreadsheet_id: &str, query: &Query) -> Result<Value, ApiError> {
    let options = ReadOptions::from_query(query)?;
    store.read(spreadsheet_id, |spreadsheet| {
        let mut value_ranges = Vec::new();
        for text in query.all("ranges") {
            let resolved = ranges::resolve(spreadsheet, &text)?;
            value_ranges.push(value_range(&spreadsheet.sheets[resolved.sheet_index], &resolved, &options));
        }
        let mut response = json!({"spreadsheetId": spreadsheet.spreadsheet_id});
        if !value_ranges.is_empty() {
            response["valueRanges"] = Value::Array(value_ranges);
        }
        Ok(response)
    })
}

/// What one write did, for `UpdateValuesResponse`.
struct Written {
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
fn as_rows(body: &Value, major: Major) -> Result<Vec<Vec<Value>>, ApiError> {
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
    Ok((0..height).map(|row| grid.iter().map(|column| column.get(row).cloned().unwrap_or(Value::Null)).collect()).collect())
}

/// Write a grid of values at the top-left of `range`. `bounded` enforces the range's explicit
/// ends ("Requested writing within range ..."); the grid's ends are always enforced.
fn write_grid(spreadsheet: &mut Spreadsheet, range: &Resolved, rows: &[Vec<Value>], option: InputOption, bounded: bool) -> Result<Written, ApiError> {
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
    if range.start_row + height > sheet.row_count || range.start_column + width > sheet.column_count {
        return Err(exceeds_grid(sheet, range.start_row, range.start_row + height, range.start_column, range.start_column + width));
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
            if input == Input::Clear && sheet.cell(row, column).is_none_or(|cell| cell.value.is_none()) {
            } else {
                let cell = sheet.cell_mut(row, column);
                match input {
                    Input::Skip => {}
                    Input::Clear => cell.value = None,
                    Input::Set(value, number_format) => {
                        cell.value = Some(value);
                        if let Some(number_format) = number_format {
                            let mut format = cell.format.take().map(|format| *format).unwrap_or_else(|| json!({}));
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
struct ResponseOptions {
    include_values: bool,
    value_render: ValueRender,
    date_render: DateTimeRender,
}

fn update_values_response(spreadsheet: &Spreadsheet, written: &Written, requested: &Resolved, options: &ResponseOptions) -> Value {
    let sheet = &spreadsheet.sheets[written.sheet_index];
    let mut response = Map::new();
    response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
    let updated_range = if written.end_row > written.start_row && written.end_column > written.start_column {
        a1::format_range(&sheet.title, written.start_row, written.end_row, written.start_column, written.end_column)
    } else {
        requested.format(sheet)
    };
    response.insert("updatedRange".into(), json!(updated_range));
    // proto3 JSON leaves out zero counts.
    for (name, count) in [("updatedRows", written.rows), ("updatedColumns", written.columns), ("updatedCells", written.cells)] {
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
        let read = ReadOptions { major: Major::Rows, value_render: options.value_render, date_render: options.date_render };
        response.insert("updatedData".into(), value_range(sheet, &range, &read));
    }
    Value::Object(response)
}

pub fn update(store: &Store, spreadsheet_id: &str, range: &str, query: &Query, body: &Value) -> Result<Value, ApiError> {
    let option = InputOption::parse(query.get("valueInputOption"))?;
    let major = parse_major(body.get("majorDimension").and_then(Value::as_str))?;
    let rows = as_rows(body, major)?;
    let response_options = ResponseOptions {
        include_values: query.flag("includeValuesInResponse"),
        value_render: ValueRender::parse(query.get("responseValueRenderOption"))?,
        date_render: DateTimeRender::parse(query.get("responseDateTimeRenderOption"))?,
    };
    store.write(spreadsheet_id, |spreadsheet, _| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        let written = write_grid(spreadsheet, &resolved, &rows, option, true)?;
        Ok(update_values_response(spreadsheet, &written, &resolved, &response_options))
    })
}

pub fn batch_update(store: &Store, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
    let option = InputOption::parse(body.get("valueInputOption").and_then(Value::as_str))?;
    let response_options = ResponseOptions {
        include_values: body.get("includeValuesInResponse").and_then(Value::as_bool).unwrap_or(false),
        value_render: ValueRender::parse(body.get("responseValueRenderOption").and_then(Value::as_str))?,
        date_render: DateTimeRender::parse(body.get("responseDateTimeRenderOption").and_then(Value::as_str))?,
    };
    let data = body.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut prepared = Vec::with_capacity(data.len());
    for entry in &data {
        let range = entry.get("range").and_then(Value::as_str).ok_or_else(|| ApiError::invalid_argument("Invalid data: range must be specified."))?;
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
            responses.push(update_values_response(spreadsheet, &written, &resolved, &response_options));
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

/// The "table" `values.append` appends to: the first block of consecutive non-empty rows (looking
/// only at the range's columns) at or below the range's first row. `(first row, end row,
/// first column, end column)`.
fn find_table(sheet: &Sheet, range: &Resolved) -> Option<(u32, u32, u32, u32)> {
    let (start_column, end_column) = if range.single_cell { (range.start_column, sheet.column_count) } else { (range.start_column, range.end_column) };
    let stored_end = range.end_row.min(sheet.rows.len() as u32);
    let end_search = if range.single_cell { sheet.rows.len() as u32 } else { stored_end };
    let first = (range.start_row..end_search).find(|row| sheet.row_has_value(*row, start_column, end_column))?;
    let mut end = first;
    while end < end_search && sheet.row_has_value(end, start_column, end_column) {
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

pub fn append(store: &Store, spreadsheet_id: &str, range: &str, query: &Query, body: &Value) -> Result<Value, ApiError> {
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
    let response_options = ResponseOptions {
        include_values: query.flag("includeValuesInResponse"),
        value_render: ValueRender::parse(query.get("responseValueRenderOption"))?,
        date_render: DateTimeRender::parse(query.get("responseDateTimeRenderOption"))?,
    };
    store.write(spreadsheet_id, |spreadsheet, _| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        let sheet = &spreadsheet.sheets[resolved.sheet_index];
        let table = find_table(sheet, &resolved);
        let (write_row, write_column) = match table {
            Some((_, end, left, _)) => (end, left),
            None => (resolved.start_row, resolved.start_column),
        };
        let table_range = table.map(|(first, end, left, right)| a1::format_range(&sheet.title, first, end, left, right));
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
        let target = Resolved { start_row: write_row, start_column: write_column, single_cell: true, ..resolved };
        let written = write_grid(spreadsheet, &target, &rows, option, false)?;
        let mut response = Map::new();
        response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
        if let Some(table_range) = table_range {
            response.insert("tableRange".into(), json!(table_range));
        }
        response.insert("updates".into(), update_values_response(spreadsheet, &written, &target, &response_options));
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
        if (resolved.start_column..last_column).any(|column| sheet.cell(row, column).is_some_and(|cell| cell.value.is_some())) {
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
    let texts: Vec<String> = body.get("ranges").and_then(Value::as_array).map(|ranges| ranges.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
    store.write(spreadsheet_id, |spreadsheet, _| {
        let cleared = texts.iter().map(|text| clear_range(spreadsheet, text)).collect::<Result<Vec<_>, _>>()?;
        let mut response = json!({"spreadsheetId": spreadsheet.spreadsheet_id});
        if !cleared.is_empty() {
            response["clearedRanges"] = json!(cleared);
        }
        Ok(response)
    })
}
