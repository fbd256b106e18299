//! The typed Sheets v4 model of what sheetsync sends: `spreadsheets.batchUpdate` requests,
//! cells with typed values, ranges, developer metadata and data filters. Field names are
//! Google's (camelCase on the wire); absent optional fields are left out of the JSON, because
//! Google reads an explicit `null` or `0` differently from "not set" in several places
//! (`fields` masks, `inheritFromBefore`).
//!
//! Indexes are 0-based and end-exclusive, as on the wire. Ids are `i64`: Google's are int32,
//! but nothing is gained by refusing a larger one from a response.

use serde::{Deserialize, Serialize};

/// One entry of `spreadsheets.batchUpdate`'s `requests`. Google runs them in order and applies
/// the whole batch or nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Request {
    AddSheet(AddSheetRequest),
    UpdateCells(UpdateCellsRequest),
    AppendCells(AppendCellsRequest),
    InsertDimension(InsertDimensionRequest),
    DeleteDimension(DeleteDimensionRequest),
    AppendDimension(AppendDimensionRequest),
    UpdateSheetProperties(UpdateSheetPropertiesRequest),
    CreateDeveloperMetadata(CreateDeveloperMetadataRequest),
    UpdateDeveloperMetadata(UpdateDeveloperMetadataRequest),
    DeleteDeveloperMetadata(DeleteDeveloperMetadataRequest),
    CopyPaste(CopyPasteRequest),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSheetRequest {
    pub properties: SheetProperties,
}

/// Write `rows` starting at `start`, or into `range` (then the `fields` of cells `rows` does
/// not cover are cleared). `fields` is required: e.g. `"userEnteredValue"`, `"*"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCellsRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowData>,
    pub fields: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<GridCoordinate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<GridRange>,
}

/// Append rows after the last row with data, growing the grid as needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendCellsRequest {
    #[serde(default)]
    pub sheet_id: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowData>,
    pub fields: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertDimensionRequest {
    pub range: DimensionRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherit_from_before: Option<bool>,
}

/// Copy `source` onto `destination`. sheetsync only pastes one cell onto itself: a request
/// that changes nothing but is refused when the cell is outside the grid (`sync/plan/guard.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyPasteRequest {
    pub source: GridRange,
    pub destination: GridRange,
    /// `PASTE_NORMAL`: values, formulas, formats and merges.
    pub paste_type: String,
    /// `NORMAL`.
    pub paste_orientation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDimensionRequest {
    pub range: DimensionRange,
}

/// Grow the grid by `length` rows or columns at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendDimensionRequest {
    #[serde(default)]
    pub sheet_id: i64,
    pub dimension: Dimension,
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSheetPropertiesRequest {
    pub properties: SheetProperties,
    /// Which properties to change, e.g. `"title"`, `"gridProperties.rowCount"`.
    pub fields: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeveloperMetadataRequest {
    pub developer_metadata: DeveloperMetadata,
}

/// Change the entries matched by `data_filters` to `developer_metadata`'s `fields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDeveloperMetadataRequest {
    pub data_filters: Vec<DataFilter>,
    pub developer_metadata: DeveloperMetadata,
    pub fields: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDeveloperMetadataRequest {
    pub data_filter: DataFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SheetProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_properties: Option<GridProperties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_row_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_column_count: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowData {
    #[serde(default)]
    pub values: Vec<CellData>,
}

/// One cell. An all-`None` cell (`{}`) with `fields: "userEnteredValue"` clears the value:
/// that is how NULL is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_entered_value: Option<ExtendedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_entered_format: Option<CellFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Read-only: the computed value (responses with grid data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_value: Option<ExtendedValue>,
    /// Read-only: the value as displayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_value: Option<String>,
}

impl CellData {
    pub fn text(value: impl Into<String>) -> Self {
        Self::with_value(ExtendedValue::StringValue(value.into()))
    }

    pub fn number(value: f64) -> Self {
        Self::with_value(ExtendedValue::NumberValue(value))
    }

    pub fn boolean(value: bool) -> Self {
        Self::with_value(ExtendedValue::BoolValue(value))
    }

    /// An empty cell (NULL).
    pub fn empty() -> Self {
        Self::default()
    }

    fn with_value(value: ExtendedValue) -> Self {
        Self {
            user_entered_value: Some(value),
            ..Self::default()
        }
    }

    pub fn with_number_format(mut self, format: NumberFormat) -> Self {
        self.user_entered_format = Some(CellFormat {
            number_format: Some(format),
        });
        self
    }
}

/// A typed value. `stringValue` is always text, even when it starts with `=`: sheetsync never
/// sends `formulaValue`, so nothing from the database is ever evaluated (DESIGN §2.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExtendedValue {
    StringValue(String),
    NumberValue(f64),
    BoolValue(bool),
    /// Read side only: a formula a person typed.
    FormulaValue(String),
    /// Read side only: `{"type": "DIVIDE_BY_ZERO", "message": …}`.
    ErrorValue(serde_json::Value),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellFormat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_format: Option<NumberFormat>,
}

/// E.g. `{"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}` for DATETIME columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberFormat {
    #[serde(rename = "type")]
    pub format_type: NumberFormatType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NumberFormatType {
    Text,
    Number,
    Percent,
    Currency,
    Date,
    Time,
    DateTime,
    Scientific,
}

/// A rectangle of one sheet; an absent bound is unbounded. Google leaves out `sheetId` when it
/// is 0 (proto3 default), hence `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridRange {
    #[serde(default)]
    pub sheet_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_row_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_row_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column_index: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridCoordinate {
    #[serde(default)]
    pub sheet_id: i64,
    #[serde(default)]
    pub row_index: u32,
    #[serde(default)]
    pub column_index: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DimensionRange {
    #[serde(default)]
    pub sheet_id: i64,
    pub dimension: Dimension,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_index: Option<u32>,
}

impl DimensionRange {
    /// Rows `start..end` (0-based, end exclusive) of a sheet.
    pub fn rows(sheet_id: i64, start: u32, end: u32) -> Self {
        Self {
            sheet_id,
            dimension: Dimension::Rows,
            start_index: Some(start),
            end_index: Some(end),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    Rows,
    Columns,
}

/// A key/value attached to the spreadsheet, a sheet, or a row/column. sheetsync keeps its
/// checkpoint in one on the spreadsheet, written in the same batch as the cells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<DeveloperMetadataLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// Exactly one of the three locations is set; `location_type` is read-only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadataLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spreadsheet: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension_range: Option<DimensionRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
}

impl DeveloperMetadataLocation {
    pub fn spreadsheet() -> Self {
        Self {
            spreadsheet: Some(true),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    Document,
    Project,
}

/// Selects ranges or metadata: by A1 range, by grid range, or by a metadata lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a1_range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_range: Option<GridRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_metadata_lookup: Option<DeveloperMetadataLookup>,
}

impl DataFilter {
    /// Metadata with this key, wherever it is.
    pub fn metadata_key(key: impl Into<String>) -> Self {
        Self {
            developer_metadata_lookup: Some(DeveloperMetadataLookup {
                metadata_key: Some(key.into()),
                ..DeveloperMetadataLookup::default()
            }),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadataLookup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_location: Option<DeveloperMetadataLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_matching_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}
