//! When each row last changed in the database, as the binlog says: the "DB side" time of
//! `last-write-wins` (DESIGN §3.5).
//!
//! Consumes `record(mapping, key, commit_unix_seconds)` calls from the binlog router, one per
//! row change it routes; produces `last_change(mapping, key)`. Guarantees: memory is bounded
//! (the oldest entries are forgotten first once `capacity` is reached), a later record never
//! moves a row's time backwards, and clones share one map.
//!
//! Rows are remembered by a 64-bit hash of (mapping, key), not by their text: 16 bytes a row
//! instead of a copy of every key, so a million-row burst costs the clock ~40 MB less than the
//! rows' text would. Two rows sharing a hash (about one chance in 10^13 among 200,000 rows)
//! would share a time, which only changes which side a last-write-wins conflict picks.
//!
//! It also remembers when sheetsync last rewrote each mapping's tab wholesale (an initial load or
//! a re-snapshot, [`RowClock::rewrite_started`]): such a rewrite writes values read from the
//! database, and may land over a person's edit whose webhook message is applied after the read.
//! [`RowClock::tab_rewritten_after`] tells the apply step to leave that edit out of the echo
//! marker, so its binlog copy is written to the sheet again instead of being dropped.
//!
//! When a row is not in the map (changed before sheetsync started, or forgotten), the time of
//! the database's change is unknown; `last-write-wins` then lets the sheet edit win, because
//! the edit is the newest write sheetsync has seen for that row (see `policy.rs`).

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::sync::RowKey;

/// Allowance for the difference between the clock of the edit's time (Google's, in the Apps
/// Script message) and this host's: an edit this close after a rewrite counts as overwritten.
/// Erring that way costs one redundant cell write.
pub const REWRITE_CLOCK_ALLOWANCE_MILLISECONDS: i64 = 5_000;

/// Rows remembered by default: recent enough for any conflict a person can cause by hand.
pub const DEFAULT_ROW_CLOCK_CAPACITY: usize = 200_000;

#[derive(Clone)]
pub struct RowClock {
    inner: Arc<Mutex<ClockState>>,
}

struct ClockState {
    capacity: usize,
    times: HashMap<u64, i64>,
    /// Record order, for eviction; an entry whose time no longer matches is stale and skipped.
    order: VecDeque<(u64, i64)>,
    /// Mapping → when its last wholesale rewrite finished (unix ms); `None` while one runs.
    rewrites: HashMap<String, Option<i64>>,
}

impl RowClock {
    pub fn new(capacity: usize) -> Self {
        RowClock {
            inner: Arc::new(Mutex::new(ClockState {
                capacity: capacity.max(1),
                times: HashMap::new(),
                order: VecDeque::new(),
                rewrites: HashMap::new(),
            })),
        }
    }

    /// The binlog says `key` of `mapping` changed in a transaction committed at `unix_seconds`.
    pub fn record(&self, mapping: &str, key: &RowKey, unix_seconds: i64) {
        let entry = row_hash(mapping, key);
        let mut state = self.lock();
        let time = match state.times.get(&entry) {
            Some(known) if *known >= unix_seconds => return,
            _ => unix_seconds,
        };
        state.times.insert(entry, time);
        state.order.push_back((entry, time));
        if state.order.len() > state.capacity * 2 {
            // Drop superseded records so the bookkeeping stays within twice the capacity.
            let ClockState { times, order, .. } = &mut *state;
            order.retain(|(entry, recorded)| times.get(entry) == Some(recorded));
        }
        while state.times.len() > state.capacity {
            let Some((oldest, recorded)) = state.order.pop_front() else {
                break;
            };
            if state.times.get(&oldest) == Some(&recorded) {
                state.times.remove(&oldest);
            }
        }
    }

    /// The commit time of the row's last change, if remembered.
    pub fn last_change(&self, mapping: &str, key: &RowKey) -> Option<i64> {
        self.lock().times.get(&row_hash(mapping, key)).copied()
    }

    /// sheetsync starts rewriting `mapping`'s tab from a database read (initial load).
    pub fn rewrite_started(&self, mapping: &str) {
        self.lock().rewrites.insert(mapping.to_string(), None);
    }

    /// The rewrite of `mapping`'s tab is written (its last request answered) at `unix_milliseconds`.
    pub fn rewrite_finished(&self, mapping: &str, unix_milliseconds: i64) {
        self.lock()
            .rewrites
            .insert(mapping.to_string(), Some(unix_milliseconds));
    }

    /// Whether a rewrite of `mapping`'s tab may have landed after a person's edit made at
    /// `edited_at_milliseconds`: one is running, or one finished after the edit (within
    /// [`REWRITE_CLOCK_ALLOWANCE_MILLISECONDS`]).
    pub fn tab_rewritten_after(&self, mapping: &str, edited_at_milliseconds: i64) -> bool {
        match self.lock().rewrites.get(mapping) {
            None => false,
            Some(None) => true,
            Some(Some(finished)) => {
                edited_at_milliseconds
                    <= finished.saturating_add(REWRITE_CLOCK_ALLOWANCE_MILLISECONDS)
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // A panic elsewhere while holding the lock leaves a consistent map behind.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The same for every process and run (std's SipHash with fixed keys).
fn row_hash(mapping: &str, key: &RowKey) -> u64 {
    let mut hasher = DefaultHasher::new();
    mapping.hash(&mut hasher);
    key.hash(&mut hasher);
    hasher.finish()
}

impl Default for RowClock {
    fn default() -> Self {
        RowClock::new(DEFAULT_ROW_CLOCK_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> RowKey {
        RowKey(vec![text.to_string()])
    }

    #[test]
    fn remembers_the_latest_time_per_row_and_mapping() {
        let clock = RowClock::new(10);
        clock.record("orders", &key("1"), 100);
        clock.record("orders", &key("1"), 90);
        assert_eq!(clock.last_change("orders", &key("1")), Some(100));
        clock.clone().record("orders", &key("1"), 120);
        assert_eq!(clock.last_change("orders", &key("1")), Some(120));
        assert_eq!(clock.last_change("other", &key("1")), None);
        assert_eq!(clock.last_change("orders", &key("2")), None);
    }

    #[test]
    fn an_edit_counts_as_overwritten_while_a_rewrite_runs_and_until_shortly_after_it() {
        let clock = RowClock::new(10);
        assert!(!clock.tab_rewritten_after("orders", 1_000));
        clock.clone().rewrite_started("orders");
        assert!(clock.tab_rewritten_after("orders", i64::MAX));
        assert!(!clock.tab_rewritten_after("other", 1_000));
        clock.rewrite_finished("orders", 60_000);
        let allowance = REWRITE_CLOCK_ALLOWANCE_MILLISECONDS;
        for (edited_at, overwritten) in [
            (1_000, true),
            (60_000, true),
            (60_000 + allowance, true),
            (60_001 + allowance, false),
            (i64::MAX, false),
        ] {
            assert_eq!(
                clock.tab_rewritten_after("orders", edited_at),
                overwritten,
                "edited at {edited_at}"
            );
        }
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let clock = RowClock::new(3);
        for (index, row) in ["a", "b", "c", "d"].iter().enumerate() {
            clock.record("m", &key(row), index as i64);
        }
        assert_eq!(clock.len(), 3);
        assert_eq!(clock.last_change("m", &key("a")), None);
        assert_eq!(clock.last_change("m", &key("d")), Some(3));
        // Re-recording a row many times does not grow the bookkeeping without bound.
        for time in 10..1_000 {
            clock.record("m", &key("d"), time);
        }
        assert_eq!(clock.len(), 3);
        assert!(clock.lock().order.len() <= 6);
    }
}
