//! Coalescing: the pending changes of ONE spreadsheet, keyed by (tab, key), and the decision
//! when to flush them (DESIGN §2.3).
//!
//! Consumes row changes ([`RowUpdate`]) in commit order, plus the binlog position after each
//! whole transaction. Produces, on [`Coalescer::take`], a [`PendingBatch`]: at most one merged
//! change per row and the position the batch brings the sheet to. Guarantees:
//! - merging is cell by cell and keeps every write the sheet still needs (rules on [`merge`]);
//!   a delete is never dropped, because the row may be in the sheet after a snapshot replay;
//! - [`Coalescer::estimated_bytes`] tracks the merged rows, so a hot row changed N times costs
//!   one row, not N;
//! - [`decide_flush`] is pure: the writer task feeds it clocks and quota state.
//!
//! Nothing here does I/O.

mod flush;
mod json_length;
mod size;

use std::collections::btree_map::{BTreeMap, Entry};
use std::sync::Arc;
use std::time::Instant;

use crate::position::BinlogPosition;
use crate::sheets::model::CellData;
use crate::sync::RowKey;

pub use flush::{decide_flush, FlushDecision, FlushInputs, FlushPolicy, FlushReason};
pub use size::memory_bytes as update_memory_bytes;

/// Index of the mapping/tab within one spreadsheet's writer.
pub type TabIndex = usize;

/// One change to one row, as the sheet must see it.
#[derive(Debug, Clone, PartialEq)]
pub enum RowUpdate {
    /// The row's cells after the change. `cells` is the whole synced row (FULL image),
    /// `changed` the columns whose value changed (all of them for an insert).
    Upsert {
        cells: Vec<(Arc<str>, CellData)>,
        changed: Vec<Arc<str>>,
    },
    Delete,
    /// Cells only (webhook write-back: a conflict the database won, a refused edit reverted with
    /// a note). Never creates a row: if the key is not in the sheet it is dropped at plan time.
    /// A cell's `note`: `None` leaves the sheet's note alone, `Some("")` clears it.
    Cells {
        cells: Vec<(Arc<str>, CellData)>,
    },
}

/// A row's merged change within a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRow {
    pub update: RowUpdate,
    /// Arrival order of the row's first change in this batch: new rows are appended to the
    /// sheet in this order (a snapshot read in key order lands in key order).
    pub arrival: u64,
    estimate: size::Estimate,
}

impl PendingRow {
    pub fn new(update: RowUpdate, arrival: u64) -> Self {
        let estimate = size::estimate(&update);
        Self {
            update,
            arrival,
            estimate,
        }
    }

    /// ≈ JSON bytes this row adds to a batchUpdate when written with its sheet neighbours.
    pub fn estimated_bytes(&self) -> usize {
        self.estimate.grouped
    }
}

/// Everything [`Coalescer::take`] hands to the planner.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingBatch {
    pub rows: BTreeMap<(TabIndex, RowKey), PendingRow>,
    /// The position after the last whole transaction folded into `rows`.
    pub position: Option<BinlogPosition>,
    /// Changes received for this batch.
    pub changes: u64,
    /// Of those, the ones folded into a row that already had a pending change: writes saved.
    pub changes_merged: u64,
}

impl PendingBatch {
    /// The rows of one tab, in key order (what [`crate::sync::plan::plan_tab`] takes).
    pub fn tab_rows(&self, tab: TabIndex) -> impl Iterator<Item = (&RowKey, &PendingRow)> {
        self.rows
            .range((tab, RowKey(Vec::new()))..)
            .take_while(move |((row_tab, _), _)| *row_tab == tab)
            .map(|((_, key), row)| (key, row))
    }
}

/// Pending changes of one spreadsheet.
#[derive(Debug, Default)]
pub struct Coalescer {
    rows: BTreeMap<(TabIndex, RowKey), PendingRow>,
    position: Option<BinlogPosition>,
    estimated_bytes: usize,
    oldest: Option<Instant>,
    newest: Option<Instant>,
    next_arrival: u64,
    changes: u64,
    changes_merged: u64,
}

impl Coalescer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, tab: TabIndex, key: RowKey, update: RowUpdate, now: Instant) {
        self.changes += 1;
        self.oldest.get_or_insert(now);
        self.newest = Some(now);
        match self.rows.entry((tab, key)) {
            Entry::Occupied(mut entry) => {
                self.changes_merged += 1;
                let pending = entry.get_mut();
                let earlier = std::mem::replace(&mut pending.update, RowUpdate::Delete);
                let merged = PendingRow::new(merge(earlier, update), pending.arrival);
                self.estimated_bytes =
                    self.estimated_bytes - pending.estimated_bytes() + merged.estimated_bytes();
                *pending = merged;
            }
            Entry::Vacant(entry) => {
                let pending = PendingRow::new(update, self.next_arrival);
                self.next_arrival += 1;
                self.estimated_bytes += pending.estimated_bytes();
                entry.insert(pending);
            }
        }
    }

    /// Called after each whole transaction, with the position after it.
    pub fn set_position(&mut self, position: BinlogPosition) {
        self.position = Some(position);
    }

    pub fn position(&self) -> Option<&BinlogPosition> {
        self.position.as_ref()
    }

    /// Whether a change of this row is pending.
    pub fn contains(&self, tab: TabIndex, key: &RowKey) -> bool {
        self.rows.contains_key(&(tab, key.clone()))
    }

    /// No row changes (a moved position alone does not count).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Pending rows of one tab (for the status page).
    pub fn rows_of(&self, tab: TabIndex) -> usize {
        self.rows
            .range((tab, RowKey(Vec::new()))..)
            .take_while(|((row_tab, _), _)| *row_tab == tab)
            .count()
    }

    /// ≈ JSON bytes the pending rows add to a batchUpdate, every row priced as written with its
    /// neighbours (see [`size`]): what a burst of consecutive rows really costs.
    pub fn estimated_bytes(&self) -> usize {
        self.estimated_bytes
    }

    /// ≈ JSON bytes of the pending rows priced against the sheet: `locate` gives a row's grid
    /// row (None when its key is not in the sheet: appended, priced as grouped).
    pub fn priced_bytes(&self, locate: impl Fn(TabIndex, &RowKey) -> Option<u32>) -> usize {
        let mut pricer = Pricer::new(locate);
        self.rows
            .iter()
            .map(|((tab, key), row)| pricer.price(*tab, key, row))
            .sum()
    }

    /// When the oldest pending change arrived.
    pub fn oldest(&self) -> Option<Instant> {
        self.oldest
    }

    /// When the latest pending change arrived.
    pub fn newest(&self) -> Option<Instant> {
        self.newest
    }

    /// Takes rows in key order until the next would push the batch past `max_bytes` (at least
    /// one row), each row priced against the sheet (`locate`, as in [`Self::priced_bytes`]).
    /// When rows remain, the batch carries no position: the checkpoint must not move past
    /// transactions whose rows are not all written yet — the flush that takes the last row
    /// carries it.
    pub fn take_at_most(
        &mut self,
        max_bytes: usize,
        locate: impl Fn(TabIndex, &RowKey) -> Option<u32>,
    ) -> PendingBatch {
        let mut pricer = Pricer::new(locate);
        let mut bytes = 0usize;
        let mut count = 0usize;
        for ((tab, key), row) in &self.rows {
            let size = pricer.price(*tab, key, row);
            if count > 0 && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            count += 1;
        }
        if count == self.rows.len() {
            return self.take();
        }
        let mut taken = BTreeMap::new();
        let mut taken_bytes = 0usize;
        for _ in 0..count {
            let Some(entry) = self.rows.first_entry() else {
                break;
            };
            taken_bytes += entry.get().estimated_bytes();
            let (key, row) = entry.remove_entry();
            taken.insert(key, row);
        }
        self.estimated_bytes = self.estimated_bytes.saturating_sub(taken_bytes);
        if self.rows.is_empty() {
            self.oldest = None;
            self.newest = None;
        }
        PendingBatch {
            rows: taken,
            position: if self.rows.is_empty() {
                self.position.clone()
            } else {
                None
            },
            changes: 0,
            changes_merged: 0,
        }
    }

    /// Everything pending, leaving the coalescer empty. The position stays as the baseline the
    /// next batch builds on.
    pub fn take(&mut self) -> PendingBatch {
        let batch = PendingBatch {
            rows: std::mem::take(&mut self.rows),
            position: self.position.clone(),
            changes: self.changes,
            changes_merged: self.changes_merged,
        };
        self.estimated_bytes = 0;
        self.oldest = None;
        self.newest = None;
        self.changes = 0;
        self.changes_merged = 0;
        batch
    }
}

/// Prices rows in key order against the sheet: a row next to one already priced shares its
/// request (grouped), any other row pays for a request of its own.
struct Pricer<F> {
    locate: F,
    grid_rows: std::collections::HashSet<(TabIndex, u32)>,
}

impl<F: Fn(TabIndex, &RowKey) -> Option<u32>> Pricer<F> {
    fn new(locate: F) -> Self {
        Self {
            locate,
            grid_rows: std::collections::HashSet::new(),
        }
    }

    fn price(&mut self, tab: TabIndex, key: &RowKey, row: &PendingRow) -> usize {
        let Some(grid_row) = (self.locate)(tab, key) else {
            return row.estimate.grouped;
        };
        let neighbour = self.grid_rows.contains(&(tab, grid_row.wrapping_sub(1)))
            || self.grid_rows.contains(&(tab, grid_row.wrapping_add(1)));
        self.grid_rows.insert((tab, grid_row));
        if neighbour {
            row.estimate.grouped
        } else {
            row.estimate.alone
        }
    }
}

/// Folds a later change of a row into the earlier one:
///
/// | earlier | later  | result |
/// |---------|--------|--------|
/// | any     | Delete | Delete (kept even after an Upsert: the row may be in the sheet) |
/// | Delete  | Upsert | Upsert, changed = every column (the row must be written whole) |
/// | Delete  | Cells  | Delete |
/// | Upsert  | Upsert | later cells win cell by cell; changed = union; notes kept on columns the later one did not change |
/// | Upsert  | Cells  | Cells' cells replace the upsert's (notes kept); their columns become changed |
/// | Cells   | Upsert | the upsert wins for its changed columns; the other Cells columns are still written, with the upsert's value and the Cells' note |
/// | Cells   | Cells  | later cells win cell by cell |
pub fn merge(earlier: RowUpdate, later: RowUpdate) -> RowUpdate {
    match (earlier, later) {
        (_, RowUpdate::Delete) | (RowUpdate::Delete, RowUpdate::Cells { .. }) => RowUpdate::Delete,
        (RowUpdate::Delete, RowUpdate::Upsert { cells, .. }) => {
            let changed = cells.iter().map(|(name, _)| name.clone()).collect();
            RowUpdate::Upsert { cells, changed }
        }
        (
            RowUpdate::Upsert {
                cells: earlier_cells,
                changed: earlier_changed,
            },
            RowUpdate::Upsert {
                mut cells,
                mut changed,
            },
        ) => {
            for (name, cell) in earlier_cells {
                if changed.contains(&name) {
                    continue;
                }
                let was_changed = earlier_changed.contains(&name);
                carry_into(&mut cells, name.clone(), cell);
                if was_changed {
                    changed.push(name);
                }
            }
            RowUpdate::Upsert { cells, changed }
        }
        (
            RowUpdate::Upsert {
                mut cells,
                mut changed,
            },
            RowUpdate::Cells { cells: later },
        ) => {
            for (name, cell) in later {
                match cells.iter_mut().find(|(existing, _)| *existing == name) {
                    Some((_, existing)) => *existing = cell,
                    None => cells.push((name.clone(), cell)),
                }
                if !changed.contains(&name) {
                    changed.push(name);
                }
            }
            RowUpdate::Upsert { cells, changed }
        }
        (
            RowUpdate::Cells { cells: earlier },
            RowUpdate::Upsert {
                mut cells,
                mut changed,
            },
        ) => {
            for (name, cell) in earlier {
                if changed.contains(&name) {
                    continue;
                }
                carry_into(&mut cells, name.clone(), cell);
                changed.push(name);
            }
            RowUpdate::Upsert { cells, changed }
        }
        (RowUpdate::Cells { cells: mut earlier }, RowUpdate::Cells { cells: later }) => {
            for (name, cell) in later {
                match earlier.iter_mut().find(|(existing, _)| *existing == name) {
                    Some((_, existing)) => *existing = cell,
                    None => earlier.push((name, cell)),
                }
            }
            RowUpdate::Cells { cells: earlier }
        }
    }
}

/// An earlier cell of a column the later image did not change: the later value is the newer
/// truth, but the earlier note (a revert reason) must still reach the sheet. A column the later
/// image lacks keeps the earlier cell.
fn carry_into(cells: &mut Vec<(Arc<str>, CellData)>, name: Arc<str>, earlier: CellData) {
    match cells.iter_mut().find(|(existing, _)| *existing == name) {
        Some((_, later)) => {
            if earlier.note.is_some() && later.note.is_none() {
                later.note = earlier.note;
            }
        }
        None => cells.push((name, earlier)),
    }
}

#[cfg(test)]
mod tests;
