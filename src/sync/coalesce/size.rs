//! Size estimate of a pending row: ≈ the JSON bytes it adds to a `spreadsheets.batchUpdate`,
//! so the writer can flush before the ~2 MB payload limit (DESIGN §2.3).
//!
//! Cells are measured exactly ([`super::json_length`]); the request around them is a
//! constant measured on typical requests (9-digit sheet id, 5-digit row index). Which request a
//! row becomes depends on the sheet: a row next to another row of the batch shares its
//! `updateCells` (consecutive rows of a bulk update, rows appended together), any other row
//! gets its own. The coalescer, which does not know the sheet, counts every row as grouped (so
//! the flush decision sees the size a burst will really have); the flush itself prices each row
//! against the sheet ([`super::Coalescer::take_at_most`]).

use std::sync::Arc;

use super::json_length::cell_json_length;
use crate::sheets::model::{CellData, ExtendedValue};

use super::RowUpdate;

/// `{"updateCells":{"rows":[{"values":[…]}],"fields":"…","start":{…}}},` around the cells.
const UPDATE_REQUEST_BYTES: usize = 163;
/// `{"values":[…]},` inside an updateCells shared by consecutive appended rows.
const APPENDED_ROW_BYTES: usize = 14;
/// `{"deleteDimension":{"range":{…}}},`
const DELETE_REQUEST_BYTES: usize = 108;
/// Extra mask text (`,note`) when a cell carries a note.
const NOTE_MASK_BYTES: usize = 5;

/// A row's JSON bytes in a batchUpdate, both ways it can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    /// Written by a request of its own (a row whose sheet neighbours are not in the batch).
    pub alone: usize,
    /// Written inside a request shared with the neighbouring rows (a bulk update of
    /// consecutive rows, or rows appended together).
    pub grouped: usize,
}

pub(super) fn estimate(update: &RowUpdate) -> Estimate {
    let cells = match update {
        RowUpdate::Delete => {
            return Estimate {
                alone: DELETE_REQUEST_BYTES,
                grouped: DELETE_REQUEST_BYTES,
            }
        }
        RowUpdate::Cells { cells } => cells_bytes(cells.iter().map(|(_, cell)| cell)),
        RowUpdate::Upsert { cells, changed } => {
            let whole_row = cells.iter().all(|(name, _)| changed.contains(name));
            if whole_row {
                cells_bytes(cells.iter().map(|(_, cell)| cell))
            } else {
                let written = cells
                    .iter()
                    .filter(|(name, _)| changed.contains(name))
                    .map(|(_, cell)| cell);
                cells_bytes(written)
            }
        }
    };
    Estimate {
        alone: UPDATE_REQUEST_BYTES + cells,
        grouped: APPENDED_ROW_BYTES + cells,
    }
}

fn cells_bytes<'a>(cells: impl Iterator<Item = &'a CellData>) -> usize {
    let mut bytes: usize = 0;
    let mut separators: usize = 0;
    let mut notes = false;
    for cell in cells {
        bytes += cell_json_length(cell);
        separators += 1;
        notes |= cell.note.is_some();
    }
    bytes + separators.saturating_sub(1) + if notes { NOTE_MASK_BYTES } else { 0 }
}

/// ≈ bytes a row update holds in memory (the router → writer channel's byte budget).
pub fn memory_bytes(update: &RowUpdate) -> usize {
    let cells = match update {
        RowUpdate::Delete => return std::mem::size_of::<RowUpdate>(),
        RowUpdate::Upsert { cells, changed } => {
            cells_memory(cells) + changed.capacity() * std::mem::size_of::<Arc<str>>()
        }
        RowUpdate::Cells { cells } => cells_memory(cells),
    };
    std::mem::size_of::<RowUpdate>() + cells
}

fn cells_memory(cells: &Vec<(Arc<str>, CellData)>) -> usize {
    cells.capacity() * std::mem::size_of::<(Arc<str>, CellData)>()
        + cells
            .iter()
            .map(|(_, cell)| cell_heap_bytes(cell))
            .sum::<usize>()
}

fn cell_heap_bytes(cell: &CellData) -> usize {
    let value = |value: &Option<ExtendedValue>| match value {
        Some(ExtendedValue::StringValue(text) | ExtendedValue::FormulaValue(text)) => {
            text.capacity()
        }
        Some(ExtendedValue::ErrorValue(_)) => 64,
        _ => 0,
    };
    let text = |text: &Option<String>| text.as_ref().map_or(0, String::capacity);
    value(&cell.user_entered_value)
        + value(&cell.effective_value)
        + text(&cell.note)
        + text(&cell.formatted_value)
        + cell
            .user_entered_format
            .as_ref()
            .and_then(|format| format.number_format.as_ref())
            .map_or(0, |format| text(&format.pattern))
}
