//! What a load does after one of its batches failed: the pure decision ([`after_failure`],
//! table-tested) and the count of failures one batch has met ([`Failures`]). Consumes the
//! Sheets error; produces give up, or how long to wait and whether to plan the batch again
//! from the layout or from a fresh read of the tab (when it may have landed).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::LoadTarget;
use crate::sheets::{decide, RetryDecision, RetryPolicy, SheetsError};
use crate::sync::checkpoint::CheckpointError;
use crate::sync::plan::row_guard::refused_by_guard;
use crate::sync::send::{ambiguity, failure, Ambiguity};

/// How often one load batch is planned again after people shortened the grid under it.
const SHORTENED_ATTEMPTS: u32 = 5;

/// How a failed load batch is planned again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replan {
    /// Nothing was applied and the layout is as it was: plan against it.
    FromLayout,
    /// The batch may have landed, or people moved rows: read the tab, then plan.
    FromFreshRead,
}

/// What to do after a load batch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    GiveUp,
    Retry { wait: Duration, replan: Replan },
}

/// Pure: what a load does after attempt failure `error` of a batch that opened with `guards`
/// guard requests, having seen `shortened` refusals by a guard (grid or row guard: people
/// deleted or inserted rows) and `retries` transient failures before it. A guard refusal changed nothing and is
/// planned again at once from a fresh read ([`SHORTENED_ATTEMPTS`] times; restarting the whole
/// load instead could repeat forever while people keep deleting rows). A 429 was refused before
/// anything ran. Anything else transient (5xx, transport) may hide an applied batch.
pub fn after_failure(
    error: &SheetsError,
    guards: usize,
    (shortened, retries): (u32, u32),
    policy: &RetryPolicy,
    jitter: Duration,
) -> AfterFailure {
    if refused_by_guard(error, guards) {
        return if shortened < SHORTENED_ATTEMPTS {
            AfterFailure::Retry {
                wait: Duration::ZERO,
                replan: Replan::FromFreshRead,
            }
        } else {
            AfterFailure::GiveUp
        };
    }
    if matches!(error, SheetsError::Cancelled) || !error.is_transient() {
        return AfterFailure::GiveUp;
    }
    let (kind, retry_after) = failure(error);
    match decide(kind, retries, retry_after, policy, jitter) {
        RetryDecision::GiveUp => AfterFailure::GiveUp,
        RetryDecision::RetryAfter(wait) => AfterFailure::Retry {
            wait,
            replan: match ambiguity(error) {
                Ambiguity::NotApplied => Replan::FromLayout,
                Ambiguity::Unknown => Replan::FromFreshRead,
            },
        },
    }
}

/// The failures one load batch has met so far.
#[derive(Debug, Default)]
pub(super) struct Failures {
    shortened: u32,
    retries: u32,
}

impl Failures {
    /// Counts `error`; returns it when the load gives up, or how to plan again.
    pub(super) fn next(
        &mut self,
        target: &LoadTarget<'_>,
        (error, guards): (CheckpointError, usize),
    ) -> Result<(Duration, Replan), CheckpointError> {
        let CheckpointError::Sheets(sheets_error) = &error else {
            return Err(error);
        };
        let policy = target.client.retry_policy();
        match after_failure(
            sheets_error,
            guards,
            (self.shortened, self.retries),
            policy,
            policy.draw_jitter(),
        ) {
            AfterFailure::GiveUp => Err(error),
            AfterFailure::Retry { wait, replan } => {
                if refused_by_guard(sheets_error, guards) {
                    self.shortened += 1;
                    tracing::info!(mapping = target.mapping, %error, "rows were removed from or inserted into the tab during the load; reading it again");
                } else {
                    self.retries += 1;
                    tracing::warn!(mapping = target.mapping, wait_ms = wait.as_millis() as u64, %error, "load batch failed; planning it again");
                }
                Ok((wait, replan))
            }
        }
    }

    /// [`Failures::next`], then its wait.
    pub(super) async fn wait(
        &mut self,
        target: &LoadTarget<'_>,
        failed: (CheckpointError, usize),
        cancel: &CancellationToken,
    ) -> Result<Replan, CheckpointError> {
        let (wait, replan) = self.next(target, failed)?;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(SheetsError::Cancelled.into()),
            _ = tokio::time::sleep(wait) => Ok(replan),
        }
    }

    /// For a failure `send_flush` has already waited out: only whether to go on.
    pub(super) fn count(
        &mut self,
        target: &LoadTarget<'_>,
        failed: (CheckpointError, usize),
    ) -> Result<(), CheckpointError> {
        self.next(target, failed).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, message: &str) -> SheetsError {
        SheetsError::Http {
            status,
            google_status: String::new(),
            message: message.into(),
            retry_after: None,
        }
    }

    #[test]
    fn what_a_load_does_after_a_failed_batch() {
        let policy = RetryPolicy {
            max_retries: Some(3),
            ..RetryPolicy::default()
        };
        let guard = "Invalid requests[0].copyPaste: Range (Items!A99) exceeds grid limits";
        let row_guard =
            "Invalid requests[2].createDeveloperMetadata: Developer metadata with ID 9 already exists.";
        let fresh = Replan::FromFreshRead;
        let cases: [(SheetsError, (u32, u32), Option<Replan>); 12] = [
            // The guard refused it: nothing applied, read again at once, five times at most.
            (http(400, guard), (0, 0), Some(fresh)),
            (http(400, guard), (4, 0), Some(fresh)),
            (http(400, guard), (5, 0), None),
            // So did the row guard (the batch's third request of three guards).
            (http(400, row_guard), (0, 0), Some(fresh)),
            (http(400, row_guard), (5, 0), None),
            // The same refusal past the guards is the checkpoint's or a plan's: definite.
            (http(400, &row_guard.replace("[2]", "[7]")), (0, 0), None),
            // Refused before it ran: the layout is as it was.
            (http(429, "quota"), (0, 0), Some(Replan::FromLayout)),
            // May have been applied: never the same positions again.
            (http(503, "unavailable"), (0, 0), Some(fresh)),
            (http(500, "internal"), (0, 2), Some(fresh)),
            (SheetsError::Transport("reset".into()), (0, 0), Some(fresh)),
            (http(503, "unavailable"), (0, 3), None),
            // Definite.
            (http(400, "Invalid value"), (0, 0), None),
        ];
        for (error, counts, expected) in cases {
            let decided = after_failure(&error, 3, counts, &policy, Duration::ZERO);
            let replan = match decided {
                AfterFailure::GiveUp => None,
                AfterFailure::Retry { replan, .. } => Some(replan),
            };
            assert_eq!(replan, expected, "{error} after {counts:?}");
        }
        assert_eq!(
            after_failure(&SheetsError::Cancelled, 3, (0, 0), &policy, Duration::ZERO),
            AfterFailure::GiveUp
        );
        assert_eq!(
            after_failure(&http(400, guard), 1, (0, 0), &policy, Duration::ZERO),
            AfterFailure::Retry {
                wait: Duration::ZERO,
                replan: fresh
            },
            "a guard refusal is planned again without waiting"
        );
    }
}
