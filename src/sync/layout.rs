//! What the writer knows about one tab (DESIGN §2.6, §2.11): its grid size, where each synced
//! column is (matched by header name, never by position), and which key is on which row.
//!
//! Consumes one read of the header row and one read of the key column(s) (`UNFORMATTED_VALUE`).
//! Produces lookups: column name → column index, key → grid row. Guarantees: keys are compared
//! in canonical key text ([`crate::sync::json_key_text`]), so a key read back equals the same
//! key converted from the binlog; the layout keeps only a 128-bit hash of that text per row
//! ([`KeyHash`], `layout/index.rs` says why); a key found on two rows (people copy rows) maps to
//! the first and is reported by [`TabLayout::duplicate_keys`]; a row whose key cells are all
//! empty has no key. New rows go right after the data rows: the last key read, or further down
//! when the writer knows more rows are in use ([`TabLayout::with_used_rows`]). A keyless row
//! that was ever part of the data stays part of it (it may hold a person's draft), so deleting
//! the keyed rows below it never makes the next append land on it. The planner changes a layout only the
//! way its requests change the sheet, and between [`TabLayout::begin_changes`] and
//! [`TabLayout::undo_changes`] every such change can be undone (`layout/journal.rs`).

use std::collections::HashMap;

use crate::sync::{json_key_text, RowKey};

pub use index::KeyHash;
use index::RowIndex;
use journal::{Change, Journal};

pub use journal::Mark;

/// Grid rows before the data: the header.
pub const HEADER_ROWS: u32 = 1;

#[derive(Debug, Clone)]
pub struct TabLayout {
    pub sheet_id: i64,
    pub title: String,
    pub grid_rows: u32,
    pub grid_columns: u32,
    /// Grid row of the row guard's marker as last known (`plan/row_guard.rs`); `None` when
    /// unknown (not read yet, or not found).
    pub row_guard: Option<u32>,
    /// Header name (trimmed) → 0-based column index; the first of two equal names wins.
    header: HashMap<String, u32>,
    /// One past the last non-empty header cell: where new header columns go.
    header_end: u32,
    /// Row `i` of the index is grid row `i + 1` (sheet row `i + 2`).
    rows: RowIndex,
    /// What changed since [`TabLayout::begin_changes`], to undo it.
    journal: Option<Journal>,
}

impl PartialEq for TabLayout {
    /// What the layouts say about their tabs; an open journal is not part of it.
    fn eq(&self, other: &Self) -> bool {
        (
            self.sheet_id,
            &self.title,
            self.grid_rows,
            self.grid_columns,
        ) == (
            other.sheet_id,
            &other.title,
            other.grid_rows,
            other.grid_columns,
        ) && (&self.header, self.header_end, &self.rows)
            == (&other.header, other.header_end, &other.rows)
    }
}

/// Grid rows as a `Vec` index (the platforms sheetsync runs on have 32-bit or wider `usize`).
fn as_index(value: u32) -> usize {
    value as usize
}

impl TabLayout {
    /// From one read of the header row and one read of the key column(s): values as returned
    /// with `UNFORMATTED_VALUE` (row-major, trailing empties trimmed). `key_columns` holds one
    /// `Vec` per key column, in key order, starting at sheet row 2.
    pub fn from_values(
        sheet_id: i64,
        title: &str,
        grid_rows: u32,
        grid_columns: u32,
        header: &[serde_json::Value],
        key_columns: &[Vec<serde_json::Value>],
    ) -> Self {
        let mut layout = Self::empty(sheet_id, title, grid_rows, grid_columns);
        for (column, value) in header.iter().enumerate() {
            let name = json_key_text(value);
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let column = u32::try_from(column).unwrap_or(u32::MAX);
            layout.header.entry(name.to_string()).or_insert(column);
            layout.header_end = column.saturating_add(1);
        }
        let row_count = key_columns.iter().map(Vec::len).max().unwrap_or(0);
        let mut rows: Vec<Option<KeyHash>> = (0..row_count)
            .map(|row| {
                let parts = key_columns
                    .iter()
                    .map(|column| column.get(row).map(json_key_text).unwrap_or_default())
                    .collect();
                Some(RowKey(parts))
                    .filter(|key| !key.is_empty())
                    .map(|key| KeyHash::of(&key))
            })
            .collect();
        while matches!(rows.last(), Some(None)) {
            rows.pop();
        }
        layout.rows = RowIndex::from_rows(rows);
        // The values are what the sheet holds: a grid reported smaller is stale.
        layout.grid_rows = layout.grid_rows.max(layout.used_rows());
        layout.grid_columns = layout.grid_columns.max(layout.header_end);
        layout
    }

    /// Rows up to `used_rows` (the header included) hold something, e.g. a person's rows without
    /// a key yet below the last key, found by a read of the whole rows. New rows go below them.
    pub fn with_used_rows(mut self, used_rows: u32) -> Self {
        self.rows
            .extend_to(as_index(used_rows.saturating_sub(HEADER_ROWS)));
        self.grid_rows = self.grid_rows.max(self.used_rows());
        self
    }

    /// A tab with no header and no data yet (just created).
    pub fn empty(sheet_id: i64, title: &str, grid_rows: u32, grid_columns: u32) -> Self {
        Self {
            sheet_id,
            title: title.to_string(),
            grid_rows,
            grid_columns,
            row_guard: None,
            header: HashMap::new(),
            header_end: 0,
            rows: RowIndex::default(),
            journal: None,
        }
    }

    /// The 0-based column index of a header name.
    pub fn column(&self, name: &str) -> Option<u32> {
        self.header.get(name.trim()).copied()
    }

    /// One past the last non-empty header cell.
    pub fn header_end(&self) -> u32 {
        self.header_end
    }

    /// The 0-based grid row of a key (its first row when it is on several).
    pub fn row_of(&self, key: &RowKey) -> Option<u32> {
        self.row_of_hash(KeyHash::of(key))
    }

    /// The 0-based grid row of a key, by its hash.
    pub fn row_of_hash(&self, key: KeyHash) -> Option<u32> {
        self.rows.position_of(key).map(|index| index + HEADER_ROWS)
    }

    /// The key on a 0-based grid row.
    pub fn key_at(&self, grid_row: u32) -> Option<KeyHash> {
        let index = grid_row.checked_sub(HEADER_ROWS)?;
        self.rows.key_at(as_index(index))
    }

    /// Every key in the sheet, once, in sheet order.
    pub fn keys(&self) -> impl Iterator<Item = KeyHash> + '_ {
        self.rows
            .rows()
            .iter()
            .enumerate()
            .filter_map(|(index, key)| {
                let key = (*key)?;
                let first = self.rows.position_of(key)?;
                (as_index(first) == index).then_some(key)
            })
    }

    /// 0-based grid rows holding a key that is on an earlier row too (a copy), in sheet order.
    pub fn copy_rows(&self) -> Vec<u32> {
        self.rows
            .rows()
            .iter()
            .enumerate()
            .filter_map(|(index, key)| {
                let first = self.rows.position_of((*key)?)?;
                (as_index(first) != index)
                    .then(|| u32::try_from(index).ok())
                    .flatten()
                    .map(|index| index + HEADER_ROWS)
            })
            .collect()
    }

    /// Keys found on more than one row (people copy rows), in sheet order of their first row.
    /// Writes go to the first row; the copies are left alone.
    pub fn duplicate_keys(&self) -> Vec<KeyHash> {
        let mut counts: HashMap<KeyHash, usize> = HashMap::new();
        for key in self.rows.rows().iter().flatten() {
            *counts.entry(*key).or_default() += 1;
        }
        self.keys()
            .filter(|key| counts.get(key).copied().unwrap_or(0) > 1)
            .collect()
    }

    /// Grid rows in use: the header and the data rows up to the last key.
    pub fn used_rows(&self) -> u32 {
        HEADER_ROWS.saturating_add(u32::try_from(self.rows.len()).unwrap_or(u32::MAX))
    }

    pub(crate) fn add_header_column(&mut self, name: &str, column: u32) {
        let name = name.trim();
        if !self.header.contains_key(name) {
            self.header.insert(name.to_string(), column);
            self.record(Change::HeaderAdded(name.to_string()));
        }
        self.header_end = self.header_end.max(column.saturating_add(1));
    }

    /// Removes the data rows at these grid rows (as `deleteDimension` does), any order. Only
    /// the index entries of rows at or below the first removed row move.
    pub(crate) fn remove_grid_rows(&mut self, grid_rows: &[u32]) {
        let positions: Vec<u32> = grid_rows
            .iter()
            .filter_map(|grid_row| grid_row.checked_sub(HEADER_ROWS))
            .collect();
        let removed = self.rows.remove(&positions);
        let deleted = u32::try_from(removed.len()).unwrap_or(u32::MAX);
        self.grid_rows = self.grid_rows.saturating_sub(deleted);
        if !removed.is_empty() {
            self.record(Change::Removed(removed));
        }
    }

    /// Adds a keyed row right after the last used row; returns its grid row.
    pub(crate) fn push_row(&mut self, key: RowKey) -> u32 {
        let grid_row = self.used_rows();
        self.rows.push(Some(KeyHash::of(&key)));
        self.record_push();
        grid_row
    }

    /// Records that a grid row now holds `key` (`None`: its key cells were emptied): a row a
    /// person added that the webhook side inserted into the table, or a key a person typed. A
    /// row below the data extends it (and the grid, if the grid was stale).
    pub fn set_key_at(&mut self, grid_row: u32, key: Option<RowKey>) {
        let Some(index) = grid_row.checked_sub(HEADER_ROWS).map(as_index) else {
            return; // The header row holds no key.
        };
        let key = key
            .filter(|key| !key.is_empty())
            .map(|key| KeyHash::of(&key));
        self.rows.extend_to(index + 1);
        self.rows.set(index, key);
        self.grid_rows = self.grid_rows.max(self.used_rows());
    }

    /// The same layout without keyless rows at the end: what a fresh read of the key column
    /// finds (Google trims trailing empty rows).
    pub fn trimmed(&self) -> TabLayout {
        let mut layout = self.clone();
        layout.rows.trim_trailing_blank_rows();
        layout
    }
}

mod index;
mod journal;
mod rename;

#[cfg(test)]
mod tests;
