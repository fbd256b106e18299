//! Resolving A1 strings and `GridRange` objects against a spreadsheet, with Google's errors.

use serde_json::Value;

use super::a1::{self, CellSpan};
use super::model::{Sheet, Spreadsheet};
use crate::error::ApiError;

/// A range resolved to one sheet. Ends are exclusive and already clipped to the grid when the
/// range was open (`A:A` ends at the last row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub sheet_index: usize,
    pub start_row: u32,
    pub end_row: u32,
    pub start_column: u32,
    pub end_column: u32,
    /// The range was written as one cell (`A1`): writes may extend right and down from it.
    pub single_cell: bool,
    /// The range had no explicit last row / column (`A:A`, `A5:A`, `1:2`, whole sheet).
    pub open_rows: bool,
    pub open_columns: bool,
}

impl Resolved {
    pub fn format(&self, sheet: &Sheet) -> String {
        a1::format_range(
            &sheet.title,
            self.start_row,
            self.end_row,
            self.start_column,
            self.end_column,
        )
    }
}

pub fn unable_to_parse(text: &str) -> ApiError {
    ApiError::invalid_argument(format!("Unable to parse range: {text}"))
}

/// `Range (Tab!Y1) exceeds grid limits. Max rows: N, max columns: M`
pub fn exceeds_grid(
    sheet: &Sheet,
    start_row: u32,
    end_row: u32,
    start_column: u32,
    end_column: u32,
) -> ApiError {
    ApiError::invalid_argument(format!(
        "Range ({}) exceeds grid limits. Max rows: {}, max columns: {}",
        a1::format_range(&sheet.title, start_row, end_row, start_column, end_column),
        sheet.row_count,
        sheet.column_count
    ))
}

/// The first visible sheet: what a range without a sheet name refers to.
fn first_visible_sheet(spreadsheet: &Spreadsheet) -> usize {
    spreadsheet
        .sheets
        .iter()
        .position(|sheet| !sheet.hidden)
        .unwrap_or(0)
}

/// Resolve an A1 string (`Sheet1!A1:B2`, `'My Tab'`, `A1:B2`, `Sheet1`).
pub fn resolve(spreadsheet: &Spreadsheet, text: &str) -> Result<Resolved, ApiError> {
    let (sheet_index, span) = match a1::parse(text) {
        Some(parsed) => {
            let name = parsed.sheet.unwrap_or_default();
            let index = spreadsheet
                .sheet_index_by_title(&name)
                .ok_or_else(|| unable_to_parse(text))?;
            (index, parsed.cells)
        }
        None => {
            // No `!`: a sheet title wins over a cell reference, as in Google.
            if let Some(index) = spreadsheet.sheet_index_by_title(text.trim()) {
                (index, None)
            } else if let Some(span) = a1::parse_bare(text) {
                (first_visible_sheet(spreadsheet), Some(span))
            } else {
                return Err(unable_to_parse(text));
            }
        }
    };
    let sheet = spreadsheet
        .sheets
        .get(sheet_index)
        .ok_or_else(|| unable_to_parse(text))?;
    resolve_span(sheet_index, sheet, span)
}

fn resolve_span(
    sheet_index: usize,
    sheet: &Sheet,
    span: Option<CellSpan>,
) -> Result<Resolved, ApiError> {
    let span = span.unwrap_or(CellSpan {
        start_row: None,
        start_column: None,
        end_row: None,
        end_column: None,
        single_cell: false,
    });
    let start_row = span.start_row.unwrap_or(0);
    let start_column = span.start_column.unwrap_or(0);
    let open_rows = span.end_row.is_none();
    let open_columns = span.end_column.is_none();
    let end_row = span.end_row.map(|row| row + 1).unwrap_or(sheet.row_count);
    let end_column = span
        .end_column
        .map(|column| column + 1)
        .unwrap_or(sheet.column_count);
    if start_row >= sheet.row_count.max(1) && !(open_rows && start_row == 0)
        || start_column >= sheet.column_count.max(1) && !(open_columns && start_column == 0)
        || end_row > sheet.row_count
        || end_column > sheet.column_count
    {
        let shown_end_row = end_row.max(start_row + 1);
        let shown_end_column = end_column.max(start_column + 1);
        return Err(exceeds_grid(
            sheet,
            start_row,
            shown_end_row,
            start_column,
            shown_end_column,
        ));
    }
    Ok(Resolved {
        sheet_index,
        start_row,
        end_row: end_row.max(start_row),
        start_column,
        end_column: end_column.max(start_column),
        single_cell: span.single_cell,
        open_rows,
        open_columns,
    })
}

/// Read an integer that proto3 JSON may send as a number or a string.
pub fn integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64)),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

/// A `GridRange` object: missing indexes mean unbounded (clipped to the grid).
pub fn resolve_grid_range(spreadsheet: &Spreadsheet, range: &Value) -> Result<Resolved, ApiError> {
    let sheet_id = integer(range.get("sheetId")).unwrap_or(0);
    let sheet_index = spreadsheet
        .sheets
        .iter()
        .position(|sheet| sheet.sheet_id == sheet_id)
        .ok_or_else(|| no_grid(sheet_id))?;
    let sheet = &spreadsheet.sheets[sheet_index];
    let bound = |name: &str| -> Result<Option<u32>, ApiError> {
        match integer(range.get(name)) {
            None => Ok(None),
            Some(index) if index < 0 => Err(ApiError::invalid_argument(format!(
                "Invalid {name}: {index}; it must be >= 0"
            ))),
            Some(index) => Ok(Some(u32::try_from(index).unwrap_or(u32::MAX))),
        }
    };
    let start_row = bound("startRowIndex")?.unwrap_or(0);
    let start_column = bound("startColumnIndex")?.unwrap_or(0);
    let end_row = bound("endRowIndex")?;
    let end_column = bound("endColumnIndex")?;
    let resolved = Resolved {
        sheet_index,
        start_row,
        end_row: end_row.unwrap_or(sheet.row_count).max(start_row),
        start_column,
        end_column: end_column.unwrap_or(sheet.column_count).max(start_column),
        single_cell: false,
        open_rows: end_row.is_none(),
        open_columns: end_column.is_none(),
    };
    if resolved.end_row > sheet.row_count || resolved.end_column > sheet.column_count {
        return Err(exceeds_grid(
            sheet,
            resolved.start_row,
            resolved.end_row.max(resolved.start_row + 1),
            resolved.start_column,
            resolved.end_column.max(resolved.start_column + 1),
        ));
    }
    Ok(resolved)
}

/// Google's message for a request naming a sheet id that does not exist.
pub fn no_grid(sheet_id: i64) -> ApiError {
    ApiError::invalid_argument(format!("No grid with id: {sheet_id}"))
}
