//! Planning: one flush of one tab → the `spreadsheets.batchUpdate` requests, changing the tab's
//! layout in place to what the sheet holds once Google applies them (DESIGN §2.4, §2.6, §2.11,
//! §2.12).
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
//!    explicit rows right after the data rows (explicit positions keep the layout exact, where
//!    `appendCells` would land after whatever a person typed further down).
//!
//! Deletes go first so the grid never grows before it shrinks: a tab near the cell limit must
//! not cross it halfway through a batch. Guarantees: cells of columns outside the spec are never
//! written (people's own columns survive); a key ends up on the sheet at most once more than it
//! was (a key change, Delete(old) + Upsert(new), leaves the new key exactly once); a batch that
//! would make the tab exceed [`MAX_CELLS_PER_TAB`] at any step is refused whole, the layout left
//! as it was; after a plan the layout is exactly what the sheet looks like once the requests are
//! applied (a caller whose batch then fails undoes it: [`TabLayout::begin_changes`]). Requests
//! carry the tab's sheet id, so the plans of several tabs concatenate into one batch.
//!
//! Notes: a cell's `note` is in the `fields` mask only when the cell has one (`Some("")`
//! clears it). With `note` always in the mask, every database write would wipe notes people
//! put on synced cells; never in the mask, a revert reason could not be written. Cells with and
//! without a note therefore go in separate `updateCells`, so a neighbour's note is never cleared.

mod cells;
pub mod guard;
pub mod row_guard;

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
/// adds up [`TabPlan::peak_cells`] of its tabs ([`check_spreadsheet_cells`]).
pub const MAX_CELLS_PER_TAB: u64 = 10_000_000;

/// Refuses a batch whose tabs would together hold more cells than Google allows in one
/// spreadsheet: `tab_cells` is each synced tab's peak in the batch (or its grid when the batch
/// leaves it alone). Tabs sheetsync does not sync count too; Google refuses such a batch
/// whole, which the writer surfaces as a definite Sheets error.
pub fn check_spreadsheet_cells(tab_cells: impl IntoIterator<Item = u64>) -> Result<(), PlanError> {
    let (tabs, cells) = tab_cells.into_iter().fold((0, 0u64), |(tabs, sum), cells| {
        (tabs + 1, sum.saturating_add(cells))
    });
    if cells > MAX_CELLS_PER_TAB {
        return Err(PlanError::SpreadsheetTooLarge {
            tabs,
            cells,
            limit: MAX_CELLS_PER_TAB,
        });
    }
    Ok(())
}

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
    #[error(
        "the {tabs} synced tabs of this spreadsheet would hold {cells} cells together; \
         Google Sheets allows at most {limit} in one spreadsheet: map some tables to \
         another spreadsheet"
    )]
    SpreadsheetTooLarge { tabs: usize, cells: u64, limit: u64 },
}

impl PlanError {
    pub fn is_transient(&self) -> bool {
        match self {
            PlanError::TooLarge { .. } | PlanError::SpreadsheetTooLarge { .. } => false,
        }
    }
}

/// Plans the batch's rows and changes `layout` to match; on an error `layout` is unchanged.
pub fn plan_tab<'a>(
    layout: &mut TabLayout,
    spec: &TabSpec,
    rows: impl Iterator<Item = (&'a RowKey, &'a PendingRow)>,
) -> Result<TabPlan, PlanError> {
    plan_tab_deleting(layout, spec, rows, Vec::new())
}

/// [`plan_tab`], also deleting these grid rows (rows found by key hash, whose key text the
/// caller does not have: the initial load's leftover rows).
pub fn plan_tab_deleting<'a>(
    layout: &mut TabLayout,
    spec: &TabSpec,
    rows: impl Iterator<Item = (&'a RowKey, &'a PendingRow)>,
    mut deleted_rows: Vec<u32>,
) -> Result<TabPlan, PlanError> {
    let mark = layout.begin_changes();
    let mut planner = Planner {
        synced: synced_columns(spec),
        key_columns: &spec.key_columns,
        peak: Peak::default(),
        layout: &mut *layout,
        plan: TabPlan {
            requests: Vec::new(),
            cells_written: 0,
            rows_appended: 0,
            rows_deleted: 0,
            rows_skipped: 0,
            rows_with_empty_key: 0,
            peak_cells: 0,
        },
    };
    let mut updates: Vec<(&RowKey, Vec<&NamedCell>)> = Vec::new();
    let mut appends: Vec<(u64, &RowKey, &[NamedCell])> = Vec::new();
    for (key, pending) in rows {
        match (&pending.update, planner.layout.row_of(key)) {
            (RowUpdate::Delete, Some(row)) => deleted_rows.push(row),
            (RowUpdate::Cells { cells }, Some(_)) => updates.push((key, cells.iter().collect())),
            (RowUpdate::Delete | RowUpdate::Cells { .. }, None) => planner.plan.rows_skipped += 1,
            (RowUpdate::Upsert { .. }, _) if key.is_empty() => {
                planner.plan.rows_with_empty_key += 1
            }
            (RowUpdate::Upsert { cells, changed }, Some(_)) => {
                let written = cells.iter().filter(|(name, _)| changed.contains(name));
                updates.push((key, written.collect()))
            }
            (RowUpdate::Upsert { cells, .. }, None) => appends.push((pending.arrival, key, cells)),
        }
    }
    planner.delete(deleted_rows);
    planner.header();
    planner.update(updates);
    appends.sort_by_key(|(arrival, _, _)| *arrival);
    planner.append(appends);
    let result = planner.finish(&spec.title);
    if result.is_ok() {
        layout.keep_changes(mark);
    } else {
        layout.undo_changes(mark);
    }
    result
}

struct Planner<'a> {
    /// The columns sheetsync writes: the spec's, then any key column the spec leaves out.
    synced: Vec<Arc<str>>,
    key_columns: &'a [Arc<str>],
    peak: Peak,
    layout: &'a mut TabLayout,
    plan: TabPlan,
}

impl Planner<'_> {
    fn sheet_id(&self) -> i64 {
        self.layout.sheet_id
    }

    /// Steps 1–2: deletes, bottom-up, after a spare row if they would empty the tab.
    fn delete(&mut self, mut rows: Vec<u32>) {
        rows.sort_unstable_by(|a, b| b.cmp(a));
        rows.dedup();
        let layout = &mut *self.layout;
        let deleted = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let remaining = layout.grid_rows.saturating_sub(deleted);
        if deleted > 0 && remaining <= HEADER_ROWS {
            let spare = HEADER_ROWS + 1 - remaining;
            layout.grid_rows += spare;
            let request = append_dimension(layout.sheet_id, Dimension::Rows, spare);
            self.plan.requests.push(request);
        }
        self.peak.observe(self.layout);
        for (start, end) in descending_ranges(&rows) {
            let range = DimensionRange::rows(self.sheet_id(), start, end);
            let request = Request::DeleteDimension(DeleteDimensionRequest { range });
            self.plan.requests.push(request);
        }
        self.layout.remove_grid_rows(&rows);
        self.plan.rows_deleted = rows.len();
    }

    /// Step 3: header cells for synced columns the header lacks.
    fn header(&mut self) {
        let layout = &mut *self.layout;
        let missing: Vec<&Arc<str>> = self
            .synced
            .iter()
            .filter(|name| layout.column(name).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let first_free = layout.header_end();
        let needed = first_free.saturating_add(u32::try_from(missing.len()).unwrap_or(u32::MAX));
        if needed > layout.grid_columns {
            let growth = needed - layout.grid_columns;
            layout.grid_columns = needed;
            let request = append_dimension(layout.sheet_id, Dimension::Columns, growth);
            self.plan.requests.push(request);
        }
        let request = header_request(layout.sheet_id, first_free, &missing);
        self.plan.requests.push(request);
        self.plan.cells_written += missing.len();
        for (offset, name) in (0u32..).zip(&missing) {
            layout.add_header_column(name, first_free + offset);
        }
        self.peak.observe(self.layout);
    }

    /// Step 4: rows already in the sheet get their changed, synced cells.
    fn update(&mut self, updates: Vec<(&RowKey, Vec<&NamedCell>)>) {
        let mut writes = CellWrites::default();
        for (key, cells) in updates {
            let layout = &*self.layout;
            let Some(row) = layout.row_of(key) else {
                continue; // Not reachable: a key has one pending change, and only deletes remove rows.
            };
            let columns = cells.into_iter().filter_map(|(name, cell)| {
                let column = layout.column(name)?;
                self.synced.contains(name).then(|| (column, cell.clone()))
            });
            writes.add_row(row, columns);
        }
        self.plan.cells_written += writes.cells();
        self.plan
            .requests
            .extend(writes.into_requests(self.sheet_id()));
    }

    /// Step 5: new keys, as whole rows, right after the data rows.
    fn append(&mut self, appends: Vec<(u64, &RowKey, &[NamedCell])>) {
        let mut writes = CellWrites::default();
        for (_, key, cells) in appends {
            let layout = &mut *self.layout;
            let row = match layout.row_of(key) {
                Some(row) => row, // The same key twice in one batch: write, do not duplicate.
                None => {
                    self.plan.rows_appended += 1;
                    layout.push_row(key.clone())
                }
            };
            let mut columns: Vec<(u32, CellData)> = cells
                .iter()
                .filter(|(name, _)| self.synced.contains(name))
                .filter_map(|(name, cell)| Some((layout.column(name)?, cell.clone())))
                .collect();
            // The key cells place the row: write them even when the image lacks them.
            for (name, part) in self.key_columns.iter().zip(&key.0) {
                if !cells.iter().any(|(cell_name, _)| cell_name == name) {
                    if let Some(column) = layout.column(name) {
                        columns.push((column, CellData::text(part.clone())));
                    }
                }
            }
            writes.add_row(row, columns);
        }
        let layout = &mut *self.layout;
        let needed = layout.used_rows();
        if needed > layout.grid_rows {
            let growth = needed - layout.grid_rows;
            layout.grid_rows = needed;
            let request = append_dimension(layout.sheet_id, Dimension::Rows, growth);
            self.plan.requests.push(request);
        }
        self.plan.cells_written += writes.cells();
        self.plan
            .requests
            .extend(writes.into_requests(self.sheet_id()));
    }

    fn finish(mut self, title: &str) -> Result<TabPlan, PlanError> {
        self.peak.observe(self.layout);
        self.plan.peak_cells = self.peak.cells();
        if self.plan.peak_cells > MAX_CELLS_PER_TAB {
            return Err(PlanError::TooLarge {
                title: title.to_string(),
                rows: self.peak.rows,
                columns: self.peak.columns,
                cells: self.plan.peak_cells,
                limit: MAX_CELLS_PER_TAB,
            });
        }
        Ok(self.plan)
    }
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
