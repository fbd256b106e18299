//! The key → row index of one tab, small enough for tabs of millions of rows.
//!
//! Consumes row keys ([`RowKey`]); produces, per data row, the key's [`KeyHash`], and per key the
//! position of its first row. Guarantees: two keys are the same key exactly when their canonical
//! texts are equal, up to a collision of the 128-bit hash (about n²·2⁻¹²⁹ for n distinct keys,
//! and SHA-256 makes a crafted collision infeasible); the first row of a key is always the
//! lowest position holding it.
//!
//! Why hashes, not the key text: the text (a `Vec<String>` per key, shared with a hash map)
//! cost about 140 bytes per row, 221 MB of RSS for a tab of a million rows. A row here costs its
//! 16-byte hash plus about 10 bytes of hash table (a `u32` position and a control byte, at most
//! 7/8 full). Nothing the writer does needs a key's text back from the sheet: the changes it
//! plans carry their own keys.

use std::num::NonZeroU128;

use hashbrown::HashTable;
use sha2::{Digest, Sha256};

use crate::sync::RowKey;

/// A key's identity: the first 128 bits of SHA-256 over its canonical text, the number of parts
/// and every part's length included, so no two different keys share an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(NonZeroU128);

impl KeyHash {
    pub fn of(key: &RowKey) -> KeyHash {
        let mut hasher = Sha256::new();
        hasher.update((key.0.len() as u64).to_le_bytes());
        for part in &key.0 {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        // Zero is the niche that makes `Option<KeyHash>` 16 bytes; a digest starting with 128
        // zero bits is as (un)likely as any collision.
        KeyHash(NonZeroU128::new(u128::from_le_bytes(first)).unwrap_or(NonZeroU128::MIN))
    }

    /// Already uniformly distributed: the hash table's hash.
    fn table_hash(self) -> u64 {
        self.0.get() as u64
    }
}

/// Positions as `Vec` indices (the platforms sheetsync runs on have 32-bit or wider `usize`).
fn as_index(value: u32) -> usize {
    value as usize
}

fn as_position(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

#[derive(Clone, Default)]
pub(super) struct RowIndex {
    /// `rows[i]`: the key of data row `i`; `None` = no key.
    rows: Vec<Option<KeyHash>>,
    /// The position in `rows` of each key's first row, found by the key's hash.
    first: HashTable<u32>,
}

impl RowIndex {
    pub(super) fn from_rows(rows: Vec<Option<KeyHash>>) -> RowIndex {
        let mut index = RowIndex {
            rows,
            first: HashTable::new(),
        };
        index.rows.shrink_to_fit();
        index.reindex_from(0);
        index
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn rows(&self) -> &[Option<KeyHash>] {
        &self.rows
    }

    pub(super) fn key_at(&self, position: usize) -> Option<KeyHash> {
        self.rows.get(position).copied().flatten()
    }

    /// The position of the key's first row.
    pub(super) fn position_of(&self, key: KeyHash) -> Option<u32> {
        let rows = &self.rows;
        let found = self.first.find(key.table_hash(), |position| {
            rows.get(as_index(*position)) == Some(&Some(key))
        });
        found.copied()
    }

    /// Records that `position` holds `key`: it becomes the key's first row if it is above the
    /// one known. `rows[position]` must already hold the key.
    fn note(&mut self, key: KeyHash, position: u32) {
        let rows = &self.rows;
        let entry = self.first.entry(
            key.table_hash(),
            |known| rows.get(as_index(*known)) == Some(&Some(key)),
            |known| {
                rows.get(as_index(*known))
                    .copied()
                    .flatten()
                    .map_or(0, KeyHash::table_hash)
            },
        );
        let first = entry.or_insert(position).into_mut();
        *first = (*first).min(position);
    }

    /// Forgets the key's first-row entry when it is at or below `from`.
    fn forget_from(&mut self, key: KeyHash, from: usize) {
        let rows = &self.rows;
        let entry = self.first.find_entry(key.table_hash(), |known| {
            rows.get(as_index(*known)) == Some(&Some(key))
        });
        if let Ok(entry) = entry {
            if as_index(*entry.get()) >= from {
                entry.remove();
            }
        }
    }

    /// Rebuilds the entries of the keys whose first row is at or below `from`.
    fn reindex_from(&mut self, from: usize) {
        if from == 0 {
            self.first.clear();
        } else {
            for position in from..self.rows.len() {
                if let Some(key) = self.rows[position] {
                    self.forget_from(key, from);
                }
            }
        }
        for position in from..self.rows.len() {
            if let Some(key) = self.rows[position] {
                self.note(key, as_position(position));
            }
        }
    }

    /// Removes the rows at these positions (any order, repeats ignored); returns what they held,
    /// by ascending position, for [`RowIndex::reinsert`].
    pub(super) fn remove(&mut self, positions: &[u32]) -> Vec<(u32, Option<KeyHash>)> {
        let mut removed: Vec<u32> = positions
            .iter()
            .copied()
            .filter(|position| as_index(*position) < self.rows.len())
            .collect();
        removed.sort_unstable();
        removed.dedup();
        let Some(&first) = removed.first() else {
            return Vec::new();
        };
        let first = as_index(first);
        for position in first..self.rows.len() {
            if let Some(key) = self.rows[position] {
                self.forget_from(key, first);
            }
        }
        let held: Vec<(u32, Option<KeyHash>)> = removed
            .iter()
            .map(|position| (*position, self.rows[as_index(*position)]))
            .collect();
        let mut next = removed.iter().peekable();
        let mut position = 0u32;
        self.rows.retain(|_| {
            let gone = next.next_if_eq(&&position).is_some();
            position += 1;
            !gone
        });
        for position in first..self.rows.len() {
            if let Some(key) = self.rows[position] {
                self.note(key, as_position(position));
            }
        }
        held
    }

    /// Puts back rows [`RowIndex::remove`] took out (positions as they were before).
    pub(super) fn reinsert(&mut self, removed: Vec<(u32, Option<KeyHash>)>) {
        let Some(first) = removed.first().map(|(position, _)| as_index(*position)) else {
            return;
        };
        for position in first..self.rows.len() {
            if let Some(key) = self.rows[position] {
                self.forget_from(key, first);
            }
        }
        let below = self.rows.split_off(first.min(self.rows.len()));
        let mut below = below.into_iter();
        let mut removed = removed.into_iter().peekable();
        loop {
            let position = self.rows.len();
            match removed.next_if(|(at, _)| as_index(*at) == position) {
                Some((_, key)) => self.rows.push(key),
                None => match below.next() {
                    Some(key) => self.rows.push(key),
                    None => break,
                },
            }
        }
        // Positions past the end (not reachable for what `remove` returned): appended.
        self.rows.extend(removed.map(|(_, key)| key));
        for position in first..self.rows.len() {
            if let Some(key) = self.rows[position] {
                self.note(key, as_position(position));
            }
        }
    }

    pub(super) fn push(&mut self, key: Option<KeyHash>) {
        let position = as_position(self.rows.len());
        self.rows.push(key);
        if let Some(key) = key {
            self.note(key, position);
        }
    }

    /// Removes the last row (undoing a [`RowIndex::push`]).
    pub(super) fn pop(&mut self) -> Option<Option<KeyHash>> {
        let last = self.rows.len().checked_sub(1)?;
        if let Some(key) = self.rows[last] {
            // Only when the popped row was the first: a copy above keeps its entry. Before the
            // pop, while the entry's row still holds the key it is found by.
            self.forget_from(key, last);
        }
        self.rows.pop()
    }

    /// Extends the rows with keyless ones up to `length`.
    pub(super) fn extend_to(&mut self, length: usize) {
        if length > self.rows.len() {
            self.rows.resize(length, None);
        }
    }

    pub(super) fn trim_trailing_blank_rows(&mut self) {
        while matches!(self.rows.last(), Some(None)) {
            self.rows.pop();
        }
    }

    /// Sets the key of one row (inside the rows).
    pub(super) fn set(&mut self, position: usize, key: Option<KeyHash>) {
        let Some(slot) = self.rows.get_mut(position) else {
            return;
        };
        let previous = std::mem::replace(slot, key);
        match (previous, key) {
            (None, Some(key)) => self.note(key, as_position(position)),
            (None, None) => {}
            // A key replaced or removed: its first row may now be further down.
            (Some(_), _) => self.reindex_from(0),
        }
    }
}

impl PartialEq for RowIndex {
    /// The entries follow from the rows.
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl std::fmt::Debug for RowIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RowIndex")
            .field("rows", &self.rows)
            .finish()
    }
}
