//! Cell writes → `updateCells` requests with an explicit `start`.
//!
//! A row's writes are split into runs of adjacent columns (people's columns in between are
//! skipped, never written) that agree on whether `note` is in the mask; runs of the same
//! columns on consecutive rows share one request (a bulk update or a block of appended rows
//! costs one request per column run, not one per row).

use std::sync::Arc;

use crate::sheets::model::{CellData, GridCoordinate, Request, RowData, UpdateCellsRequest};

/// What sheetsync owns in a synced cell: its value and its number format (dates).
pub const CELL_FIELDS: &str = "userEnteredValue,userEnteredFormat.numberFormat";
/// The same, for cells that carry a note (a revert reason, or `""` to clear one).
pub const CELL_FIELDS_WITH_NOTE: &str = "userEnteredValue,userEnteredFormat.numberFormat,note";
/// Header cells: the name only, so people's header formatting stays.
pub const HEADER_FIELDS: &str = "userEnteredValue";

struct Run {
    row: u32,
    column: u32,
    with_note: bool,
    cells: Vec<CellData>,
}

/// Cell writes collected row by row.
#[derive(Default)]
pub(super) struct CellWrites {
    runs: Vec<Run>,
    cells: usize,
}

impl CellWrites {
    /// The cells to write on one grid row, as (column, cell); a column given twice keeps the
    /// last cell.
    pub(super) fn add_row(&mut self, row: u32, columns: impl IntoIterator<Item = (u32, CellData)>) {
        let mut columns: Vec<(u32, CellData)> = columns.into_iter().collect();
        columns.reverse();
        columns.sort_by_key(|(column, _)| *column); // stable: the last of equal columns comes first
        columns.dedup_by_key(|(column, _)| *column);
        self.cells += columns.len();
        for (column, cell) in columns {
            let with_note = cell.note.is_some();
            match self.runs.last_mut() {
                Some(run)
                    if run.row == row
                        && run.with_note == with_note
                        && run.column + run.cells.len() as u32 == column =>
                {
                    run.cells.push(cell)
                }
                _ => self.runs.push(Run {
                    row,
                    column,
                    with_note,
                    cells: vec![cell],
                }),
            }
        }
    }

    pub(super) fn cells(&self) -> usize {
        self.cells
    }

    pub(super) fn into_requests(mut self, sheet_id: i64) -> Vec<Request> {
        self.runs
            .sort_by_key(|run| (run.column, run.cells.len(), run.with_note, run.row));
        let mut groups: Vec<Group> = Vec::new();
        for run in self.runs {
            match groups.last_mut() {
                Some(group)
                    if group.column == run.column
                        && group.width == run.cells.len()
                        && group.with_note == run.with_note
                        && group.row + group.rows.len() as u32 == run.row =>
                {
                    group.rows.push(RowData { values: run.cells })
                }
                _ => groups.push(Group {
                    row: run.row,
                    column: run.column,
                    width: run.cells.len(),
                    with_note: run.with_note,
                    rows: vec![RowData { values: run.cells }],
                }),
            }
        }
        groups
            .into_iter()
            .map(|group| {
                let fields = fields(group.with_note);
                update_cells(sheet_id, group.row, group.column, group.rows, fields)
            })
            .collect()
    }
}

/// Runs of the same columns on consecutive rows: one request.
struct Group {
    row: u32,
    column: u32,
    width: usize,
    with_note: bool,
    rows: Vec<RowData>,
}

fn fields(with_note: bool) -> &'static str {
    if with_note {
        CELL_FIELDS_WITH_NOTE
    } else {
        CELL_FIELDS
    }
}

/// Header cells for `names`, from `column` rightwards on row 0.
pub(super) fn header_request(sheet_id: i64, column: u32, names: &[&Arc<str>]) -> Request {
    let values = names.iter().map(|name| CellData::text(&***name)).collect();
    update_cells(sheet_id, 0, column, vec![RowData { values }], HEADER_FIELDS)
}

fn update_cells(sheet_id: i64, row: u32, column: u32, rows: Vec<RowData>, fields: &str) -> Request {
    Request::UpdateCells(UpdateCellsRequest {
        rows,
        fields: fields.to_string(),
        start: Some(GridCoordinate {
            sheet_id,
            row_index: row,
            column_index: column,
        }),
        range: None,
    })
}
