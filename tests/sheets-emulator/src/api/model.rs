//! The in-memory spreadsheet: sheets, sparse grids of cells, developer metadata.
//!
//! Rows are `Arc`ed so that a batch can work on a cheap copy of a spreadsheet (cloning copies
//! row pointers, not cells) and copy only the rows it actually touches (`Arc::make_mut`). That
//! gives all-or-nothing batches without deep-cloning a 100,000-row sheet on every request.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::metadata::DeveloperMetadata;

/// Google's limit on the grid size of a whole spreadsheet (sum of rowCount × columnCount).
pub const MAX_CELLS_PER_SPREADSHEET: u64 = 10_000_000;
/// Google's limit on the characters in one cell.
pub const MAX_CHARACTERS_PER_CELL: usize = 50_000;
pub const DEFAULT_ROW_COUNT: u32 = 1000;
pub const DEFAULT_COLUMN_COUNT: u32 = 26;

/// A cell's stored value (`ExtendedValue`). Formulas are kept as text and never evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Number(f64),
    Text(String),
    Bool(bool),
    Formula(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub value: Option<CellValue>,
    pub note: Option<String>,
    /// `userEnteredFormat` as JSON (only `numberFormat` affects rendering).
    pub format: Option<Box<Value>>,
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        self.value.is_none() && self.note.is_none() && self.format.is_none()
    }

    /// `numberFormat.type` and `numberFormat.pattern`, when the cell has a number format.
    pub fn number_format(&self) -> Option<(&str, &str)> {
        let number_format = self.format.as_ref()?.get("numberFormat")?;
        let kind = number_format
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("NUMBER");
        let pattern = number_format
            .get("pattern")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some((kind, pattern))
    }
}

pub type Row = Vec<Cell>;

#[derive(Debug, Clone)]
pub struct Sheet {
    pub sheet_id: i64,
    pub title: String,
    pub row_count: u32,
    pub column_count: u32,
    pub frozen_row_count: u32,
    pub frozen_column_count: u32,
    pub hidden: bool,
    /// Row `i` of the grid; rows past the end of this vector are empty. A row vector may also
    /// be shorter than `column_count`: missing cells are empty.
    pub rows: Vec<Arc<Row>>,
}

impl Sheet {
    pub fn new(sheet_id: i64, title: String, row_count: u32, column_count: u32) -> Self {
        Sheet {
            sheet_id,
            title,
            row_count,
            column_count,
            frozen_row_count: 0,
            frozen_column_count: 0,
            hidden: false,
            rows: Vec::new(),
        }
    }

    pub fn cell(&self, row: u32, column: u32) -> Option<&Cell> {
        self.rows.get(row as usize)?.get(column as usize)
    }

    /// A mutable cell, creating empty rows and cells up to it. Copies the row if it is shared
    /// with the committed spreadsheet.
    pub fn cell_mut(&mut self, row: u32, column: u32) -> &mut Cell {
        let row = row as usize;
        let column = column as usize;
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, || Arc::new(Vec::new()));
        }
        let cells = Arc::make_mut(&mut self.rows[row]);
        if cells.len() <= column {
            cells.resize_with(column + 1, Cell::default);
        }
        &mut cells[column]
    }

    /// Whether a row holds a value in `[start_column, end_column)`.
    pub fn row_has_value(&self, row: u32, start_column: u32, end_column: u32) -> bool {
        match self.rows.get(row as usize) {
            None => false,
            Some(cells) => cells
                .iter()
                .enumerate()
                .skip(start_column as usize)
                .take(end_column.saturating_sub(start_column) as usize)
                .any(|(_, cell)| cell.value.is_some()),
        }
    }

    /// The last row holding any value, plus one (0 when the sheet has no values).
    pub fn used_row_end(&self) -> u32 {
        let mut end = self.rows.len();
        while end > 0 && !self.rows[end - 1].iter().any(|cell| cell.value.is_some()) {
            end -= 1;
        }
        end as u32
    }

    pub fn cell_count(&self) -> u64 {
        self.row_count as u64 * self.column_count as u64
    }

    /// Insert `count` empty rows before `start`.
    pub fn insert_rows(&mut self, start: u32, count: u32) {
        let start = start as usize;
        if start < self.rows.len() {
            let empty = (0..count).map(|_| Arc::new(Vec::new()));
            self.rows.splice(start..start, empty);
        }
        self.row_count += count;
    }

    /// Delete rows `[start, end)`.
    pub fn delete_rows(&mut self, start: u32, end: u32) {
        let length = self.rows.len();
        let (from, to) = ((start as usize).min(length), (end as usize).min(length));
        self.rows.drain(from..to);
        self.row_count -= end.saturating_sub(start).min(self.row_count);
    }

    pub fn insert_columns(&mut self, start: u32, count: u32) {
        let start = start as usize;
        for row in self.rows.iter_mut() {
            if start < row.len() {
                let cells = Arc::make_mut(row);
                cells.splice(start..start, (0..count).map(|_| Cell::default()));
            }
        }
        self.column_count += count;
    }

    pub fn delete_columns(&mut self, start: u32, end: u32) {
        for row in self.rows.iter_mut() {
            let length = row.len();
            if (start as usize) < length {
                let cells = Arc::make_mut(row);
                cells.drain(start as usize..(end as usize).min(length));
            }
        }
        self.column_count -= (end - start).min(self.column_count);
    }

    /// Drop cells outside the grid after the grid shrank.
    pub fn truncate_to_grid(&mut self) {
        self.rows.truncate(self.row_count as usize);
        let columns = self.column_count as usize;
        for row in self.rows.iter_mut() {
            if row.len() > columns {
                Arc::make_mut(row).truncate(columns);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Spreadsheet {
    pub spreadsheet_id: String,
    pub title: String,
    pub locale: String,
    pub time_zone: String,
    pub sheets: Vec<Sheet>,
    /// All developer metadata of the spreadsheet, by id. Shared on clone; copied only when a
    /// batch changes metadata.
    pub metadata: Arc<BTreeMap<i64, DeveloperMetadata>>,
}

impl Spreadsheet {
    pub fn sheet_by_id(&self, sheet_id: i64) -> Option<&Sheet> {
        self.sheets.iter().find(|sheet| sheet.sheet_id == sheet_id)
    }

    pub fn sheet_by_id_mut(&mut self, sheet_id: i64) -> Option<&mut Sheet> {
        self.sheets
            .iter_mut()
            .find(|sheet| sheet.sheet_id == sheet_id)
    }

    pub fn sheet_index_by_title(&self, title: &str) -> Option<usize> {
        // Google matches sheet titles case-insensitively in ranges.
        self.sheets
            .iter()
            .position(|sheet| sheet.title == title)
            .or_else(|| {
                self.sheets
                    .iter()
                    .position(|sheet| sheet.title.eq_ignore_ascii_case(title))
            })
    }

    pub fn total_cells(&self) -> u64 {
        self.sheets.iter().map(Sheet::cell_count).sum()
    }

    pub fn metadata_mut(&mut self) -> &mut BTreeMap<i64, DeveloperMetadata> {
        Arc::make_mut(&mut self.metadata)
    }

    pub fn url(&self) -> String {
        format!(
            "https://docs.google.com/spreadsheets/d/{}/edit",
            self.spreadsheet_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserting_and_deleting_rows_moves_cells() {
        let mut sheet = Sheet::new(0, "S".into(), 10, 3);
        sheet.cell_mut(0, 0).value = Some(CellValue::Number(1.0));
        sheet.cell_mut(1, 0).value = Some(CellValue::Number(2.0));
        sheet.insert_rows(1, 2);
        assert_eq!(sheet.row_count, 12);
        assert_eq!(
            sheet.cell(3, 0).unwrap().value,
            Some(CellValue::Number(2.0))
        );
        sheet.delete_rows(0, 3);
        assert_eq!(sheet.row_count, 9);
        assert_eq!(
            sheet.cell(0, 0).unwrap().value,
            Some(CellValue::Number(2.0))
        );
        assert_eq!(sheet.used_row_end(), 1);
    }

    #[test]
    fn a_copy_shares_rows_until_written() {
        let mut sheet = Sheet::new(0, "S".into(), 10, 3);
        sheet.cell_mut(0, 0).value = Some(CellValue::Bool(true));
        let mut copy = sheet.clone();
        copy.cell_mut(0, 0).value = None;
        assert_eq!(sheet.cell(0, 0).unwrap().value, Some(CellValue::Bool(true)));
    }
}
