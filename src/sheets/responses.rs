//! The typed bodies of what sheetsync reads back: spreadsheets, value ranges, batchUpdate
//! replies and metadata search results. Every collection defaults to empty, because Google
//! leaves out empty lists (an all-empty range has no `values`), and unknown fields are ignored.

use serde::{Deserialize, Serialize};

use super::model::{DataFilter, DeveloperMetadata, Request, SheetProperties};

/// `spreadsheets.get` / `spreadsheets.create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spreadsheet {
    #[serde(default)]
    pub spreadsheet_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<SpreadsheetProperties>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sheets: Vec<Sheet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spreadsheet_url: Option<String>,
}

impl Spreadsheet {
    /// The properties of the tab titled `title`.
    pub fn sheet_by_title(&self, title: &str) -> Option<&SheetProperties> {
        self.sheets
            .iter()
            .map(|sheet| &sheet.properties)
            .find(|properties| properties.title.as_deref() == Some(title))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpreadsheetProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sheet {
    #[serde(default)]
    pub properties: SheetProperties,
}

/// A cell as `values.get` renders it with `UNFORMATTED_VALUE` + `SERIAL_NUMBER`: numbers
/// (dates as serial numbers) stay numbers, booleans booleans, everything else text; an empty
/// cell in the middle of a row is `""`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CellValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// `values.get`, one entry of `values.batchGet`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueRange {
    #[serde(default)]
    pub range: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_dimension: Option<String>,
    /// Trailing empty rows and cells are left out by Google, so rows differ in length.
    #[serde(default)]
    pub values: Vec<Vec<CellValue>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetValuesResponse {
    #[serde(default)]
    pub spreadsheet_id: String,
    /// In the order of the requested ranges.
    #[serde(default)]
    pub value_ranges: Vec<ValueRange>,
}

/// The body of `spreadsheets.batchUpdate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateRequestBody {
    pub requests: Vec<Request>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateResponse {
    #[serde(default)]
    pub spreadsheet_id: String,
    /// One per request, in order; most are empty (`{}`).
    #[serde(default)]
    pub replies: Vec<Reply>,
}

/// A batchUpdate reply: at most one field is set, matching its request's kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_sheet: Option<AddSheetReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_developer_metadata: Option<DeveloperMetadataReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_developer_metadata: Option<DeveloperMetadataListReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_developer_metadata: Option<DeletedDeveloperMetadataReply>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSheetReply {
    #[serde(default)]
    pub properties: SheetProperties,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadataReply {
    #[serde(default)]
    pub developer_metadata: DeveloperMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadataListReply {
    #[serde(default)]
    pub developer_metadata: Vec<DeveloperMetadata>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedDeveloperMetadataReply {
    #[serde(default)]
    pub deleted_developer_metadata: Vec<DeveloperMetadata>,
}

/// `developerMetadata:search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchDeveloperMetadataResponse {
    #[serde(default)]
    pub matched_developer_metadata: Vec<MatchedDeveloperMetadata>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchedDeveloperMetadata {
    #[serde(default)]
    pub developer_metadata: DeveloperMetadata,
    #[serde(default)]
    pub data_filters: Vec<DataFilter>,
}
