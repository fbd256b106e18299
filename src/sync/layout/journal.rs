//! Undoing what planning changed in a layout, for a batch the sheet did not take.
//!
//! Consumes the layout's own changes while a journal is open ([`TabLayout::begin_changes`]):
//! removed rows, appended rows, added and renamed header names, the grid size. Produces, on
//! [`TabLayout::undo_changes`], the layout exactly as it was at the mark. Guarantees: marks nest
//! (a flush opens one per tab, each plan one inside it); the journal holds only what the batch
//! changed, never a copy of the layout (the copy each flush planned against cost 26 MB for a tab
//! of a million rows).

use super::{KeyHash, TabLayout};

#[derive(Debug, Clone, Default)]
pub(super) struct Journal {
    pub(super) changes: Vec<Change>,
    /// Changes before this index belong to an outer mark: a count there must not grow.
    sealed: usize,
}

#[derive(Debug, Clone)]
pub(super) enum Change {
    /// Rows taken out, by their position before the removal.
    Removed(Vec<(u32, Option<KeyHash>)>),
    /// This many rows appended at the end.
    Pushed(usize),
    HeaderAdded(String),
    Renamed {
        from: String,
        to: String,
        column: u32,
    },
}

/// Where [`TabLayout::undo_changes`] returns to. End every mark with `keep_changes` or
/// `undo_changes`, inner marks first.
#[must_use]
#[derive(Debug)]
pub struct Mark {
    changes: usize,
    grid_rows: u32,
    grid_columns: u32,
    header_end: u32,
    /// This mark opened the journal, so ending it closes the journal.
    opened: bool,
}

impl TabLayout {
    /// Starts recording changes (or marks the place in a journal already open).
    pub fn begin_changes(&mut self) -> Mark {
        let opened = self.journal.is_none();
        let journal = self.journal.get_or_insert_with(Journal::default);
        journal.sealed = journal.changes.len();
        Mark {
            changes: journal.changes.len(),
            grid_rows: self.grid_rows,
            grid_columns: self.grid_columns,
            header_end: self.header_end,
            opened,
        }
    }

    /// The changes since the mark stand (the sheet took them).
    pub fn keep_changes(&mut self, mark: Mark) {
        if mark.opened {
            self.journal = None;
        }
    }

    /// Puts the layout back as it was at the mark.
    pub fn undo_changes(&mut self, mark: Mark) {
        let changes = match self.journal.as_mut() {
            Some(journal) => {
                let at = mark.changes.min(journal.changes.len());
                journal.sealed = journal.sealed.min(at);
                journal.changes.split_off(at)
            }
            None => Vec::new(),
        };
        for change in changes.into_iter().rev() {
            match change {
                Change::Removed(rows) => self.rows.reinsert(rows),
                Change::Pushed(count) => {
                    for _ in 0..count {
                        self.rows.pop();
                    }
                }
                Change::HeaderAdded(name) => {
                    self.header.remove(&name);
                }
                Change::Renamed { from, to, column } => {
                    self.header.remove(&to);
                    self.header.insert(from, column);
                }
            }
        }
        self.grid_rows = mark.grid_rows;
        self.grid_columns = mark.grid_columns;
        self.header_end = mark.header_end;
        if mark.opened {
            self.journal = None;
        }
    }

    pub(super) fn record(&mut self, change: Change) {
        if let Some(journal) = self.journal.as_mut() {
            journal.changes.push(change);
        }
    }

    /// One more appended row: counted in the last change when that is an append of this mark.
    pub(super) fn record_push(&mut self) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        let own = journal.changes.len() > journal.sealed;
        match journal.changes.last_mut() {
            Some(Change::Pushed(count)) if own => *count += 1,
            _ => journal.changes.push(Change::Pushed(1)),
        }
    }
}

#[cfg(test)]
mod tests;
