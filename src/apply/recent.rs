//! Memory the apply step keeps between messages about where rows are in the sheet.
//!
//! - [`RowLocks`]: one async lock per (mapping, sheet row) for rows without a key, so that
//!   messages about the same new row (a person typing cell by cell, retries, 20 at once) run
//!   one after the other instead of each inserting a row.
//! - [`RecentInserts`]: sheet row → key of rows this process inserted in the last few minutes,
//!   so a later message about the same keyless row updates the row instead of inserting
//!   another (the script writes the key into the sheet only after the first answer). Forgotten
//!   for a mapping whenever its rows move (a structure report), since row numbers shift.
//! - [`KnownKeys`]: the keys seen in each tab (in key-column snapshots and edits): a DB row is
//!   deleted for a removed sheet row only when its key was seen in the sheet before and is gone
//!   now, never merely because it is not in the sheet (the writer may not have appended it yet).
//!
//! All three are bounded and cheap to share.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sync::RowKey;

use super::typed::Typed;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// (mapping name, sheet row).
type SheetRow = (String, u32);

#[derive(Default)]
pub struct RowLocks {
    locks: Mutex<HashMap<SheetRow, Arc<tokio::sync::Mutex<()>>>>,
}

/// A remembered insert: its key, when, and whether the sheet row number still means it.
type RecentInsert = (Vec<Typed>, Instant, bool);

pub struct RowGuards {
    _guards: Vec<tokio::sync::OwnedMutexGuard<()>>,
}

impl RowLocks {
    /// Locks every listed sheet row of `mapping`, in row order (so two messages never wait for
    /// each other in a cycle); released when the guards drop.
    pub async fn lock_rows(&self, mapping: &str, rows: &BTreeSet<u32>) -> RowGuards {
        let mutexes: Vec<Arc<tokio::sync::Mutex<()>>> = {
            let mut locks = lock(&self.locks);
            // Forget locks nobody holds or waits for, so the map stays small.
            locks.retain(|_, mutex| Arc::strong_count(mutex) > 1);
            rows.iter()
                .map(|row| {
                    locks
                        .entry((mapping.to_string(), *row))
                        .or_default()
                        .clone()
                })
                .collect()
        };
        let mut guards = Vec::with_capacity(mutexes.len());
        for mutex in mutexes {
            guards.push(mutex.lock_owned().await);
        }
        RowGuards { _guards: guards }
    }
}

pub struct RecentInserts {
    ttl: Duration,
    capacity: usize,
    /// (mapping, sheet row) → (key, inserted at, the row number still means this row).
    rows: Mutex<HashMap<SheetRow, RecentInsert>>,
}

impl RecentInserts {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        RecentInserts {
            ttl,
            capacity: capacity.max(1),
            rows: Mutex::new(HashMap::new()),
        }
    }

    pub fn remember(&self, mapping: &str, sheet_row: u32, key: Vec<Typed>) {
        let now = Instant::now();
        let mut rows = lock(&self.rows);
        if rows.len() >= self.capacity {
            rows.retain(|_, (_, at, _)| now.duration_since(*at) < self.ttl);
        }
        if rows.len() >= self.capacity {
            if let Some(oldest) = rows
                .iter()
                .min_by_key(|(_, (_, at, _))| *at)
                .map(|(entry, _)| entry.clone())
            {
                rows.remove(&oldest);
            }
        }
        rows.insert((mapping.to_string(), sheet_row), (key, now, true));
    }

    /// The key of the row inserted for this sheet row, if recent.
    pub fn key_of(&self, mapping: &str, sheet_row: u32) -> Option<Vec<Typed>> {
        let rows = lock(&self.rows);
        rows.get(&(mapping.to_string(), sheet_row))
            .filter(|(_, at, in_place)| *in_place && at.elapsed() < self.ttl)
            .map(|(key, _, _)| key.clone())
    }

    /// Keys of recent inserts of `mapping` (their key cells may not be written yet).
    pub fn keys(&self, mapping: &str) -> Vec<Vec<Typed>> {
        lock(&self.rows)
            .iter()
            .filter(|((name, _), (_, at, _))| name == mapping && at.elapsed() < self.ttl)
            .map(|(_, (key, _, _))| key.clone())
            .collect()
    }

    /// The tab's rows moved: sheet row numbers no longer mean the same rows (the keys are
    /// still remembered as recent for [`RecentInserts::keys`]).
    pub fn forget_mapping(&self, mapping: &str) {
        for ((name, _), (_, _, in_place)) in lock(&self.rows).iter_mut() {
            if name == mapping {
                *in_place = false;
            }
        }
    }
}

#[derive(Default)]
pub struct KnownKeys {
    keys: Mutex<HashMap<String, HashSet<RowKey>>>,
}

impl KnownKeys {
    pub fn add(&self, mapping: &str, keys: impl IntoIterator<Item = RowKey>) {
        let mut known = lock(&self.keys);
        let keys = keys.into_iter().filter(|key| !key.is_empty());
        match known.get_mut(mapping) {
            Some(set) => set.extend(keys),
            None => {
                known.insert(mapping.to_string(), keys.collect());
            }
        }
    }

    pub fn replace(&self, mapping: &str, keys: HashSet<RowKey>) {
        lock(&self.keys).insert(mapping.to_string(), keys);
    }

    pub fn remove(&self, mapping: &str, keys: &[RowKey]) {
        if let Some(set) = lock(&self.keys).get_mut(mapping) {
            for key in keys {
                set.remove(key);
            }
        }
    }

    /// What the writer did since the last call: keys it wrote into the tab are known, keys
    /// whose row it removed are not.
    pub fn absorb_written(&self, mapping: &str, written: HashMap<RowKey, bool>) {
        if written.is_empty() {
            return;
        }
        let mut known = lock(&self.keys);
        let set = known.entry(mapping.to_string()).or_default();
        for (key, present) in written {
            if present {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
    }

    /// Known keys of `mapping` that are not in `present`.
    pub fn missing_from(&self, mapping: &str, present: &HashSet<RowKey>) -> Vec<RowKey> {
        let known = lock(&self.keys);
        let mut missing: Vec<RowKey> = known
            .get(mapping)
            .map(|set| set.difference(present).cloned().collect())
            .unwrap_or_default();
        missing.sort();
        missing
    }

    pub fn is_known(&self, mapping: &str) -> bool {
        lock(&self.keys)
            .get(mapping)
            .is_some_and(|set| !set.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_inserts_expire_and_are_forgotten_when_rows_move() {
        let recent = RecentInserts::new(Duration::from_secs(60), 2);
        recent.remember("orders", 5, vec![Typed::Integer(42)]);
        assert_eq!(recent.key_of("orders", 5), Some(vec![Typed::Integer(42)]));
        assert_eq!(recent.key_of("orders", 6), None);
        recent.remember("orders", 6, vec![Typed::Integer(43)]);
        recent.remember("orders", 7, vec![Typed::Integer(44)]);
        assert_eq!(recent.keys("orders").len(), 2, "bounded");
        recent.forget_mapping("orders");
        assert_eq!(recent.key_of("orders", 7), None);
        assert_eq!(
            recent.keys("orders").len(),
            2,
            "still recent for the delete guard"
        );
        let expired = RecentInserts::new(Duration::ZERO, 2);
        expired.remember("orders", 5, vec![Typed::Integer(42)]);
        assert_eq!(expired.key_of("orders", 5), None);
    }

    #[test]
    fn only_known_keys_can_go_missing() {
        let known = KnownKeys::default();
        let key = |text: &str| RowKey(vec![text.to_string()]);
        assert!(known.missing_from("orders", &HashSet::new()).is_empty());
        known.add("orders", [key("1"), key("2"), key("")]);
        let present: HashSet<RowKey> = [key("2"), key("3")].into_iter().collect();
        assert_eq!(known.missing_from("orders", &present), [key("1")]);
        known.remove("orders", &[key("1")]);
        assert!(known.missing_from("orders", &present).is_empty());
    }

    #[tokio::test]
    async fn the_same_row_is_locked_once_at_a_time() {
        let locks = Arc::new(RowLocks::default());
        let rows: BTreeSet<u32> = [5].into_iter().collect();
        let first = locks.lock_rows("orders", &rows).await;
        let waiting = {
            let locks = locks.clone();
            let rows = rows.clone();
            tokio::spawn(async move { locks.lock_rows("orders", &rows).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        // Another row is not held up.
        let other: BTreeSet<u32> = [6].into_iter().collect();
        drop(locks.lock_rows("orders", &other).await);
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("second lock granted")
            .expect("task");
    }
}
