//! Per-user, per-minute request quotas, as Google counts them: every call of one service
//! account counts against that account's budget (whichever of its tokens it used), reads and
//! writes separately, one unit per call however many sub-requests a batch holds.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::request_class::RequestClass;

/// Google refills the per-minute quotas every minute.
pub const DEFAULT_WINDOW_MS: u64 = 60_000;

/// The quota knobs. `None` means unlimited (the default: tests opt in to a quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    #[serde(default)]
    pub read_requests_per_minute: Option<u32>,
    #[serde(default)]
    pub write_requests_per_minute: Option<u32>,
    /// The length of the rolling window the limits apply to; shorten it to keep tests fast.
    #[serde(default = "default_window_ms")]
    pub window_ms: u64,
}

fn default_window_ms() -> u64 {
    DEFAULT_WINDOW_MS
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            read_requests_per_minute: None,
            write_requests_per_minute: None,
            window_ms: DEFAULT_WINDOW_MS,
        }
    }
}

impl QuotaSettings {
    fn limit(&self, class: RequestClass) -> Option<u32> {
        match class {
            RequestClass::Read => self.read_requests_per_minute,
            RequestClass::Write => self.write_requests_per_minute,
        }
    }
}

/// The settings and the admitted calls inside the current window.
#[derive(Default)]
pub struct Quota {
    pub settings: QuotaSettings,
    /// Admission times per (account, class), oldest first.
    admitted: HashMap<(String, RequestClass), VecDeque<Instant>>,
}

impl Quota {
    /// New settings start fresh windows, so a test's quota is not eaten by its setup calls.
    pub fn set(&mut self, settings: QuotaSettings) {
        self.settings = settings;
        self.admitted.clear();
    }

    /// Count a call against `account`'s budget, or refuse it (refused calls count nothing).
    pub fn admit(&mut self, account: &str, class: RequestClass, now: Instant) -> bool {
        let Some(limit) = self.settings.limit(class) else {
            return true;
        };
        let window = Duration::from_millis(self.settings.window_ms);
        let times = self
            .admitted
            .entry((account.to_string(), class))
            .or_default();
        while times
            .front()
            .is_some_and(|admitted| now.duration_since(*admitted) >= window)
        {
            times.pop_front();
        }
        if times.len() >= limit as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}
