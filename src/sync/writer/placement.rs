//! Rows a person added: where their keys are is learned from the sheet, never from a row
//! number.
//!
//! Consumes the "the webhook side inserted a person's row" notices (`WriterMessage::KeyPlaced`,
//! from the echo of the insert); produces when the writer may flush next and whether that flush
//! must first re-read the tabs' key columns. Guarantees: the flush after a person's new row
//! comes at least [`SETTLE`] after the notice (so the script, which writes the key into the
//! typed row as soon as the webhook answers, has written it) and re-reads the key columns, so
//! the insert's cells land on the row that holds the key; the wait after the first notice is
//! capped at [`MAX_WAIT`] however many rows people keep adding.
//!
//! Why not trust the row number the message named: by the time the key comes back the typed
//! row may have moved (rows above it deleted by the writer or a person, a queued delivery sent
//! minutes later), and the script then writes the key where the row is now (`relocatedRow_` in
//! `apps-script/Delivery.js`). A row number would put the cells one row off and the key in the
//! tab twice. If the key is nowhere after the wait (the writer's own append landed over the
//! typed row, so the script found no row for it), the insert is appended like any missing row.

use std::time::{Duration, Instant};

/// How long after the insert the script has surely written the key: the webhook answered
/// before the binlog event reached the writer, and the script writes right after the answer.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The longest a stream of new rows holds flushes back, counted from the first of them.
pub const MAX_WAIT: Duration = Duration::from_secs(6);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PlacementWait {
    first: Option<Instant>,
    settles_at: Option<Instant>,
}

impl PlacementWait {
    /// A person's new row was inserted at `now`.
    pub fn key_placed(&mut self, now: Instant) {
        let first = *self.first.get_or_insert(now);
        let wanted = now + SETTLE;
        let settles_at = self.settles_at.map_or(wanted, |at| at.max(wanted));
        self.settles_at = Some(settles_at.min(first + MAX_WAIT));
    }

    /// Until when the next flush must wait; `None`: it need not.
    pub fn holds_until(&self, now: Instant) -> Option<Instant> {
        self.settles_at.filter(|at| *at > now)
    }

    /// A flush starts: true when it must re-read the key columns first. The wait is over.
    pub fn take_for_flush(&mut self) -> bool {
        let due = self.settles_at.is_some();
        *self = PlacementWait::default();
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_wait_after_new_rows() {
        // (notices at these offsets, asked at this offset) → holds until this offset.
        let cases: [(&[u64], u64, Option<u64>); 7] = [
            (&[], 0, None),
            (&[0], 0, Some(2_000)),
            (&[0], 1_999, Some(2_000)),
            (&[0], 2_000, None),
            (&[0, 1_500], 2_500, Some(3_500)),
            // A stream of new rows: capped at six seconds after the first.
            (&[0, 1_500, 3_000, 4_500, 5_900], 5_950, Some(6_000)),
            (&[0, 1_500, 3_000, 4_500, 5_900], 6_000, None),
        ];
        let start = Instant::now();
        for (notices, asked, expected) in cases {
            let mut wait = PlacementWait::default();
            for offset in notices {
                wait.key_placed(start + MS(*offset));
            }
            assert_eq!(
                wait.holds_until(start + MS(asked)),
                expected.map(|offset| start + MS(offset)),
                "notices {notices:?}, asked at {asked}"
            );
        }
    }

    #[test]
    fn the_flush_after_a_new_row_rereads_the_keys_once() {
        let start = Instant::now();
        let mut wait = PlacementWait::default();
        assert!(!wait.take_for_flush(), "no new row: no re-read");
        wait.key_placed(start);
        assert!(wait.take_for_flush(), "the next flush re-reads");
        assert!(!wait.take_for_flush(), "once");
        assert_eq!(wait.holds_until(start), None);
        // After a flush the cap counts from the next new row again.
        wait.key_placed(start + MS(10_000));
        assert_eq!(
            wait.holds_until(start + MS(10_000)),
            Some(start + MS(12_000))
        );
    }
}
