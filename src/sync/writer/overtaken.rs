//! Which rows an older change may overwrite after a person typed: where an echo must be written.
//!
//! The echo filter drops the cells sheetsync applied for a person (the sheet already holds
//! them). That is right only if no earlier change of the same cells lands in the sheet after the
//! person typed. One can: a change still pending in the coalescer or in a flush on its way (a
//! flush can retry for a minute), one written just before the person's message was committed
//! (the webhook's latency), and every change a restarted writer replays from its checkpoint.
//! Found by the convergence run: a paste (written back from the binlog by design, see
//! `apply/edit.rs`) replayed after a restart overwrote a later edit of the same cell, whose
//! binlog copy was dropped as an echo; the sheet kept the paste's value for good.
//!
//! Consumes the keys of each flush taken and the moments flushes land; answers, for an echo's
//! key, whether an older change may overtake it ([`RecentKeys::may_be_overtaken`]). Such an
//! echo is written (its cells equal what the person typed: no loop, since writes by the API
//! fire no `onEdit`). Guarantees: memory bounded by [`CAPACITY`] keys; past it, every echo
//! counts as overtaken (more writes, never a lost edit).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::Writer;
use crate::sync::coalesce::TabIndex;
use crate::sync::layout::KeyHash;
use crate::sync::router::TabChange;

/// How long after a flush lands its rows still count as overtaking: longer than a webhook
/// message takes from the person's edit to its commit, queued script deliveries excepted.
pub(super) const WINDOW: Duration = Duration::from_secs(120);
/// Keys remembered at most (≈ 40 bytes each).
pub(super) const CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
pub(super) struct RecentKeys {
    /// Keys of the flush on its way.
    in_flight: HashSet<(TabIndex, KeyHash)>,
    /// Keys of landed flushes → when their last flush landed.
    landed: HashMap<(TabIndex, KeyHash), Instant>,
    /// The same, in landing order, for expiry (an entry whose time is not the map's is stale).
    order: VecDeque<(Instant, TabIndex, KeyHash)>,
    /// Set when more than [`CAPACITY`] keys landed within the window.
    saturated_until: Option<Instant>,
    /// No echo can come (no webhook): nothing is remembered, and no key of a flush is hashed.
    unused: bool,
}

impl RecentKeys {
    /// For a writer that is never given echoes.
    pub(super) fn unused() -> Self {
        RecentKeys {
            unused: true,
            ..RecentKeys::default()
        }
    }

    /// A flush with these keys was taken from the coalescer (the keys are hashed lazily).
    pub(super) fn taken(&mut self, keys: impl IntoIterator<Item = (TabIndex, KeyHash)>) {
        if !self.unused {
            self.in_flight.extend(keys);
        }
    }

    /// The flush on its way ended (landed or failed: either way its rows may have been
    /// written now).
    pub(super) fn landed(&mut self, now: Instant) {
        for key in self.in_flight.drain() {
            self.landed.insert(key, now);
            self.order.push_back((now, key.0, key.1));
        }
        self.expire(now);
        if self.landed.len() > CAPACITY {
            self.saturated_until = Some(now + WINDOW);
            self.landed.clear();
            self.order.clear();
        }
    }

    /// Whether an older change of this row may land after a person's edit of it.
    pub(super) fn may_be_overtaken(&self, tab: TabIndex, key: KeyHash, now: Instant) -> bool {
        if self.saturated_until.is_some_and(|until| now < until) {
            return true;
        }
        self.in_flight.contains(&(tab, key))
            || self
                .landed
                .get(&(tab, key))
                .is_some_and(|landed| now.saturating_duration_since(*landed) < WINDOW)
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, tab, key)) = self.order.front() {
            if now.saturating_duration_since(at) < WINDOW {
                break;
            }
            self.order.pop_front();
            if self.landed.get(&(tab, key)) == Some(&at) {
                self.landed.remove(&(tab, key));
            }
        }
    }
}

impl Writer {
    /// One transaction's changes into the coalescer, with the echoes an earlier transaction's
    /// change may overtake. Those are judged before this transaction's own changes join the
    /// coalescer: a column the database changed in the same transaction (`ON UPDATE`) is not
    /// older than the person's cells, and must not make them written back.
    pub(super) fn add_changes(
        &mut self,
        changes: Vec<TabChange>,
        echoes: Vec<TabChange>,
        now: Instant,
    ) {
        let overtaken: Vec<TabChange> = echoes
            .into_iter()
            .filter(|echo| {
                self.coalescer.contains(echo.tab, &echo.key)
                    || self
                        .recent
                        .may_be_overtaken(echo.tab, KeyHash::of(&echo.key), now)
            })
            .collect();
        for change in changes.into_iter().chain(overtaken) {
            let Some(tab) = self.tabs.get(change.tab) else {
                continue;
            };
            if tab.caught_up && tab.stalled.is_none() {
                self.coalescer
                    .add(change.tab, change.key, change.update, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::RowKey;

    fn key(id: &str) -> KeyHash {
        KeyHash::of(&RowKey(vec![id.to_string()]))
    }

    #[test]
    fn an_unused_tracker_takes_no_keys_and_hashes_none() {
        let mut recent = RecentKeys::unused();
        let now = Instant::now();
        recent.taken(std::iter::once_with(|| -> (TabIndex, KeyHash) {
            panic!("a key was hashed for a writer without echoes")
        }));
        recent.landed(now);
        assert!(!recent.may_be_overtaken(0, key("1"), now));
    }

    #[test]
    fn rows_in_flight_or_landed_within_the_window_may_be_overtaken() {
        let start = Instant::now();
        let mut recent = RecentKeys::default();
        assert!(
            !recent.may_be_overtaken(0, key("1"), start),
            "nothing written yet"
        );
        recent.taken([(0, key("1"))]);
        assert!(recent.may_be_overtaken(0, key("1"), start), "in flight");
        assert!(!recent.may_be_overtaken(1, key("1"), start), "another tab");
        assert!(!recent.may_be_overtaken(0, key("2"), start), "another row");
        let landed = start + Duration::from_secs(30);
        recent.landed(landed);
        assert!(recent.may_be_overtaken(0, key("1"), landed + WINDOW - Duration::from_secs(1)));
        assert!(!recent.may_be_overtaken(0, key("1"), landed + WINDOW));
    }

    #[test]
    fn a_row_written_again_stays_until_its_last_write_expires() {
        let start = Instant::now();
        let mut recent = RecentKeys::default();
        recent.taken([(0, key("1"))]);
        recent.landed(start);
        recent.taken([(0, key("1"))]);
        recent.landed(start + Duration::from_secs(100));
        // The first landing expires; the second still counts.
        recent.landed(start + WINDOW + Duration::from_secs(1));
        assert!(recent.may_be_overtaken(0, key("1"), start + WINDOW + Duration::from_secs(1)));
        recent.landed(start + Duration::from_secs(100) + WINDOW);
        assert!(!recent.may_be_overtaken(0, key("1"), start + Duration::from_secs(100) + WINDOW));
        assert!(
            recent.order.is_empty() && recent.landed.is_empty(),
            "expired entries are freed"
        );
    }

    #[test]
    fn past_capacity_every_echo_counts_as_overtaken_for_a_window() {
        let start = Instant::now();
        let mut recent = RecentKeys::default();
        recent.taken((0..=CAPACITY).map(|id| (0, key(&id.to_string()))));
        recent.landed(start);
        assert!(recent.landed.is_empty(), "memory freed");
        assert!(recent.may_be_overtaken(0, key("never written"), start));
        assert!(!recent.may_be_overtaken(0, key("never written"), start + WINDOW));
    }
}
