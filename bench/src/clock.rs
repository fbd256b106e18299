//! When the emulator answered each request: its request log has the order of calls, not their
//! times, so a thread samples the log's last sequence number every 2 ms.
//!
//! Consumes the emulator's state; produces (sequence, first seen) pairs, and the instant a
//! given request had been answered by. Guarantees: times are at most ~2 ms late.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When the emulator answered each request, sampled every 2 ms on a thread of its own (the
/// request log has the order of calls, not their times).
pub struct RequestClock {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(u64, Instant)>>,
}

impl RequestClock {
    pub fn start(state: sheets_emulator::SharedState) -> RequestClock {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = vec![(state.control.last_seq(), Instant::now())];
            while !stopped.load(Ordering::Relaxed) {
                let last = state.control.last_seq();
                if seen.last().is_some_and(|(seq, _)| *seq != last) {
                    seen.push((last, Instant::now()));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            seen
        });
        RequestClock { stop, thread }
    }

    /// (last seq, when it was first seen), in order.
    pub fn finish(self) -> Vec<(u64, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// When request `seq` had been answered, by a [`RequestClock`]'s samples.
pub fn answered_at(samples: &[(u64, Instant)], seq: u64) -> Option<Instant> {
    samples
        .iter()
        .find(|(last, _)| *last >= seq)
        .map(|(_, at)| *at)
}
