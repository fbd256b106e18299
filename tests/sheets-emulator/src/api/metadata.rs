//! Developer metadata: the model, its JSON form, `DataFilter` matching, and how row and column
//! metadata follows its row or column when dimensions are inserted or deleted.

use serde_json::{json, Map, Value};

use super::model::Spreadsheet;
use super::ranges::{self, integer};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Rows,
    Columns,
}

impl Dimension {
    pub fn parse(text: Option<&str>) -> Result<Dimension, ApiError> {
        match text {
            Some("ROWS") => Ok(Dimension::Rows),
            Some("COLUMNS") => Ok(Dimension::Columns),
            Some(other) => Err(ApiError::invalid_argument(format!(
                "Invalid value at 'dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), \"{other}\""
            ))),
            None => Err(ApiError::invalid_argument("dimension must be specified.")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Rows => "ROWS",
            Dimension::Columns => "COLUMNS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Spreadsheet,
    Sheet(i64),
    /// One row or column (Google allows exactly one).
    Dimension {
        sheet_id: i64,
        dimension: Dimension,
        index: u32,
    },
}

impl Location {
    pub fn to_json(&self) -> Value {
        match self {
            Location::Spreadsheet => json!({"locationType": "SPREADSHEET", "spreadsheet": true}),
            Location::Sheet(sheet_id) => json!({"locationType": "SHEET", "sheetId": sheet_id}),
            Location::Dimension {
                sheet_id,
                dimension,
                index,
            } => json!({
                "locationType": if *dimension == Dimension::Rows { "ROW" } else { "COLUMN" },
                "dimensionRange": {
                    "sheetId": sheet_id,
                    "dimension": dimension.name(),
                    "startIndex": index,
                    "endIndex": index + 1,
                },
            }),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Location::Spreadsheet => "SPREADSHEET",
            Location::Sheet(_) => "SHEET",
            Location::Dimension {
                dimension: Dimension::Rows,
                ..
            } => "ROW",
            Location::Dimension {
                dimension: Dimension::Columns,
                ..
            } => "COLUMN",
        }
    }

    pub fn sheet_id(&self) -> Option<i64> {
        match self {
            Location::Spreadsheet => None,
            Location::Sheet(sheet_id) | Location::Dimension { sheet_id, .. } => Some(*sheet_id),
        }
    }

    /// Parse a `DeveloperMetadataLocation` of a metadata entry (must be one row or column).
    pub fn parse(spreadsheet: &Spreadsheet, value: &Value) -> Result<Location, ApiError> {
        if value.get("spreadsheet").and_then(Value::as_bool) == Some(true) {
            return Ok(Location::Spreadsheet);
        }
        if let Some(sheet_id) = integer(value.get("sheetId")) {
            spreadsheet
                .sheet_by_id(sheet_id)
                .ok_or_else(|| ranges::no_grid(sheet_id))?;
            return Ok(Location::Sheet(sheet_id));
        }
        if let Some(range) = value.get("dimensionRange") {
            let (sheet_id, dimension, start, end) = parse_dimension_range(spreadsheet, range)?;
            if end != start + 1 {
                return Err(ApiError::invalid_argument(
                    "Developer metadata may only be associated with a single row or column.",
                ));
            }
            return Ok(Location::Dimension {
                sheet_id,
                dimension,
                index: start,
            });
        }
        Err(ApiError::invalid_argument(
            "A developer metadata location must be specified.",
        ))
    }
}

/// A `DimensionRange`: `(sheetId, dimension, startIndex, endIndex)`, checked against the grid.
pub fn parse_dimension_range(
    spreadsheet: &Spreadsheet,
    range: &Value,
) -> Result<(i64, Dimension, u32, u32), ApiError> {
    let sheet_id = integer(range.get("sheetId")).unwrap_or(0);
    let sheet = spreadsheet
        .sheet_by_id(sheet_id)
        .ok_or_else(|| ranges::no_grid(sheet_id))?;
    let dimension = Dimension::parse(range.get("dimension").and_then(Value::as_str))?;
    let limit = match dimension {
        Dimension::Rows => sheet.row_count,
        Dimension::Columns => sheet.column_count,
    };
    let start = integer(range.get("startIndex")).unwrap_or(0);
    let end = integer(range.get("endIndex")).unwrap_or(limit as i64);
    if start < 0 || end < 0 {
        return Err(ApiError::invalid_argument(
            "Dimension range indexes must be >= 0.",
        ));
    }
    if start >= end {
        return Err(ApiError::invalid_argument(format!(
            "Invalid dimension range: startIndex ({start}) must be less than endIndex ({end})."
        )));
    }
    Ok((sheet_id, dimension, start as u32, end as u32))
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeveloperMetadata {
    pub metadata_id: i64,
    pub key: String,
    pub value: Option<String>,
    pub location: Location,
    /// `DOCUMENT` or `PROJECT`.
    pub visibility: String,
}

impl DeveloperMetadata {
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("metadataId".into(), json!(self.metadata_id));
        object.insert("metadataKey".into(), json!(self.key));
        if let Some(value) = &self.value {
            object.insert("metadataValue".into(), json!(value));
        }
        object.insert("location".into(), self.location.to_json());
        object.insert("visibility".into(), json!(self.visibility));
        Value::Object(object)
    }
}

pub fn parse_visibility(value: Option<&Value>) -> Result<String, ApiError> {
    match value.and_then(Value::as_str) {
        None => Ok("DOCUMENT".into()),
        Some(visibility @ ("DOCUMENT" | "PROJECT")) => Ok(visibility.into()),
        Some(other) => Err(ApiError::invalid_argument(format!(
            "Invalid value at 'visibility' (type.googleapis.com/google.apps.sheets.v4.DeveloperMetadata.DeveloperMetadataVisibility), \"{other}\""
        ))),
    }
}

/// Whether `metadata` is selected by one `DataFilter`.
pub fn matches_filter(
    spreadsheet: &Spreadsheet,
    metadata: &DeveloperMetadata,
    filter: &Value,
) -> Result<bool, ApiError> {
    if let Some(lookup) = filter.get("developerMetadataLookup") {
        return matches_lookup(spreadsheet, metadata, lookup);
    }
    let resolved = if let Some(text) = filter.get("a1Range").and_then(Value::as_str) {
        ranges::resolve(spreadsheet, text)?
    } else if let Some(range) = filter.get("gridRange") {
        ranges::resolve_grid_range(spreadsheet, range)?
    } else {
        return Err(ApiError::invalid_argument(
            "A data filter must specify a developerMetadataLookup, a1Range or gridRange.",
        ));
    };
    let sheet_id = spreadsheet.sheets[resolved.sheet_index].sheet_id;
    // A range selects the row and column metadata of the rows and columns it covers.
    Ok(match &metadata.location {
        Location::Dimension {
            sheet_id: metadata_sheet,
            dimension,
            index,
        } if *metadata_sheet == sheet_id => match dimension {
            Dimension::Rows => resolved.start_row <= *index && *index < resolved.end_row,
            Dimension::Columns => resolved.start_column <= *index && *index < resolved.end_column,
        },
        _ => false,
    })
}

fn matches_lookup(
    spreadsheet: &Spreadsheet,
    metadata: &DeveloperMetadata,
    lookup: &Value,
) -> Result<bool, ApiError> {
    if let Some(id) = integer(lookup.get("metadataId")) {
        if id != metadata.metadata_id {
            return Ok(false);
        }
    }
    if let Some(key) = lookup.get("metadataKey").and_then(Value::as_str) {
        if key != metadata.key {
            return Ok(false);
        }
    }
    if let Some(value) = lookup.get("metadataValue").and_then(Value::as_str) {
        if Some(value) != metadata.value.as_deref() {
            return Ok(false);
        }
    }
    if let Some(visibility) = lookup.get("visibility").and_then(Value::as_str) {
        if visibility != metadata.visibility {
            return Ok(false);
        }
    }
    if let Some(location_type) = lookup.get("locationType").and_then(Value::as_str) {
        if location_type != metadata.location.type_name() {
            return Ok(false);
        }
    }
    if let Some(location) = lookup.get("metadataLocation") {
        let intersecting = lookup
            .get("locationMatchingStrategy")
            .and_then(Value::as_str)
            == Some("INTERSECTING_LOCATION");
        if !location_matches(spreadsheet, &metadata.location, location, intersecting)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn location_matches(
    spreadsheet: &Spreadsheet,
    actual: &Location,
    wanted: &Value,
    intersecting: bool,
) -> Result<bool, ApiError> {
    if wanted.get("spreadsheet").and_then(Value::as_bool) == Some(true) {
        return Ok(intersecting || *actual == Location::Spreadsheet);
    }
    if let Some(sheet_id) = integer(wanted.get("sheetId")) {
        return Ok(match actual {
            Location::Sheet(id) => *id == sheet_id,
            Location::Dimension { sheet_id: id, .. } => intersecting && *id == sheet_id,
            Location::Spreadsheet => false,
        });
    }
    if let Some(range) = wanted.get("dimensionRange") {
        let (sheet_id, dimension, start, end) = parse_dimension_range(spreadsheet, range)?;
        return Ok(match actual {
            Location::Dimension {
                sheet_id: id,
                dimension: actual_dimension,
                index,
            } => {
                *id == sheet_id
                    && *actual_dimension == dimension
                    && if intersecting {
                        start <= *index && *index < end
                    } else {
                        start == *index && end == index + 1
                    }
            }
            _ => false,
        });
    }
    Ok(false)
}

/// Rows or columns `[start, start+count)` were inserted: metadata at or after `start` moves down.
pub fn shift_for_insert(
    spreadsheet: &mut Spreadsheet,
    sheet_id: i64,
    dimension: Dimension,
    start: u32,
    count: u32,
) {
    let affected = spreadsheet
        .metadata
        .values()
        .any(|metadata| on_dimension_from(metadata, sheet_id, dimension, start));
    if !affected {
        return;
    }
    for metadata in spreadsheet.metadata_mut().values_mut() {
        if let Location::Dimension {
            sheet_id: id,
            dimension: actual,
            index,
        } = &mut metadata.location
        {
            if *id == sheet_id && *actual == dimension && *index >= start {
                *index += count;
            }
        }
    }
}

/// Rows or columns `[start, end)` were deleted: their metadata goes, later metadata moves up.
pub fn shift_for_delete(
    spreadsheet: &mut Spreadsheet,
    sheet_id: i64,
    dimension: Dimension,
    start: u32,
    end: u32,
) {
    let affected = spreadsheet
        .metadata
        .values()
        .any(|metadata| on_dimension_from(metadata, sheet_id, dimension, start));
    if !affected {
        return;
    }
    let map = spreadsheet.metadata_mut();
    map.retain(|_, metadata| match &metadata.location {
        Location::Dimension {
            sheet_id: id,
            dimension: actual,
            index,
        } => !(*id == sheet_id && *actual == dimension && start <= *index && *index < end),
        _ => true,
    });
    for metadata in map.values_mut() {
        if let Location::Dimension {
            sheet_id: id,
            dimension: actual,
            index,
        } = &mut metadata.location
        {
            if *id == sheet_id && *actual == dimension && *index >= end {
                *index -= end - start;
            }
        }
    }
}

/// A sheet was deleted: its sheet, row and column metadata goes with it.
pub fn remove_for_sheet(spreadsheet: &mut Spreadsheet, sheet_id: i64) {
    if spreadsheet
        .metadata
        .values()
        .any(|metadata| metadata.location.sheet_id() == Some(sheet_id))
    {
        spreadsheet
            .metadata_mut()
            .retain(|_, metadata| metadata.location.sheet_id() != Some(sheet_id));
    }
}

fn on_dimension_from(
    metadata: &DeveloperMetadata,
    sheet_id: i64,
    dimension: Dimension,
    start: u32,
) -> bool {
    matches!(&metadata.location, Location::Dimension { sheet_id: id, dimension: actual, index }
        if *id == sheet_id && *actual == dimension && *index >= start)
}
