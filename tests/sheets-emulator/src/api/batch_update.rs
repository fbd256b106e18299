//! `spreadsheets.batchUpdate`: requests applied in order on a working copy, committed only if
//! every one succeeded (see `Store::write`); errors carry Google's `Invalid requests[i].kind: `
//! prefix. Sheet and dimension requests live here; cell and metadata requests in their modules.

use serde_json::{json, Map, Value};

use super::batch_cells;
use super::cells::required_mask;
use super::developer_metadata;
use super::metadata::{self, parse_dimension_range, Dimension};
use super::model::{Spreadsheet, MAX_CELLS_PER_SPREADSHEET};
use super::ranges::{self, integer, no_grid};
use super::spreadsheets::{
    self, check_cell_limit, duplicate_title, new_sheet, sheet_properties_json,
};
use super::store::{Identifiers, Store};
use crate::error::ApiError;

pub fn batch_update(store: &Store, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    store.write(spreadsheet_id, |spreadsheet, identifiers| {
        if requests.is_empty() {
            return Err(ApiError::invalid_argument("Must specify at least one request."));
        }
        let mut replies = Vec::with_capacity(requests.len());
        for (index, request) in requests.iter().enumerate() {
            let object = request.as_object().filter(|object| object.len() == 1).ok_or_else(|| {
                ApiError::invalid_argument(format!("Invalid requests[{index}]: exactly one kind of request must be set."))
            })?;
            let Some((kind, inner)) = object.iter().next() else { continue };
            let reply = apply(spreadsheet, identifiers, kind, inner)
                .map_err(|error| match error {
                    Failure::UnknownKind => ApiError::invalid_argument(format!(
                        "Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{index}]': Cannot find field."
                    )),
                    Failure::Invalid(mut error) => {
                        error.message = format!("Invalid requests[{index}].{kind}: {}", error.message);
                        error
                    }
                })?;
            replies.push(reply);
        }
        let mut response = Map::new();
        response.insert("spreadsheetId".into(), json!(spreadsheet.spreadsheet_id));
        response.insert("replies".into(), Value::Array(replies));
        if body.get("includeSpreadsheetInResponse").and_then(Value::as_bool) == Some(true) {
            let include_grid_data = body.get("responseIncludeGridData").and_then(Value::as_bool).unwrap_or(false);
            let texts: Vec<&str> = body.get("responseRanges").and_then(Value::as_array).map(|ranges| ranges.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let updated = if texts.is_empty() {
                spreadsheets::spreadsheet_json(spreadsheet, None, include_grid_data)?
            } else {
                let resolved = texts.iter().map(|text| ranges::resolve(spreadsheet, text)).collect::<Result<Vec<_>, _>>()?;
                spreadsheets::spreadsheet_json(spreadsheet, Some(&resolved), include_grid_data)?
            };
            response.insert("updatedSpreadsheet".into(), updated);
        }
        Ok(Value::Object(response))
    })
}

enum Failure {
    UnknownKind,
    Invalid(ApiError),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::Invalid(error)
    }
}

fn empty() -> Value {
    Value::Object(Map::new())
}

fn apply(
    spreadsheet: &mut Spreadsheet,
    identifiers: &mut Identifiers,
    kind: &str,
    request: &Value,
) -> Result<Value, Failure> {
    Ok(match kind {
        "addSheet" => add_sheet(spreadsheet, identifiers, request)?,
        "deleteSheet" => delete_sheet(spreadsheet, request)?,
        "updateSheetProperties" => update_sheet_properties(spreadsheet, request)?,
        "updateSpreadsheetProperties" => update_spreadsheet_properties(spreadsheet, request)?,
        "insertDimension" => insert_dimension(spreadsheet, request)?,
        "deleteDimension" => delete_dimension(spreadsheet, request)?,
        "appendDimension" => append_dimension(spreadsheet, request)?,
        "updateCells" => batch_cells::update_cells(spreadsheet, request)?,
        "appendCells" => batch_cells::append_cells(spreadsheet, request)?,
        "repeatCell" => batch_cells::repeat_cell(spreadsheet, request)?,
        "copyPaste" => batch_cells::copy_paste(spreadsheet, request)?,
        "createDeveloperMetadata" => developer_metadata::create(spreadsheet, identifiers, request)?,
        "updateDeveloperMetadata" => developer_metadata::update(spreadsheet, request)?,
        "deleteDeveloperMetadata" => developer_metadata::delete(spreadsheet, request)?,
        // Row heights and column widths are not modelled: validate the range, change nothing.
        "updateDimensionProperties" | "autoResizeDimensions" => {
            let range = request
                .get("range")
                .or_else(|| request.get("dimensions"))
                .unwrap_or(&Value::Null);
            parse_dimension_range(spreadsheet, range)?;
            empty()
        }
        _ => return Err(Failure::UnknownKind),
    })
}

fn add_sheet(
    spreadsheet: &mut Spreadsheet,
    identifiers: &mut Identifiers,
    request: &Value,
) -> Result<Value, ApiError> {
    let properties = request.get("properties").cloned().unwrap_or(json!({}));
    let sheet = new_sheet(spreadsheet, &properties, identifiers, None)?;
    let index = spreadsheets::insert_position(spreadsheet, &properties);
    spreadsheet.sheets.insert(index, sheet);
    check_cell_limit(spreadsheet)?;
    Ok(
        json!({"addSheet": {"properties": sheet_properties_json(&spreadsheet.sheets[index], index)}}),
    )
}

fn delete_sheet(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let sheet_id = integer(request.get("sheetId")).unwrap_or(0);
    let index = spreadsheet
        .sheets
        .iter()
        .position(|sheet| sheet.sheet_id == sheet_id)
        .ok_or_else(|| ApiError::invalid_argument(format!("No sheet with id: {sheet_id}")))?;
    if spreadsheet.sheets.len() == 1 {
        return Err(ApiError::invalid_argument(
            "You can't remove all the sheets in a document.",
        ));
    }
    spreadsheet.sheets.remove(index);
    metadata::remove_for_sheet(spreadsheet, sheet_id);
    Ok(empty())
}

fn update_sheet_properties(
    spreadsheet: &mut Spreadsheet,
    request: &Value,
) -> Result<Value, ApiError> {
    let mask = required_mask(request.get("fields"))?;
    let properties = request.get("properties").cloned().unwrap_or(json!({}));
    let sheet_id = integer(properties.get("sheetId")).unwrap_or(0);
    let mut index = spreadsheet
        .sheets
        .iter()
        .position(|sheet| sheet.sheet_id == sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    if mask.selects("title") {
        let title = properties
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if title.trim().is_empty() {
            return Err(ApiError::invalid_argument(
                "The sheet title cannot be empty.",
            ));
        }
        if spreadsheet
            .sheet_index_by_title(title)
            .is_some_and(|other| other != index)
        {
            return Err(duplicate_title(title));
        }
        spreadsheet.sheets[index].title = title.to_string();
    }
    if mask.selects("hidden") {
        let hidden = properties
            .get("hidden")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if hidden
            && spreadsheet
                .sheets
                .iter()
                .enumerate()
                .all(|(other, sheet)| other == index || sheet.hidden)
        {
            return Err(ApiError::invalid_argument(
                "You can't hide all the sheets in a document.",
            ));
        }
        spreadsheet.sheets[index].hidden = hidden;
    }
    if mask.selects("index") {
        if let Some(wanted) = integer(properties.get("index")) {
            let sheet = spreadsheet.sheets.remove(index);
            index = (wanted.max(0) as usize).min(spreadsheet.sheets.len());
            spreadsheet.sheets.insert(index, sheet);
        }
    }
    if let Some(grid_mask) = mask.child("gridProperties") {
        let grid = properties
            .get("gridProperties")
            .cloned()
            .unwrap_or(json!({}));
        let value = |name: &str| ranges::clamp_index(integer(grid.get(name)).unwrap_or(0));
        let sheet = &mut spreadsheet.sheets[index];
        if grid_mask.selects("frozenRowCount") {
            sheet.frozen_row_count = value("frozenRowCount");
        }
        if grid_mask.selects("frozenColumnCount") {
            sheet.frozen_column_count = value("frozenColumnCount");
        }
        let (old_rows, old_columns) = (sheet.row_count, sheet.column_count);
        if grid_mask.selects("rowCount") {
            sheet.row_count = value("rowCount").max(1);
        }
        if grid_mask.selects("columnCount") {
            sheet.column_count = value("columnCount").max(1);
        }
        let (new_rows, new_columns) = (sheet.row_count, sheet.column_count);
        sheet.truncate_to_grid();
        // Shrinking the grid deletes the rows and columns cut off, with their metadata.
        if new_rows < old_rows {
            metadata::shift_for_delete(spreadsheet, sheet_id, Dimension::Rows, new_rows, old_rows);
        }
        if new_columns < old_columns {
            metadata::shift_for_delete(
                spreadsheet,
                sheet_id,
                Dimension::Columns,
                new_columns,
                old_columns,
            );
        }
        check_cell_limit(spreadsheet)?;
    }
    Ok(empty())
}

fn update_spreadsheet_properties(
    spreadsheet: &mut Spreadsheet,
    request: &Value,
) -> Result<Value, ApiError> {
    let mask = required_mask(request.get("fields"))?;
    let properties = request.get("properties").cloned().unwrap_or(json!({}));
    let text = |name: &str| {
        properties
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if mask.selects("title") {
        spreadsheet.title = text("title");
    }
    if mask.selects("locale") {
        spreadsheet.locale = text("locale");
    }
    if mask.selects("timeZone") {
        spreadsheet.time_zone = text("timeZone");
    }
    Ok(empty())
}

fn dimension_words(dimension: Dimension) -> (&'static str, &'static str) {
    match dimension {
        Dimension::Rows => ("row", "rows"),
        Dimension::Columns => ("column", "columns"),
    }
}

fn insert_dimension(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let range = request
        .get("range")
        .ok_or_else(|| ApiError::invalid_argument("range must be specified."))?;
    let (sheet_id, dimension, start, end) = parse_dimension_range(spreadsheet, range)?;
    if request.get("inheritFromBefore").and_then(Value::as_bool) == Some(true) && start == 0 {
        return Err(ApiError::invalid_argument(
            "Cannot inherit from before when inserting at index 0.",
        ));
    }
    let cells_before = spreadsheet.total_cells();
    let sheet = spreadsheet
        .sheet_by_id_mut(sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    let (singular, plural) = dimension_words(dimension);
    let count = if dimension == Dimension::Rows {
        sheet.row_count
    } else {
        sheet.column_count
    };
    // Check the cell limit before inserting: a huge insert must fail, not allocate.
    let across = if dimension == Dimension::Rows {
        sheet.column_count
    } else {
        sheet.row_count
    };
    if cells_before + u64::from(end - start) * u64::from(across) > MAX_CELLS_PER_SPREADSHEET {
        return Err(spreadsheets::too_many_cells());
    }
    if start > count {
        return Err(ApiError::invalid_argument(format!(
            "Cannot insert {plural} at {singular} index {start}: the sheet has only {count} {plural}."
        )));
    }
    match dimension {
        Dimension::Rows => sheet.insert_rows(start, end - start),
        Dimension::Columns => sheet.insert_columns(start, end - start),
    }
    metadata::shift_for_insert(spreadsheet, sheet_id, dimension, start, end - start);
    check_cell_limit(spreadsheet)?;
    Ok(empty())
}

fn delete_dimension(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let range = request
        .get("range")
        .ok_or_else(|| ApiError::invalid_argument("range must be specified."))?;
    let (sheet_id, dimension, start, end) = parse_dimension_range(spreadsheet, range)?;
    let sheet = spreadsheet
        .sheet_by_id_mut(sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    let (singular, plural) = dimension_words(dimension);
    let count = if dimension == Dimension::Rows {
        sheet.row_count
    } else {
        sheet.column_count
    };
    if end > count {
        return Err(ApiError::invalid_argument(format!(
            "Cannot delete a {singular} that doesn't exist. Tried to delete {singular} index {} but there are only {count} {plural}.",
            end - 1
        )));
    }
    if start == 0 && end == count {
        return Err(ApiError::invalid_argument(format!(
            "You can't delete all the {plural} on the sheet."
        )));
    }
    match dimension {
        Dimension::Rows => sheet.delete_rows(start, end),
        Dimension::Columns => sheet.delete_columns(start, end),
    }
    metadata::shift_for_delete(spreadsheet, sheet_id, dimension, start, end);
    Ok(empty())
}

fn append_dimension(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let sheet_id = integer(request.get("sheetId")).unwrap_or(0);
    let dimension = Dimension::parse(request.get("dimension").and_then(Value::as_str))?;
    let length = integer(request.get("length")).unwrap_or(0);
    if length <= 0 {
        return Err(ApiError::invalid_argument("length must be greater than 0."));
    }
    let length = ranges::clamp_index(length);
    let sheet = spreadsheet
        .sheet_by_id_mut(sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    match dimension {
        Dimension::Rows => sheet.row_count = sheet.row_count.saturating_add(length),
        Dimension::Columns => sheet.column_count = sheet.column_count.saturating_add(length),
    }
    check_cell_limit(spreadsheet)?;
    Ok(empty())
}
