//! Reconnect decisions: what to do after the replication stream failed.
//!
//! Consumes a [`BinlogError`] and the number of consecutive failed attempts; produces a
//! [`ReconnectDecision`]: stop (definite error) or reconnect after a capped, jittered
//! exponential delay. Pure functions (the jitter sample is a parameter) so a table test pins the
//! policy; the caller draws the sample.

use std::time::Duration;

use super::error::BinlogError;

/// The reconnect policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay before the first reconnect.
    pub initial_delay: Duration,
    /// No delay is longer than this (before jitter).
    pub max_delay: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// What the source does after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectDecision {
    /// Reconnect after the delay and resume from the last committed position.
    Reconnect { delay: Duration },
    /// Report the error and stop: retrying cannot help.
    Stop,
}

impl BackoffPolicy {
    /// Delay for the `attempt`-th consecutive reconnect (0-based): `initial × 2^attempt`, capped,
    /// then scaled into `[delay/2, delay)` by `jitter_sample ∈ [0, 1)` ("equal jitter"), so many
    /// readers restarting together spread out but none reconnects immediately.
    pub fn delay(&self, attempt: u32, jitter_sample: f64) -> Duration {
        let exponential = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(31)));
        let capped = exponential.min(self.max_delay);
        let jitter = jitter_sample.clamp(0.0, 1.0);
        capped.mul_f64(0.5 + jitter / 2.0)
    }

    /// Decides after `error` on the `attempt`-th consecutive failure.
    pub fn decide(
        &self,
        error: &BinlogError,
        attempt: u32,
        jitter_sample: f64,
    ) -> ReconnectDecision {
        if error.is_transient() {
            ReconnectDecision::Reconnect {
                delay: self.delay(attempt, jitter_sample),
            }
        } else {
            ReconnectDecision::Stop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays() {
        let policy = BackoffPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        };
        let cases = [
            (0, 0.0, 50),
            (0, 0.999_999, 99),
            (1, 0.0, 100),
            (3, 0.5, 600),
            (7, 0.0, 5_000),
            (30, 0.0, 5_000),
            (u32::MAX, 1.0, 10_000),
            (2, -3.0, 200),
        ];
        for (attempt, jitter, expected_ms) in cases {
            assert_eq!(
                policy.delay(attempt, jitter).as_millis(),
                expected_ms,
                "attempt {attempt} jitter {jitter}"
            );
        }
    }

    #[test]
    fn decisions() {
        let policy = BackoffPolicy::default();
        assert_eq!(
            policy.decide(&BinlogError::StreamClosed, 0, 0.0),
            ReconnectDecision::Reconnect {
                delay: Duration::from_millis(50)
            }
        );
        let purged = BinlogError::PositionPurged {
            position: "0-1-5".into(),
            message: "gone".into(),
        };
        assert_eq!(policy.decide(&purged, 0, 0.0), ReconnectDecision::Stop);
    }
}
