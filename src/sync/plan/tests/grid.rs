//! A small model of one Google Sheets tab, enough to apply what the planner sends and read it
//! back the way the writer does: grid limits ("exceeds grid limits"), all-or-nothing deletes
//! that refuse to remove every non-frozen row (the header row is frozen), `fields` masks.

use serde_json::{json, Value};

use crate::sheets::model::{
    CellFormat, Dimension, ExtendedValue, GridCoordinate, Request, UpdateCellsRequest,
};
use crate::sync::layout::TabLayout;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub value: Option<ExtendedValue>,
    pub format: Option<CellFormat>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Grid {
    pub sheet_id: i64,
    pub columns: usize,
    pub cells: Vec<Vec<Cell>>,
}

const FROZEN_ROWS: usize = 1;

impl Grid {
    pub fn new(sheet_id: i64, rows: usize, columns: usize) -> Self {
        Self {
            sheet_id,
            columns,
            cells: vec![vec![Cell::default(); columns]; rows],
        }
    }

    pub fn set(&mut self, row: usize, column: usize, value: ExtendedValue) {
        self.cells[row][column].value = Some(value);
    }

    pub fn text(&self, row: usize, column: usize) -> Option<&str> {
        match &self.cells.get(row)?.get(column)?.value {
            Some(ExtendedValue::StringValue(text)) => Some(text),
            _ => None,
        }
    }

    pub fn apply(&mut self, requests: &[Request]) -> Result<(), String> {
        for (index, request) in requests.iter().enumerate() {
            self.apply_one(request)
                .map_err(|error| format!("requests[{index}]: {error}"))?;
        }
        Ok(())
    }

    fn apply_one(&mut self, request: &Request) -> Result<(), String> {
        match request {
            Request::AppendDimension(append) => {
                self.check_sheet(append.sheet_id)?;
                let length = append.length as usize;
                if length == 0 {
                    return Err("length must be greater than 0".into());
                }
                match append.dimension {
                    Dimension::Rows => {
                        let row = vec![Cell::default(); self.columns];
                        self.cells.extend(std::iter::repeat_n(row, length));
                    }
                    Dimension::Columns => {
                        self.columns += length;
                        for row in &mut self.cells {
                            row.resize(self.columns, Cell::default());
                        }
                    }
                }
            }
            Request::DeleteDimension(delete) => {
                let range = &delete.range;
                self.check_sheet(range.sheet_id)?;
                if range.dimension != Dimension::Rows {
                    return Err("only rows are deleted".into());
                }
                let start = range.start_index.ok_or("no start")? as usize;
                let end = range.end_index.ok_or("no end")? as usize;
                if start >= end || end > self.cells.len() {
                    return Err(format!(
                        "cannot delete {start}..{end} of {}",
                        self.cells.len()
                    ));
                }
                if start < FROZEN_ROWS && self.cells.len() > FROZEN_ROWS {
                    return Err("the header row is not data".into());
                }
                if self.cells.len() - (end - start) <= FROZEN_ROWS {
                    return Err("Sorry, it is not possible to delete all non-frozen rows.".into());
                }
                self.cells.drain(start..end);
            }
            Request::UpdateCells(update) => self.update_cells(update)?,
            other => return Err(format!("not modelled: {other:?}")),
        }
        Ok(())
    }

    fn update_cells(&mut self, update: &UpdateCellsRequest) -> Result<(), String> {
        let Some(GridCoordinate {
            sheet_id,
            row_index,
            column_index,
        }) = &update.start
        else {
            return Err("updateCells without start".into());
        };
        self.check_sheet(*sheet_id)?;
        let fields: Vec<&str> = update.fields.split(',').collect();
        for field in &fields {
            if !["userEnteredValue", "userEnteredFormat.numberFormat", "note"].contains(field) {
                return Err(format!("unexpected field {field}"));
            }
        }
        for (offset, row) in update.rows.iter().enumerate() {
            let row_index = *row_index as usize + offset;
            for (column_offset, data) in row.values.iter().enumerate() {
                let column = *column_index as usize + column_offset;
                if row_index >= self.cells.len() || column >= self.columns {
                    return Err(format!(
                        "Range ({row_index},{column}) exceeds grid limits. Max rows: {}, max columns: {}",
                        self.cells.len(),
                        self.columns
                    ));
                }
                let cell = &mut self.cells[row_index][column];
                if fields.contains(&"userEnteredValue") {
                    cell.value = data.user_entered_value.clone();
                }
                if fields.contains(&"userEnteredFormat.numberFormat") {
                    cell.format = data.user_entered_format.clone();
                }
                if fields.contains(&"note") {
                    cell.note = data.note.clone().filter(|note| !note.is_empty());
                }
            }
        }
        Ok(())
    }

    fn check_sheet(&self, sheet_id: i64) -> Result<(), String> {
        if sheet_id == self.sheet_id {
            Ok(())
        } else {
            Err(format!("No grid with id: {sheet_id}"))
        }
    }

    /// Values of one row as `values.get` with `UNFORMATTED_VALUE` returns them: trailing
    /// empties trimmed.
    fn row_values(&self, row: usize) -> Vec<Value> {
        let mut values: Vec<Value> = self.cells[row]
            .iter()
            .map(|cell| to_json(&cell.value))
            .collect();
        while values.last().is_some_and(Value::is_null) {
            values.pop();
        }
        values
    }

    pub fn header_column(&self, name: &str) -> Option<usize> {
        self.row_values(0)
            .iter()
            .position(|value| value.as_str().map(str::trim) == Some(name))
    }

    /// Rows holding anything (the header included): what a read of whole rows finds.
    pub fn used_rows(&self) -> u32 {
        let used = self
            .cells
            .iter()
            .rposition(|row| row.iter().any(|cell| *cell != Cell::default()));
        used.map_or(0, |row| row as u32 + 1)
    }

    /// What the writer reads at start: the header row, then the key column(s) found by name.
    pub fn read_layout(&self, title: &str, key_columns: &[&str]) -> TabLayout {
        let header = if self.cells.is_empty() {
            Vec::new()
        } else {
            self.row_values(0)
        };
        let keys: Vec<Vec<Value>> = key_columns
            .iter()
            .map(|name| {
                let mut values: Vec<Value> = match self.header_column(name) {
                    Some(column) => self.cells[1..]
                        .iter()
                        .map(|row| to_json(&row[column].value))
                        .collect(),
                    None => Vec::new(),
                };
                while values
                    .last()
                    .is_some_and(|value| value.is_null() || value == "")
                {
                    values.pop();
                }
                values
            })
            .collect();
        TabLayout::from_values(
            self.sheet_id,
            title,
            self.cells.len() as u32,
            self.columns as u32,
            &header,
            &keys,
        )
    }
}

fn to_json(value: &Option<ExtendedValue>) -> Value {
    match value {
        None => Value::Null,
        Some(ExtendedValue::StringValue(text)) if text.is_empty() => Value::Null,
        Some(ExtendedValue::StringValue(text)) | Some(ExtendedValue::FormulaValue(text)) => {
            json!(text)
        }
        Some(ExtendedValue::NumberValue(number)) => json!(number),
        Some(ExtendedValue::BoolValue(flag)) => json!(flag),
        Some(ExtendedValue::ErrorValue(error)) => error.clone(),
    }
}
