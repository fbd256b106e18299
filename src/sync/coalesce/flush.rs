//! When to flush a spreadsheet's pending changes (DESIGN §2.3): a pure function of the clock,
//! the pending rows' age and size, the request in flight, the write quota and shutdown.
//!
//! Idle quota means low latency (flush once a burst has been quiet for `linger`); a busy quota
//! means big batches (changes keep coalescing until a token frees up).
//!
//! A batch *filling fast* (at its rate since the oldest change it reaches `size_limit` within
//! `fill_wait`) is a burst: a quiet gap of `linger` there is a scheduling hiccup of the
//! committing clients or of this machine, not the burst's end, so it needs `burst_linger` of
//! quiet — or the end of its "fast" time, whichever is first. Without that rule, 5 ms gaps at the
//! start of a 100,000-transaction burst each sent a small request and spent a token.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushInputs {
    pub now: Instant,
    /// When the oldest pending row change arrived; `None` when no row is pending.
    pub oldest: Option<Instant>,
    /// When the latest pending row change arrived.
    pub newest: Option<Instant>,
    pub pending_bytes: usize,
    /// More changes are already queued for this writer (read them before deciding the batch
    /// went quiet).
    pub backlog: bool,
    /// A batchUpdate for this spreadsheet is on its way.
    pub in_flight: bool,
    /// When the next write token is available; `None` = a token is free now.
    pub token_ready_at: Option<Instant>,
    /// Since when the position has moved past the last saved checkpoint (transactions that
    /// touched no synced row); `None` when the saved checkpoint is current.
    pub position_unsaved_since: Option<Instant>,
    pub shutting_down: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// How long a batch must be quiet before it goes out.
    pub linger: Duration,
    /// How long a batch filling fast must be quiet before it goes out (module docs).
    pub burst_linger: Duration,
    /// The upper bound on a change's wait while a token is free (`flush_interval_ms`).
    pub interval: Duration,
    /// Flush once the pending rows reach this many JSON bytes.
    pub size_limit: usize,
    /// A batch filling fast enough to reach `size_limit` within this time (counted from its
    /// oldest change) waits to fill instead of going at `interval`: a burst then costs one
    /// full request per token instead of several small ones, and its rows wait at most this.
    pub fill_wait: Duration,
    /// Save a moved position at least this often, even with no row to write.
    pub checkpoint_every: Duration,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        Self {
            linger: Duration::from_millis(5),
            // Gaps of 5–50 ms are common inside a burst on a busy 2-core machine. The cost: a
            // lone transaction of more than ~250 rows (65 kB) goes up to 100 ms later; smaller
            // ones proportionally less, single rows not at all.
            burst_linger: Duration::from_millis(100),
            interval: Duration::from_millis(250),
            // 2 MB (Google's recommended maximum) less room for what the estimate leaves out:
            // the checkpoint request, header cells, the JSON envelope.
            size_limit: 1_950_000,
            // A burst arriving at 0.7 MB/s or more (bulk jobs, replays) goes in full 2 MB
            // requests; its rows wait at most 3 s, far below the quota's own delays in a burst.
            fill_wait: Duration::from_secs(3),
            checkpoint_every: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDecision {
    Now(FlushReason),
    /// Decide again at this instant (or sooner, when a change or a response arrives).
    WaitUntil(Instant),
    /// Nothing to do until the next event (a change arrives, the request in flight finishes).
    Idle,
}

/// Why a flush happened (a metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlushReason {
    /// The burst went quiet for `linger`.
    Linger,
    /// The oldest change waited `interval`.
    Interval,
    /// The pending rows reached `size_limit`.
    Size,
    Shutdown,
    /// No rows, but the position moved and was not saved for `checkpoint_every`.
    Checkpoint,
}

impl FlushReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FlushReason::Linger => "linger",
            FlushReason::Interval => "interval",
            FlushReason::Size => "size",
            FlushReason::Shutdown => "shutdown",
            FlushReason::Checkpoint => "checkpoint",
        }
    }
}

pub fn decide_flush(inputs: &FlushInputs, policy: &FlushPolicy) -> FlushDecision {
    // One request per spreadsheet at a time: its response decides the next step.
    if inputs.in_flight {
        return FlushDecision::Idle;
    }
    let rows = match (inputs.oldest, inputs.newest) {
        (Some(oldest), Some(newest)) => Some((oldest, newest)),
        _ => None,
    };
    if rows.is_none() && inputs.position_unsaved_since.is_none() {
        return FlushDecision::Idle;
    }
    let Some((oldest, newest)) = rows else {
        return checkpoint_only(inputs, policy);
    };
    if let Some(ready_at) = token_wait(inputs) {
        return FlushDecision::WaitUntil(ready_at);
    }
    if inputs.shutting_down {
        return FlushDecision::Now(FlushReason::Shutdown);
    }
    if inputs.pending_bytes >= policy.size_limit {
        return FlushDecision::Now(FlushReason::Size);
    }
    let interval_due = oldest + policy.interval;
    let fill_due = oldest + policy.fill_wait;
    let fast_until = fast_until(inputs, oldest, policy);
    // Quiet for `linger`, or longer while the batch fills fast (module docs).
    let quiet_due = (newest + policy.linger).max((newest + policy.burst_linger).min(fast_until));
    if inputs.backlog && inputs.now < fill_due {
        // Queued changes belong in this batch; reading them wakes the writer again.
        return FlushDecision::WaitUntil(fill_due);
    }
    if inputs.now >= interval_due {
        if inputs.now < fill_due && inputs.now < quiet_due && inputs.now <= fast_until {
            return FlushDecision::WaitUntil(fill_due.min(quiet_due));
        }
        return FlushDecision::Now(FlushReason::Interval);
    }
    if inputs.now >= quiet_due {
        return FlushDecision::Now(FlushReason::Linger);
    }
    FlushDecision::WaitUntil(interval_due.min(quiet_due))
}

/// Until when the batch counts as filling fast: at the rate it has grown since its oldest
/// change, it reaches `size_limit` within `fill_wait`. With no new change the rate falls, so
/// this is the instant it stops counting as a burst.
fn fast_until(inputs: &FlushInputs, oldest: Instant, policy: &FlushPolicy) -> Instant {
    let share = inputs.pending_bytes as f64 / policy.size_limit.max(1) as f64;
    oldest + policy.fill_wait.mul_f64(share.min(1.0))
}

fn checkpoint_only(inputs: &FlushInputs, policy: &FlushPolicy) -> FlushDecision {
    let Some(unsaved_since) = inputs.position_unsaved_since else {
        return FlushDecision::Idle;
    };
    let due = unsaved_since + policy.checkpoint_every;
    if !inputs.shutting_down && inputs.now < due {
        return FlushDecision::WaitUntil(due);
    }
    if let Some(ready_at) = token_wait(inputs) {
        return FlushDecision::WaitUntil(ready_at);
    }
    if inputs.shutting_down {
        FlushDecision::Now(FlushReason::Shutdown)
    } else {
        FlushDecision::Now(FlushReason::Checkpoint)
    }
}

/// When no write token is free yet: the instant one will be. Changes keep coalescing meanwhile.
fn token_wait(inputs: &FlushInputs) -> Option<Instant> {
    inputs
        .token_ready_at
        .filter(|ready_at| *ready_at > inputs.now)
}
