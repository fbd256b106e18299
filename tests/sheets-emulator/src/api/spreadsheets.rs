//! `spreadsheets.create`, `spreadsheets.get` (field masks, `ranges`, `includeGridData`) and the
//! JSON form of a spreadsheet and its sheets.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::cells::cell_data_json;
use super::field_mask::FieldMask;
use super::http::Query;
use super::metadata::Location;
use super::model::{
    Sheet, Spreadsheet, DEFAULT_COLUMN_COUNT, DEFAULT_ROW_COUNT, MAX_CELLS_PER_SPREADSHEET,
};
use super::ranges::{self, integer, Resolved};
use super::store::{Identifiers, Store};
use crate::error::ApiError;

pub fn too_many_cells() -> ApiError {
    ApiError::invalid_argument(format!(
        "This action would increase the number of cells in the workbook above the limit of {MAX_CELLS_PER_SPREADSHEET} cells."
    ))
}

pub fn check_cell_limit(spreadsheet: &Spreadsheet) -> Result<(), ApiError> {
    if spreadsheet.total_cells() > MAX_CELLS_PER_SPREADSHEET {
        return Err(too_many_cells());
    }
    Ok(())
}

pub fn duplicate_title(title: &str) -> ApiError {
    ApiError::invalid_argument(format!(
        "A sheet with the name \"{title}\" already exists. Please enter another name."
    ))
}

/// A new sheet from `SheetProperties` JSON, with Google's defaults (title `SheetN`, 1000×26).
pub fn new_sheet(
    spreadsheet: &Spreadsheet,
    properties: &Value,
    identifiers: &mut Identifiers,
    default_id: Option<i64>,
) -> Result<Sheet, ApiError> {
    let sheet_id = match integer(properties.get("sheetId")) {
        Some(id) if id < 0 => {
            return Err(ApiError::invalid_argument(format!("Invalid sheetId: {id}")))
        }
        Some(id) => id,
        None => default_id.unwrap_or_else(|| loop {
            let id = identifiers.small_id();
            if spreadsheet.sheet_by_id(id).is_none() {
                break id;
            }
        }),
    };
    if spreadsheet.sheet_by_id(sheet_id).is_some() {
        return Err(ApiError::invalid_argument(format!(
            "Sheet with ID {sheet_id} already exists."
        )));
    }
    let title = match properties.get("title").and_then(Value::as_str) {
        Some(title) if !title.trim().is_empty() => title.to_string(),
        _ => {
            let mut number = spreadsheet.sheets.len() + 1;
            while spreadsheet
                .sheet_index_by_title(&format!("Sheet{number}"))
                .is_some()
            {
                number += 1;
            }
            format!("Sheet{number}")
        }
    };
    if spreadsheet.sheet_index_by_title(&title).is_some() {
        return Err(duplicate_title(&title));
    }
    let grid = properties.get("gridProperties");
    let count = |name: &str, default: u32| -> Result<u32, ApiError> {
        match integer(grid.and_then(|grid| grid.get(name))) {
            None | Some(0) => Ok(default),
            Some(value) if value < 0 => Err(ApiError::invalid_argument(format!(
                "Invalid {name}: {value}"
            ))),
            Some(value) => Ok(u32::try_from(value).unwrap_or(u32::MAX)),
        }
    };
    let mut sheet = Sheet::new(
        sheet_id,
        title,
        count("rowCount", DEFAULT_ROW_COUNT)?,
        count("columnCount", DEFAULT_COLUMN_COUNT)?,
    );
    if sheet.column_count > 18_278 {
        return Err(ApiError::invalid_argument(
            "Too many columns: a sheet can have at most 18278 columns.",
        ));
    }
    sheet.frozen_row_count = integer(grid.and_then(|grid| grid.get("frozenRowCount")))
        .unwrap_or(0)
        .max(0) as u32;
    sheet.frozen_column_count = integer(grid.and_then(|grid| grid.get("frozenColumnCount")))
        .unwrap_or(0)
        .max(0) as u32;
    sheet.hidden = properties
        .get("hidden")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(sheet)
}

/// Where a sheet with `properties.index` goes (appended when absent).
pub fn insert_position(spreadsheet: &Spreadsheet, properties: &Value) -> usize {
    integer(properties.get("index"))
        .map(|index| (index.max(0) as usize).min(spreadsheet.sheets.len()))
        .unwrap_or(spreadsheet.sheets.len())
}

pub fn create(store: &Store, body: &Value) -> Result<Value, ApiError> {
    store.insert_new(|identifiers| {
        let properties = body.get("properties").cloned().unwrap_or(json!({}));
        let mut spreadsheet = Spreadsheet {
            spreadsheet_id: identifiers.spreadsheet_id(),
            title: properties
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("Untitled spreadsheet")
                .to_string(),
            locale: properties
                .get("locale")
                .and_then(Value::as_str)
                .unwrap_or("en_US")
                .to_string(),
            time_zone: properties
                .get("timeZone")
                .and_then(Value::as_str)
                .unwrap_or("Etc/GMT")
                .to_string(),
            sheets: Vec::new(),
            metadata: Arc::new(BTreeMap::new()),
        };
        let requested: Vec<Value> = body
            .get("sheets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let requested = if requested.is_empty() {
            vec![json!({})]
        } else {
            requested
        };
        for (position, sheet) in requested.iter().enumerate() {
            let sheet_properties = sheet.get("properties").cloned().unwrap_or(json!({}));
            // Google gives the first sheet of a new spreadsheet id 0.
            let default_id = if position == 0 { Some(0) } else { None };
            let new = new_sheet(&spreadsheet, &sheet_properties, identifiers, default_id)?;
            let index = insert_position(&spreadsheet, &sheet_properties);
            spreadsheet.sheets.insert(index, new);
        }
        check_cell_limit(&spreadsheet)?;
        Ok(spreadsheet)
    })
}

pub fn sheet_properties_json(sheet: &Sheet, index: usize) -> Value {
    let mut grid = Map::new();
    grid.insert("rowCount".into(), json!(sheet.row_count));
    grid.insert("columnCount".into(), json!(sheet.column_count));
    if sheet.frozen_row_count > 0 {
        grid.insert("frozenRowCount".into(), json!(sheet.frozen_row_count));
    }
    if sheet.frozen_column_count > 0 {
        grid.insert("frozenColumnCount".into(), json!(sheet.frozen_column_count));
    }
    let mut properties = json!({
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": Value::Object(grid),
    });
    if sheet.hidden {
        properties["hidden"] = json!(true);
    }
    properties
}

/// `GridData` for one range of a sheet: rows up to the last non-empty cell, empty cells `{}`.
fn grid_data_json(sheet: &Sheet, range: &Resolved) -> Value {
    let mut data = Map::new();
    if range.start_row > 0 {
        data.insert("startRow".into(), json!(range.start_row));
    }
    if range.start_column > 0 {
        data.insert("startColumn".into(), json!(range.start_column));
    }
    let last_row = range.end_row.min(sheet.rows.len() as u32);
    let mut rows: Vec<Value> = (range.start_row..last_row)
        .map(|row| {
            let cells = &sheet.rows[row as usize];
            let last_column = range.end_column.min(cells.len() as u32);
            let mut values: Vec<Value> = (range.start_column..last_column)
                .map(|column| cell_data_json(&cells[column as usize]))
                .collect();
            while values
                .last()
                .is_some_and(|value| value.as_object().is_some_and(Map::is_empty))
            {
                values.pop();
            }
            if values.is_empty() {
                json!({})
            } else {
                json!({"values": values})
            }
        })
        .collect();
    while rows
        .last()
        .is_some_and(|row| row.as_object().is_some_and(Map::is_empty))
    {
        rows.pop();
    }
    if !rows.is_empty() {
        data.insert("rowData".into(), Value::Array(rows));
    }
    Value::Object(data)
}

/// The `Spreadsheet` resource. With `ranges`, only the sheets they name are listed, and grid data
/// covers just those ranges.
pub fn spreadsheet_json(
    spreadsheet: &Spreadsheet,
    ranges: Option<&[Resolved]>,
    include_grid_data: bool,
) -> Result<Value, ApiError> {
    let mut sheets = Vec::new();
    for (index, sheet) in spreadsheet.sheets.iter().enumerate() {
        let sheet_ranges: Vec<Resolved> = match ranges {
            Some(ranges) => ranges
                .iter()
                .filter(|range| range.sheet_index == index)
                .copied()
                .collect(),
            None => vec![ranges::resolve_grid_range(
                spreadsheet,
                &json!({"sheetId": sheet.sheet_id}),
            )?],
        };
        if ranges.is_some() && sheet_ranges.is_empty() {
            continue;
        }
        let mut object = Map::new();
        object.insert("properties".into(), sheet_properties_json(sheet, index));
        if include_grid_data {
            object.insert(
                "data".into(),
                Value::Array(
                    sheet_ranges
                        .iter()
                        .map(|range| grid_data_json(sheet, range))
                        .collect(),
                ),
            );
        }
        let sheet_metadata: Vec<Value> = spreadsheet
            .metadata
            .values()
            .filter(|metadata| metadata.location == Location::Sheet(sheet.sheet_id))
            .map(|metadata| metadata.to_json())
            .collect();
        if !sheet_metadata.is_empty() {
            object.insert("developerMetadata".into(), Value::Array(sheet_metadata));
        }
        sheets.push(Value::Object(object));
    }
    let mut resource = json!({
        "spreadsheetId": spreadsheet.spreadsheet_id,
        "properties": {
            "title": spreadsheet.title,
            "locale": spreadsheet.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": spreadsheet.time_zone,
        },
        "sheets": sheets,
        "spreadsheetUrl": spreadsheet.url(),
    });
    let spreadsheet_metadata: Vec<Value> = spreadsheet
        .metadata
        .values()
        .filter(|metadata| metadata.location == Location::Spreadsheet)
        .map(|metadata| metadata.to_json())
        .collect();
    if !spreadsheet_metadata.is_empty() {
        resource["developerMetadata"] = Value::Array(spreadsheet_metadata);
    }
    Ok(resource)
}

pub fn get(store: &Store, spreadsheet_id: &str, query: &Query) -> Result<Value, ApiError> {
    store.read(spreadsheet_id, |spreadsheet| {
        let texts = query.all("ranges");
        // "includeGridData is ignored if a field mask was set": the mask decides.
        let include_grid_data = match query.get("fields") {
            Some(fields) if !fields.is_empty() => {
                let mask = FieldMask::parse(fields)?;
                mask.child("sheets")
                    .is_some_and(|sheets| sheets.selects("data"))
            }
            _ => query.flag("includeGridData"),
        };
        if texts.is_empty() {
            return spreadsheet_json(spreadsheet, None, include_grid_data);
        }
        let resolved = texts
            .iter()
            .map(|text| ranges::resolve(spreadsheet, text))
            .collect::<Result<Vec<_>, _>>()?;
        spreadsheet_json(spreadsheet, Some(&resolved), include_grid_data)
    })
}

/// `spreadsheets.getByDataFilter`: `a1Range` and `gridRange` filters select ranges.
pub fn get_by_data_filter(
    store: &Store,
    spreadsheet_id: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    store.read(spreadsheet_id, |spreadsheet| {
        let include_grid_data = body
            .get("includeGridData")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let filters = body
            .get("dataFilters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if filters.is_empty() {
            return spreadsheet_json(spreadsheet, None, include_grid_data);
        }
        let mut resolved = Vec::new();
        for filter in &filters {
            if let Some(text) = filter.get("a1Range").and_then(Value::as_str) {
                resolved.push(ranges::resolve(spreadsheet, text)?);
            } else if let Some(range) = filter.get("gridRange") {
                resolved.push(ranges::resolve_grid_range(spreadsheet, range)?);
            }
        }
        spreadsheet_json(spreadsheet, Some(&resolved), include_grid_data)
    })
}
