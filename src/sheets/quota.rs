//! The service account's request budget (DESIGN §2.7): at most `limit` requests in any
//! `window` (Google: 60 reads and 60 writes per minute per user; all calls of a service account
//! count as one user). Every call takes a token before it is sent, so sheetsync stays under
//! Google's quota instead of collecting 429s.
//!
//! # Why a sliding window and not a GCRA / refilling bucket
//! A bucket of `limit` tokens refilled at `limit / window` lets a full burst through and then
//! refills during the same minute: up to `2 · limit - 1` requests in one rolling minute, which
//! Google (and the emulator) would answer with 429. Remembering the send times of the last
//! `limit` requests gives exactly "≤ limit in any window", so the budget can be used in full
//! bursts (the coalescer's big batches) without ever overrunning the quota. (That is also why
//! this is not `governor`, whose quota is a GCRA.)
//!
//! # Pacing
//! A window used in full bursts has a cost for a steady stream: sixty quick flushes, then
//! nothing until the minute rolls over, so a change arriving then waits up to a minute. With
//! `burst` set, the budget is also a token bucket of `burst` tokens refilled at
//! `(limit − burst) / window`: an idle quota still answers the first `burst` requests at once
//! (low latency for sparse changes), a steady stream gets one request every
//! `window / (limit − burst)` (≈ 1.05 s at 60/min with the default burst of 3), and in any
//! window the bucket can release at most `burst + (limit − burst) = limit` — so the sliding
//! window never has to stall a stream. `burst: None` keeps pure window behaviour.
//!
//! The decisions take `now` as an argument, so the unit tests step through time without
//! sleeping; `tokio::time::Instant` keeps tokio's paused clock usable by callers' tests.
//!
//! The coalescer asks [`RequestBudget::try_acquire`] "is a token free now?" to choose between
//! flushing at once and coalescing more; the writer waits in [`RequestBudget::acquire`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Requests per window for reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSettings {
    pub read_requests_per_window: u32,
    pub write_requests_per_window: u32,
    /// Google's quotas are per minute; tests shorten this.
    pub window: Duration,
    /// Pace requests with a bucket of this many tokens (see "Pacing"); `None` = bursts only.
    pub burst: Option<u32>,
}

impl QuotaSettings {
    /// Per-minute limits, as in `[sync]` of the config.
    pub fn per_minute(read_requests_per_minute: u32, write_requests_per_minute: u32) -> Self {
        Self {
            read_requests_per_window: read_requests_per_minute,
            write_requests_per_window: write_requests_per_minute,
            window: Duration::from_secs(60),
            burst: Some(DEFAULT_BURST),
        }
    }

    /// From `[sync]`: `read_requests_per_minute`, `write_requests_per_minute`.
    pub fn from_config(sync: &crate::config::SyncConfig) -> Self {
        Self::per_minute(
            sync.read_requests_per_minute,
            sync.write_requests_per_minute,
        )
    }
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self::per_minute(60, 60)
    }
}

/// Requests an idle paced budget answers at once.
pub const DEFAULT_BURST: u32 = 3;

/// The two budgets of one service account. Cheap to clone; clones share the budgets.
#[derive(Debug, Clone)]
pub struct AccountQuota {
    pub reads: RequestBudget,
    pub writes: RequestBudget,
}

impl AccountQuota {
    pub fn new(settings: QuotaSettings) -> Self {
        Self {
            reads: RequestBudget::paced(
                settings.read_requests_per_window,
                settings.window,
                settings.burst,
            ),
            writes: RequestBudget::paced(
                settings.write_requests_per_window,
                settings.window,
                settings.burst,
            ),
        }
    }
}

/// At most `limit` acquisitions in any `window`. Cheap to clone; clones share the budget.
#[derive(Debug, Clone)]
pub struct RequestBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    window: Duration,
    /// Times of the acquisitions still inside the window, oldest first (≤ `limit` entries).
    sent: Mutex<VecDeque<Instant>>,
    /// The pacing bucket, when paced.
    pacing: Option<Mutex<Bucket>>,
    /// Waiters in [`RequestBudget::acquire`] take turns (tokio's mutex is FIFO), so a token
    /// goes to the longest waiter, and `try_acquire` never jumps that queue.
    turn: tokio::sync::Mutex<()>,
}

impl RequestBudget {
    /// A budget of `limit` per `window`; a limit of 0 is treated as 1 so nothing waits forever.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self::paced(limit, window, None)
    }

    /// A budget of `limit` per `window`, paced by a bucket of `burst` tokens (see "Pacing").
    /// A burst of at least `limit` is the same as no pacing.
    pub fn paced(limit: u32, window: Duration, burst: Option<u32>) -> Self {
        let limit_u32 = limit.max(1);
        let limit = usize::try_from(limit_u32).unwrap_or(usize::MAX);
        let pacing = burst.filter(|burst| *burst < limit_u32).map(|burst| {
            let burst = burst.max(1);
            Mutex::new(Bucket {
                capacity: f64::from(burst),
                tokens: f64::from(burst),
                refill_every: window / (limit_u32 - burst),
                updated: Instant::now(),
            })
        });
        Self {
            inner: Arc::new(Inner {
                limit,
                window,
                sent: Mutex::new(VecDeque::with_capacity(limit.min(4096))),
                pacing,
                turn: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn limit(&self) -> u32 {
        u32::try_from(self.inner.limit).unwrap_or(u32::MAX)
    }

    /// Take a token if one is free now (and nobody is queued in `acquire`); never waits.
    pub fn try_acquire(&self) -> bool {
        let Ok(_turn) = self.inner.turn.try_lock() else {
            return false;
        };
        self.take(Instant::now()).is_ok()
    }

    /// Wait for a token and take it. Cancel-safe: dropping the future before it completes
    /// takes nothing.
    pub async fn acquire(&self) {
        let _turn = self.inner.turn.lock().await;
        loop {
            match self.take(Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// How long until a token is free (zero when one is free now). Waiters already queued in
    /// `acquire` are not counted.
    pub fn time_until_available(&self) -> Duration {
        self.time_until_available_at(Instant::now())
    }

    fn time_until_available_at(&self, now: Instant) -> Duration {
        let mut sent = self.sent();
        expire(&mut sent, now, self.inner.window);
        let window_wait = wait_for_slot(&sent, now, self.inner.limit, self.inner.window);
        window_wait.max(self.pacing_wait(now))
    }

    fn pacing_wait(&self, now: Instant) -> Duration {
        self.inner.pacing.as_ref().map_or(Duration::ZERO, |bucket| {
            let mut bucket = bucket
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            bucket.refill(now);
            bucket.wait()
        })
    }

    /// Tokens free now.
    pub fn available(&self) -> u32 {
        let mut sent = self.sent();
        expire(&mut sent, Instant::now(), self.inner.window);
        u32::try_from(self.inner.limit - sent.len()).unwrap_or(u32::MAX)
    }

    /// Take a token at `now`, or say how long until one is free.
    fn take(&self, now: Instant) -> Result<(), Duration> {
        let mut sent = self.sent();
        expire(&mut sent, now, self.inner.window);
        let wait = wait_for_slot(&sent, now, self.inner.limit, self.inner.window);
        let wait = wait.max(self.pacing_wait(now));
        if wait.is_zero() {
            sent.push_back(now);
            if let Some(bucket) = &self.inner.pacing {
                let mut bucket = bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                bucket.tokens = (bucket.tokens - 1.0).max(0.0);
            }
            Ok(())
        } else {
            Err(wait)
        }
    }

    fn sent(&self) -> MutexGuard<'_, VecDeque<Instant>> {
        // Updates under this lock are single push/pop operations: never left half done.
        self.inner
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The pacing token bucket (fractional tokens, refilled continuously).
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    refill_every: Duration,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated);
        self.updated = self.updated.max(now);
        if !self.refill_every.is_zero() {
            let gained = elapsed.as_secs_f64() / self.refill_every.as_secs_f64();
            self.tokens = (self.tokens + gained).min(self.capacity);
        }
    }

    /// Time until one whole token is in the bucket.
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 - 1e-9 {
            Duration::ZERO
        } else {
            self.refill_every.mul_f64(1.0 - self.tokens)
        }
    }
}

/// Drop acquisitions that have left the window.
fn expire(sent: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while sent
        .front()
        .is_some_and(|oldest| now.duration_since(*oldest) >= window)
    {
        sent.pop_front();
    }
}

fn wait_for_slot(
    sent: &VecDeque<Instant>,
    now: Instant,
    limit: usize,
    window: Duration,
) -> Duration {
    if sent.len() < limit {
        return Duration::ZERO;
    }
    sent.front().map_or(Duration::ZERO, |oldest| {
        (*oldest + window).saturating_duration_since(now)
    })
}

#[cfg(test)]
mod tests;
