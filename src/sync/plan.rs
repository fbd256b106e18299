//! Planning: one flush of one tab → the `spreadsheets.batchUpdate` requests, plus the tab's
//! layout after Google applies them (DESIGN §2.4, §2.6, §2.11, §2.12).
//!
//! Consumes the tab's [`TabLayout`], its [`TabSpec`] and the batch's merged rows. Produces a
//! [`TabPlan`], requests in this order:
//! 1. `appendDimension ROWS` only when the deletes would leave no row under the header (Google
//!    refuses to delete every non-frozen row, and the header is usually frozen);
//! 2. `deleteDimension` for deleted keys, bottom-up and merged into ranges, so no delete shifts
//!    another;
//! 3. `appendDimension COLUMNS` if needed, then header cells for synced columns missing from the
//!    header, at the first free columns right of the last header cell;
//! 4. `updateCells` for rows already in the sheet: only their changed, synced columns;
//! 5. `appendDimension ROWS` if needed, then `updateCells` writing new keys as whole rows at
//!    explicit rows right after the last key (explicit positions keep the layout exact, where
//!    `appendCells` would land after whatever a person typed below).
//!
//! Deletes go first so the grid never grows before it shrinks: a tab near the cell limit must
//! not cross it halfway through a batch. Guarantees: cells of columns outside the spec are never
//! written (people's own columns survive); a key ends up on the sheet at most once more than it
//! was (a key change, Delete(old) + Upsert(new), leaves the new key exactly once); a batch that
//! would make the tab exceed [`MAX_CELLS_PER_TAB`] at any step is refused whole; `layout_after`
//! is exactly what the sheet looks like once the requests are applied. Requests carry the tab's
//! sheet id, so the plans of several tabs concatenate into one batch.
//!
//! Notes: a cell's `note` is in the `fields` mask only when the cell has one (`Some("")`
//! clears it). With `note` always in the mask, every database write would wipe notes people
//! put on synced cells; never in the mask, a revert reason could not be written. Cells with and
//! without a note therefore go in separate `updateCells`, so a neighbour's note is never cleared.

mod cells;

use std::collections::HashSet;
use std::sync::Arc;

use crate::sheets::model::{
    AppendDimensionRequest, CellData, DeleteDimensionRequest, Dimension, DimensionRange, Request,
};
use crate::sync::coalesce::{PendingRow, RowUpdate};
use crate::sync::layout::{TabLayout, HEADER_ROWS};
use crate::sync::RowKey;

use cells::{header_request, CellWrites};

/// A cell of a pending row, by column name.
type NamedCell = (Arc<str>, CellData);

/// Google Sheets' cell limit (DESIGN §2.12). Google counts it per spreadsheet: the writer also
/// adds up [`TabPlan::peak_cells`] of its tabs.
pub const MAX_CELLS_PER_TAB: u64 = 10_000_000;

/// What one mapping syncs into its tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabSpec {
    pub title: String,
    pub key_columns: Vec<Arc<str>>,
    /// Synced columns, in table order.
    pub columns: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TabPlan {
    pub requests: Vec<Request>,
    pub layout_after: TabLayout,
    /// Cells in `updateCells` requests, header cells included.
    pub cells_written: usize,
    pub rows_appended: usize,
    pub rows_deleted: usize,
    /// Write-backs and deletes for keys not in the sheet (nothing to do, DESIGN §2.6).
    pub rows_skipped: usize,
    /// Upserts whose key is empty: such a row cannot be told from a blank one, so it is not
    /// written (each flush would append it again). Surface it.
    pub rows_with_empty_key: usize,
    /// The most cells the tab holds at any step of the batch.
    pub peak_cells: u64,
}

/// Why a tab's batch cannot be planned. Every variant is definite: the same batch fails again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "tab `{title}` would hold {cells} cells ({rows} rows × {columns} columns); \
         Google Sheets allows at most {limit}"
    )]
    TooLarge {
        title: String,
        rows: u64,
        columns: u64,
        cells: u64,
        limit: u64,
    },
}

impl PlanError {
    pub fn is_transient(&self) -> bool {
        match self {
            PlanError::TooLarge { .. } => false,
        }
    }
}

pub fn plan_tab<'a>(
    layout: &TabLayout,
    spec: &TabSpec,
    rows: impl Iterator<Item = (&'a RowKey, &'a PendingRow)>,
) -> Result<TabPlan, PlanError> {
    let sheet_id = layout.sheet_id;
    let synced = synced_columns(spec);
    let synced_names: HashSet<&str> = synced.iter().map(|name| &**name).collect();
    let mut plan = TabPlan {
        requests: Vec::new(),
        layout_after: layout.clone(),
        cells_written: 0,
        rows_appended: 0,
        rows_deleted: 0,
        rows_skipped: 0,
        rows_with_empty_key: 0,
        peak_cells: 0,
    };

    let mut deleted_rows = Vec::new();
    let mut updates: Vec<(&RowKey, Vec<&NamedCell>)> = Vec::new();
    let mut appends: Vec<(u64, &RowKey, &[NamedCell])> = Vec::new();
    for (key, pending) in rows {
        let present = layout.row_of(key);
        match (&pending.update, present) {
            (RowUpdate::Delete, Some(row)) => deleted_rows.push(row),
            (RowUpdate::Cells { cells }, Some(_)) => updates.push((key, cells.iter().collect())),
            (RowUpdate::Delete | RowUpdate::Cells { .. }, None) => plan.rows_skipped += 1,
            (RowUpdate::Upsert { .. }, _) if key.is_empty() => plan.rows_with_empty_key += 1,
            (RowUpdate::Upsert { cells, changed }, Some(_)) => updates.push((
                key,
                cells
                    .iter()
                    .filter(|(name, _)| changed.contains(name))
                    .collect(),
            )),
            (RowUpdate::Upsert { cells, .. }, None) => appends.push((pending.arrival, key, cells)),
        }
    }

    // 1–2. Deletes, bottom-up.
    deleted_rows.sort_unstable_by(|a, b| b.cmp(a));
    deleted_rows.dedup();
    let deleted = u32::try_from(deleted_rows.len()).unwrap_or(u32::MAX);
    let keep_one_row = HEADER_ROWS + 1;
    let guard = match deleted {
        0 => 0,
        _ => keep_one_row.saturating_sub(layout.grid_rows.saturating_sub(deleted)),
    };
    if guard > 0 {
        plan.requests
            .push(append_dimension(sheet_id, Dimension::Rows, guard));
        plan.layout_after.grid_rows += guard;
    }
    let mut peak = Peak::default();
    peak.observe(&plan.layout_after);
    for (start, end) in descending_ranges(&deleted_rows) {
        plan.requests
            .push(Request::DeleteDimension(DeleteDimensionRequest {
                range: DimensionRange::rows(sheet_id, start, end),
            }));
    }
    plan.layout_after.remove_grid_rows(&deleted_rows);
    plan.rows_deleted = deleted_rows.len();

    // 3. Header.
    let missing: Vec<&Arc<str>> = synced
        .iter()
        .filter(|name| plan.layout_after.column(name).is_none())
        .collect();
    let first_free = plan.layout_after.header_end();
    let columns_needed =
        first_free.saturating_add(u32::try_from(missing.len()).unwrap_or(u32::MAX));
    if columns_needed > plan.layout_after.grid_columns {
        let growth = columns_needed - plan.layout_after.grid_columns;
        plan.requests
            .push(append_dimension(sheet_id, Dimension::Columns, growth));
        plan.layout_after.grid_columns = columns_needed;
    }
    if !missing.is_empty() {
        plan.requests
            .push(header_request(sheet_id, first_free, &missing));
        plan.cells_written += missing.len();
        for (offset, name) in (0u32..).zip(&missing) {
            plan.layout_after
                .add_header_column(name, first_free + offset);
        }
    }
    peak.observe(&plan.layout_after);

    // 4. Rows already in the sheet.
    let mut writes = CellWrites::default();
    for (key, cells) in updates {
        let Some(row) = plan.layout_after.row_of(key) else {
            continue; // Not reachable: a key has one pending change, and only deletes remove rows.
        };
        let columns = cells.into_iter().filter_map(|(name, cell)| {
            let column = plan.layout_after.column(name)?;
            synced_names
                .contains(&**name)
                .then_some((column, cell.clone()))
        });
        writes.add_row(row, columns);
    }
    plan.cells_written += writes.cells();
    plan.requests.extend(writes.into_requests(sheet_id));

    // 5. New rows, in arrival order, right after the last key.
    appends.sort_by_key(|(arrival, _, _)| *arrival);
    let mut writes = CellWrites::default();
    for (_, key, cells) in appends {
        let row = match plan.layout_after.row_of(key) {
            Some(row) => row, // The same key twice in one batch: write, do not duplicate.
            None => {
                plan.rows_appended += 1;
                plan.layout_after.push_row(key.clone())
            }
        };
        let mut columns: Vec<(u32, CellData)> = cells
            .iter()
            .filter(|(name, _)| synced_names.contains(&**name))
            .filter_map(|(name, cell)| Some((plan.layout_after.column(name)?, cell.clone())))
            .collect();
        // The key cells place the row: write them even when the image lacks them.
        for (name, part) in spec.key_columns.iter().zip(&key.0) {
            if !cells.iter().any(|(cell_name, _)| cell_name == name) {
                if let Some(column) = plan.layout_after.column(name) {
                    columns.push((column, CellData::text(part.clone())));
                }
            }
        }
        writes.add_row(row, columns);
    }
    let rows_needed = plan.layout_after.used_rows();
    if rows_needed > plan.layout_after.grid_rows {
        let growth = rows_needed - plan.layout_after.grid_rows;
        plan.requests
            .push(append_dimension(sheet_id, Dimension::Rows, growth));
        plan.layout_after.grid_rows = rows_needed;
    }
    plan.cells_written += writes.cells();
    plan.requests.extend(writes.into_requests(sheet_id));

    peak.observe(&plan.layout_after);
    plan.peak_cells = peak.cells();
    if plan.peak_cells > MAX_CELLS_PER_TAB {
        return Err(PlanError::TooLarge {
            title: spec.title.clone(),
            rows: peak.rows,
            columns: peak.columns,
            cells: plan.peak_cells,
            limit: MAX_CELLS_PER_TAB,
        });
    }
    Ok(plan)
}

/// The largest grid the tab has between two requests of the batch. Only steps that grow the
/// grid are observed: before the deletes (after the guard row), after the header, at the end.
#[derive(Default)]
struct Peak {
    rows: u64,
    columns: u64,
}

impl Peak {
    fn observe(&mut self, layout: &TabLayout) {
        let (rows, columns) = (u64::from(layout.grid_rows), u64::from(layout.grid_columns));
        if rows * columns > self.cells() {
            (self.rows, self.columns) = (rows, columns);
        }
    }

    fn cells(&self) -> u64 {
        self.rows * self.columns
    }
}

/// The columns the tab must have: the spec's, then any key column the spec leaves out.
fn synced_columns(spec: &TabSpec) -> Vec<Arc<str>> {
    let mut columns: Vec<Arc<str>> = Vec::with_capacity(spec.columns.len());
    for name in spec.columns.iter().chain(&spec.key_columns) {
        if !columns.contains(name) {
            columns.push(name.clone());
        }
    }
    columns
}

/// Descending grid rows → `(start, end)` ranges of consecutive rows, bottom-up.
fn descending_ranges(rows: &[u32]) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &row in rows {
        match ranges.last_mut() {
            Some((start, _)) if *start == row + 1 => *start = row,
            _ => ranges.push((row, row + 1)),
        }
    }
    ranges
}

fn append_dimension(sheet_id: i64, dimension: Dimension, length: u32) -> Request {
    Request::AppendDimension(AppendDimensionRequest {
        sheet_id,
        dimension,
        length,
    })
}

#[cfg(test)]
mod tests;
