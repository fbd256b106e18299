//! Replay protection that is also idempotency: the first 200 answer to each `delivery_id` is
//! kept for the replay window, and a repeat of that id gets the same answer without being
//! applied again. A script retry after a lost response (same id, fresh signature) is therefore
//! harmless, and a captured request replayed within its 300 s signature lifetime does nothing.
//!
//! Only successful answers are stored: after a 503 or 422 a retry is evaluated afresh. Two
//! concurrent requests with the same id apply once; the second waits for the first (the slot is a
//! `tokio::sync::OnceCell`, whose initialisation runs at most once at a time and is retried by the
//! next waiter if it fails).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::apply::ApplyResponse;

/// The default replay window: long enough to cover the script's queue retries after an outage.
pub const DEFAULT_REPLAY_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// Remembered deliveries at most; the oldest are forgotten first. Bounds memory under a flood.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

pub type ReplaySlot = Arc<OnceCell<ApplyResponse>>;

pub struct ReplayStore {
    window_seconds: i64,
    capacity: usize,
    state: Mutex<ReplayState>,
}

#[derive(Default)]
struct ReplayState {
    slots: HashMap<String, (i64, ReplaySlot)>,
    /// Arrival order, for expiry and eviction: (first seen, delivery id).
    order: VecDeque<(i64, String)>,
}

impl ReplayStore {
    pub fn new(window_seconds: i64, capacity: usize) -> Self {
        Self {
            window_seconds,
            capacity: capacity.max(1),
            state: Mutex::new(ReplayState::default()),
        }
    }

    /// The slot for `delivery_id`: empty if never answered, else holding the first answer.
    pub fn slot(&self, delivery_id: &str, now_unix_seconds: i64) -> ReplaySlot {
        // A poisoned lock only means another request panicked mid-update; the map is still whole.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.expire(&mut state, now_unix_seconds);
        if let Some((_, slot)) = state.slots.get(delivery_id) {
            return slot.clone();
        }
        let slot = ReplaySlot::default();
        state
            .slots
            .insert(delivery_id.to_owned(), (now_unix_seconds, slot.clone()));
        state
            .order
            .push_back((now_unix_seconds, delivery_id.to_owned()));
        slot
    }

    pub fn len(&self) -> usize {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expire(&self, state: &mut ReplayState, now_unix_seconds: i64) {
        let oldest_kept = now_unix_seconds.saturating_sub(self.window_seconds);
        while let Some((first_seen, _)) = state.order.front() {
            let expired = *first_seen < oldest_kept;
            if !expired && state.order.len() < self.capacity {
                break;
            }
            if let Some((_, delivery_id)) = state.order.pop_front() {
                state.slots.remove(&delivery_id);
            }
        }
    }
}

impl Default for ReplayStore {
    fn default() -> Self {
        Self::new(DEFAULT_REPLAY_WINDOW_SECONDS, DEFAULT_REPLAY_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_id_shares_one_slot_until_it_expires() {
        let store = ReplayStore::new(60, 10);
        let first = store.slot("a", 1_000);
        first
            .get_or_init(|| async { ApplyResponse::default() })
            .await;
        assert!(store.slot("a", 1_059).initialized());
        assert!(
            !store.slot("a", 1_061).initialized(),
            "expired after the window"
        );
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let store = ReplayStore::new(1_000, 2);
        store.slot("a", 1);
        store.slot("b", 2);
        store.slot("c", 3);
        assert_eq!(store.len(), 2);
    }
}
