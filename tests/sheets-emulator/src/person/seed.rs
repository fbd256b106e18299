//! A spreadsheet made in one call, with a chosen id and typed rows: the starting sheet of a test
//! or the demo (the Sheets API's `create` needs a token and picks its own id).
//!
//! Consumes the request; produces the spreadsheet in the store (replacing one with the same
//! id) and its tab ids. Guarantees Google's defaults otherwise: the first tab's id is 0 unless
//! given, grids are at least 1000 × 26, the time zone defaults to `Etc/GMT`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::type_into;
use super::error::PersonError;
use crate::api::model::{
    Sheet, Spreadsheet, DEFAULT_COLUMN_COUNT, DEFAULT_ROW_COUNT, MAX_CELLS_PER_SPREADSHEET,
};
use crate::api::Store;
use crate::error::ApiError;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSpreadsheet {
    /// Default: a fresh Google-style id. An existing spreadsheet with this id is replaced.
    #[serde(default)]
    pub spreadsheet_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub sheets: Vec<NewSheet>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSheet {
    pub title: String,
    #[serde(default)]
    pub sheet_id: Option<i64>,
    /// Rows of values, typed as a person types them (`"12"` is a number; `null` is empty).
    #[serde(default)]
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatedSpreadsheet {
    pub spreadsheet_id: String,
    pub sheets: Vec<CreatedSheet>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatedSheet {
    pub title: String,
    pub sheet_id: i64,
}

pub fn create(store: &Store, request: &NewSpreadsheet) -> Result<CreatedSpreadsheet, PersonError> {
    if let Some(id) = &request.spreadsheet_id {
        let valid = !id.is_empty()
            && id.len() <= 100
            && id
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !valid {
            return Err(PersonError::invalid(
                "`spreadsheet_id` must be 1 to 100 of A-Z a-z 0-9 - _",
            ));
        }
    }
    let mut sheets = request.sheets.clone();
    if sheets.is_empty() {
        sheets.push(NewSheet {
            title: "Sheet1".into(),
            ..NewSheet::default()
        });
    }
    let mut created = Vec::new();
    store.insert_new(|identifiers| {
        let mut spreadsheet = Spreadsheet {
            spreadsheet_id: request
                .spreadsheet_id
                .clone()
                .unwrap_or_else(|| identifiers.spreadsheet_id()),
            title: request
                .title
                .clone()
                .unwrap_or_else(|| "Untitled spreadsheet".into()),
            locale: "en_US".into(),
            time_zone: request
                .time_zone
                .clone()
                .unwrap_or_else(|| "Etc/GMT".into()),
            sheets: Vec::new(),
            metadata: Arc::new(BTreeMap::new()),
        };
        for (index, new_sheet) in sheets.iter().enumerate() {
            if new_sheet.title.is_empty()
                || spreadsheet
                    .sheets
                    .iter()
                    .any(|sheet| sheet.title == new_sheet.title)
            {
                return Err(ApiError::invalid_argument(format!(
                    "tab titles must be non-empty and distinct: {:?}",
                    new_sheet.title
                )));
            }
            let sheet_id = match new_sheet.sheet_id {
                Some(id) if id < 0 || spreadsheet.sheet_by_id(id).is_some() => {
                    return Err(ApiError::invalid_argument(format!(
                        "sheet_id {id} is negative or taken"
                    )))
                }
                Some(id) => id,
                None if index == 0 => 0,
                None => loop {
                    let id = identifiers.small_id();
                    if spreadsheet.sheet_by_id(id).is_none() {
                        break id;
                    }
                },
            };
            let height = new_sheet.rows.len() as u32;
            let width = new_sheet.rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
            let mut sheet = Sheet::new(
                sheet_id,
                new_sheet.title.clone(),
                height.max(DEFAULT_ROW_COUNT),
                width.max(DEFAULT_COLUMN_COUNT),
            );
            for (row, values) in new_sheet.rows.iter().enumerate() {
                for (column, value) in values.iter().enumerate() {
                    if !value.is_null() {
                        type_into(sheet.cell_mut(row as u32, column as u32), value)?;
                    }
                }
            }
            created.push(CreatedSheet {
                title: sheet.title.clone(),
                sheet_id,
            });
            spreadsheet.sheets.push(sheet);
        }
        if spreadsheet.total_cells() > MAX_CELLS_PER_SPREADSHEET {
            return Err(ApiError::invalid_argument(
                "This action would increase the number of cells in the workbook above the limit of 10000000 cells.",
            ));
        }
        Ok(spreadsheet)
    })
    .map(|response| CreatedSpreadsheet {
        spreadsheet_id: response["spreadsheetId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        sheets: created,
    })
    .map_err(PersonError::from)
}
