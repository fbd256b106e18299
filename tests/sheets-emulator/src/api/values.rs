//! `spreadsheets.values.get` and `batchGet`, and the `ValueRange` reading shared by writes.
//! Writes are in `values_write.rs`, append and clear in `values_append.rs`.

use serde_json::{json, Map, Value};

use super::http::Query;
use super::model::Sheet;
use super::ranges::{self, Resolved};
use super::render::{self, DateTimeRender, ValueRender};
use super::store::Store;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Major {
    Rows,
    Columns,
}

pub(super) fn parse_major(value: Option<&str>) -> Result<Major, ApiError> {
    match value {
        None | Some("ROWS") | Some("DIMENSION_UNSPECIFIED") => Ok(Major::Rows),
        Some("COLUMNS") => Ok(Major::Columns),
        Some(other) => Err(ApiError::invalid_argument(format!(
            "Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), \"{other}\""
        ))),
    }
}

pub(super) struct ReadOptions {
    pub(super) major: Major,
    pub(super) value_render: ValueRender,
    pub(super) date_render: DateTimeRender,
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
pub(super) fn value_range(sheet: &Sheet, range: &Resolved, options: &ReadOptions) -> Value {
    let render_cell = |row: u32, column: u32| {
        render::render(
            sheet.cell(row, column),
            options.value_render,
            options.date_render,
        )
    };
    // Rows past the stored ones are empty: never iterate a 1,000,000-row open range cell by cell.
    let last_row = range.end_row.min(sheet.rows.len() as u32);
    let last_column = |row: u32| {
        range.end_column.min(
            sheet
                .rows
                .get(row as usize)
                .map_or(0, |cells| cells.len() as u32),
        )
    };
    let mut lines: Vec<Vec<Value>> = match options.major {
        Major::Rows => (range.start_row..last_row)
            .map(|row| {
                (range.start_column..last_column(row).max(range.start_column))
                    .map(|column| render_cell(row, column))
                    .collect()
            })
            .collect(),
        Major::Columns => {
            let widest = (range.start_row..last_row)
                .map(last_column)
                .max()
                .unwrap_or(range.start_column)
                .max(range.start_column);
            (range.start_column..widest)
                .map(|column| {
                    (range.start_row..last_row)
                        .map(|row| render_cell(row, column))
                        .collect()
                })
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
    object.insert(
        "majorDimension".into(),
        json!(if options.major == Major::Rows {
            "ROWS"
        } else {
            "COLUMNS"
        }),
    );
    if !lines.is_empty() {
        object.insert("values".into(), json!(lines));
    }
    Value::Object(object)
}

pub fn get(
    store: &Store,
    spreadsheet_id: &str,
    range: &str,
    query: &Query,
) -> Result<Value, ApiError> {
    let options = ReadOptions::from_query(query)?;
    store.read(spreadsheet_id, |spreadsheet| {
        let resolved = ranges::resolve(spreadsheet, range)?;
        Ok(value_range(
            &spreadsheet.sheets[resolved.sheet_index],
            &resolved,
            &options,
        ))
    })
}

pub fn batch_get(store: &Store, spreadsheet_id: &str, query: &Query) -> Result<Value, ApiError> {
    let options = ReadOptions::from_query(query)?;
    store.read(spreadsheet_id, |spreadsheet| {
        let mut value_ranges = Vec::new();
        for text in query.all("ranges") {
            let resolved = ranges::resolve(spreadsheet, &text)?;
            value_ranges.push(value_range(
                &spreadsheet.sheets[resolved.sheet_index],
                &resolved,
                &options,
            ));
        }
        let mut response = json!({"spreadsheetId": spreadsheet.spreadsheet_id});
        if !value_ranges.is_empty() {
            response["valueRanges"] = Value::Array(value_ranges);
        }
        Ok(response)
    })
}
