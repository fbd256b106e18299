//! When to send a failed Sheets request again, and after how long (DESIGN §2.7).
//!
//! [`decide`] is a pure function of the failure, the retry count, `Retry-After`, the policy and
//! a jitter drawn by the caller, so the table tests below pin down every case:
//! - 408, 429, 500, 502, 503, 504 and transport failures are retried with truncated
//!   exponential backoff: `min(base · 2^retry + jitter, cap)`, jitter uniform in `0..=jitter_max`
//!   (Google's formula with base 1 s and jitter ≤ 1 s);
//! - after a 429 the wait is at least `minimum_after_quota` (30 s: Google refills per minute
//!   and asks for ≥ 30 s), unless the response's `Retry-After` says otherwise;
//! - a `Retry-After` on any retryable answer is honoured as given;
//! - every other status is definite: never retried;
//! - after `max_retries` retries (when set) the caller gives up.

use std::time::Duration;

use super::error::is_retryable_status;

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer: connect failure, reset, timeout, truncated body, token endpoint down.
    Transport,
    /// A failure no retry can fix (bad key, undecodable success body, configuration).
    Definite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    GiveUp,
}

/// The knobs of the backoff. Defaults follow Google's guidance; tests shrink them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff step (`2^0 · base`).
    pub base: Duration,
    /// The longest backoff (Google: "typically 32 or 64 s").
    pub cap: Duration,
    /// Upper bound of the random jitter added to each step (Google: ≤ 1 s).
    pub jitter_max: Duration,
    /// The least wait after a 429 without `Retry-After`.
    pub minimum_after_quota: Duration,
    /// Give up after this many retries; `None` retries until cancelled.
    pub max_retries: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(32),
            jitter_max: Duration::from_secs(1),
            minimum_after_quota: Duration::from_secs(30),
            max_retries: Some(10),
        }
    }
}

impl RetryPolicy {
    /// A random jitter in `0..=jitter_max`, for [`decide`].
    pub fn draw_jitter(&self) -> Duration {
        let max_nanos = u64::try_from(self.jitter_max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=max_nanos))
    }
}

/// Decide what to do after the failure of attempt number `retry + 1` (`retry` = retries
/// already made). `jitter` should come from [`RetryPolicy::draw_jitter`].
pub fn decide(
    failure: Failure,
    retry: u32,
    retry_after: Option<Duration>,
    policy: &RetryPolicy,
    jitter: Duration,
) -> RetryDecision {
    let retryable = match failure {
        Failure::Status(status) => is_retryable_status(status),
        Failure::Transport => true,
        Failure::Definite => false,
    };
    if !retryable || policy.max_retries.is_some_and(|max| retry >= max) {
        return RetryDecision::GiveUp;
    }
    if let Some(retry_after) = retry_after {
        return RetryDecision::RetryAfter(retry_after);
    }
    let backoff = backoff(retry, policy, jitter);
    if failure == Failure::Status(429) {
        return RetryDecision::RetryAfter(backoff.max(policy.minimum_after_quota));
    }
    RetryDecision::RetryAfter(backoff)
}

/// `min(base · 2^retry + jitter, cap)`, without overflow for any `retry`.
fn backoff(retry: u32, policy: &RetryPolicy, jitter: Duration) -> Duration {
    let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
    policy
        .base
        .checked_mul(factor)
        .and_then(|step| step.checked_add(jitter))
        .map_or(policy.cap, |wait| wait.min(policy.cap))
}

/// Parse `Retry-After` as delta-seconds. (The HTTP-date form is not used by Google's APIs;
/// such a value is ignored and the backoff applies.)
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(value: u64) -> Duration {
        Duration::from_secs(value)
    }

    fn milliseconds(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn every_status_is_classified_as_design_says() {
        let policy = RetryPolicy::default();
        let retried = [408, 429, 500, 502, 503, 504];
        for status in 100..600u16 {
            let decision = decide(Failure::Status(status), 0, None, &policy, Duration::ZERO);
            let expected_retry = retried.contains(&status);
            assert_eq!(
                matches!(decision, RetryDecision::RetryAfter(_)),
                expected_retry,
                "status {status}: {decision:?}"
            );
        }
    }

    #[test]
    fn table_of_waits() {
        let policy = RetryPolicy::default();
        let jitter = milliseconds(400);
        // (failure, retry, retry_after, expected)
        let table: &[(Failure, u32, Option<Duration>, RetryDecision)] = &[
            (
                Failure::Status(503),
                0,
                None,
                RetryDecision::RetryAfter(milliseconds(1_400)),
            ),
            (
                Failure::Status(503),
                1,
                None,
                RetryDecision::RetryAfter(milliseconds(2_400)),
            ),
            (
                Failure::Status(500),
                2,
                None,
                RetryDecision::RetryAfter(milliseconds(4_400)),
            ),
            (
                Failure::Status(502),
                4,
                None,
                RetryDecision::RetryAfter(milliseconds(16_400)),
            ),
            (
                Failure::Status(504),
                5,
                None,
                RetryDecision::RetryAfter(seconds(32)),
            ),
            (
                Failure::Status(408),
                9,
                None,
                RetryDecision::RetryAfter(seconds(32)),
            ),
            (
                Failure::Transport,
                0,
                None,
                RetryDecision::RetryAfter(milliseconds(1_400)),
            ),
            (
                Failure::Transport,
                3,
                None,
                RetryDecision::RetryAfter(milliseconds(8_400)),
            ),
            // 429: at least 30 s, unless Retry-After says otherwise.
            (
                Failure::Status(429),
                0,
                None,
                RetryDecision::RetryAfter(seconds(30)),
            ),
            (
                Failure::Status(429),
                5,
                None,
                RetryDecision::RetryAfter(seconds(32)),
            ),
            (
                Failure::Status(429),
                0,
                Some(seconds(5)),
                RetryDecision::RetryAfter(seconds(5)),
            ),
            (
                Failure::Status(503),
                0,
                Some(seconds(7)),
                RetryDecision::RetryAfter(seconds(7)),
            ),
            // Definite: never, Retry-After or not.
            (Failure::Status(400), 0, None, RetryDecision::GiveUp),
            (Failure::Status(401), 0, None, RetryDecision::GiveUp),
            (
                Failure::Status(403),
                0,
                Some(seconds(1)),
                RetryDecision::GiveUp,
            ),
            (Failure::Status(404), 0, None, RetryDecision::GiveUp),
            (Failure::Status(501), 0, None, RetryDecision::GiveUp),
            (Failure::Definite, 0, None, RetryDecision::GiveUp),
            // The retry limit.
            (Failure::Status(503), 10, None, RetryDecision::GiveUp),
            (Failure::Transport, 11, None, RetryDecision::GiveUp),
        ];
        for (failure, retry, retry_after, expected) in table {
            assert_eq!(
                decide(*failure, *retry, *retry_after, &policy, jitter),
                *expected,
                "{failure:?} retry {retry} retry-after {retry_after:?}"
            );
        }
    }

    #[test]
    fn huge_retry_counts_stay_at_the_cap_without_overflow() {
        let policy = RetryPolicy {
            max_retries: None,
            ..RetryPolicy::default()
        };
        for retry in [31, 32, 64, 1_000, u32::MAX] {
            assert_eq!(
                decide(Failure::Status(503), retry, None, &policy, seconds(1)),
                RetryDecision::RetryAfter(seconds(32))
            );
        }
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let policy = RetryPolicy {
            jitter_max: milliseconds(10),
            ..RetryPolicy::default()
        };
        for _ in 0..1_000 {
            assert!(policy.draw_jitter() <= milliseconds(10));
        }
        let none = RetryPolicy {
            jitter_max: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(none.draw_jitter(), Duration::ZERO);
    }

    #[test]
    fn retry_after_parses_delta_seconds_only() {
        assert_eq!(parse_retry_after("30"), Some(seconds(30)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
