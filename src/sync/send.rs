//! Sending one flush: a `batchUpdate` that carries a new checkpoint, sent so that it is applied
//! exactly once.
//!
//! Consumes the requests of a flush (the checkpoint request among them) and the flush id the new
//! checkpoint carries; produces the response, or `None` when the answer was lost but the batch
//! was applied. Guarantees: a batch is never sent again after Google applied it. A 429 was
//! refused before anything ran; but after a 5xx or a transport failure the write may have
//! happened, and a batch with row deletes must not run twice — so before each resend the
//! stored checkpoint is read back: if it carries this flush's id, the batch landed.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::checkpoint::{CheckpointError, StoredCheckpoint};
use crate::sheets::model::Request;
use crate::sheets::responses::BatchUpdateResponse;
use crate::sheets::{decide, Failure, RetryDecision, SheetsClient, SheetsError};

/// What happened to a batch that may or may not have been applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// Refused before it ran (429, 408 before reading): resend.
    NotApplied,
    /// Unknown (5xx, transport): read the checkpoint back before resending.
    Unknown,
}

/// Pure: whether a failed batch might have been applied.
pub fn ambiguity(error: &SheetsError) -> Ambiguity {
    match error.status() {
        Some(429) => Ambiguity::NotApplied,
        _ => Ambiguity::Unknown,
    }
}

/// The retry policy's view of a failed call.
pub fn failure(error: &SheetsError) -> (Failure, Option<Duration>) {
    match error {
        SheetsError::Http {
            status,
            retry_after,
            ..
        } => (Failure::Status(*status), *retry_after),
        other if other.is_transient() => (Failure::Transport, None),
        _ => (Failure::Definite, None),
    }
}

/// Sends `requests` until applied once, a definite error, the retry limit, or cancellation.
/// `structure_changed` is asked before each resend: once people have moved rows, the batch's
/// positions are stale and resending it could write onto other keys' rows, so the last error is
/// returned instead and the caller plans again from a fresh read of the tab.
pub async fn send_flush(
    client: &SheetsClient,
    spreadsheet_id: &str,
    requests: &[Request],
    (flush_id, structure_changed): (&str, &(dyn Fn() -> bool + Sync)),
    cancel: &CancellationToken,
) -> Result<Option<BatchUpdateResponse>, CheckpointError> {
    let mut retry = 0u32;
    loop {
        let error = match client
            .batch_update_once(spreadsheet_id, requests, cancel)
            .await
        {
            Ok(response) => return Ok(Some(response)),
            Err(error) => error,
        };
        if matches!(error, SheetsError::Cancelled) || !error.is_transient() {
            return Err(error.into());
        }
        let (kind, retry_after) = failure(&error);
        let policy = client.retry_policy();
        let wait = match decide(kind, retry, retry_after, policy, policy.draw_jitter()) {
            RetryDecision::GiveUp => return Err(error.into()),
            RetryDecision::RetryAfter(wait) => wait,
        };
        tracing::warn!(spreadsheet_id, retry, wait_ms = wait.as_millis() as u64, %error, "flush failed; retrying");
        metrics_retry();
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(SheetsError::Cancelled.into()),
            _ = tokio::time::sleep(wait) => {}
        }
        if ambiguity(&error) == Ambiguity::Unknown {
            let stored = StoredCheckpoint::load(client, spreadsheet_id, cancel).await?;
            if stored.checkpoint.flush == flush_id {
                tracing::info!(
                    spreadsheet_id,
                    flush_id,
                    "the failed flush had been applied; not sending it again"
                );
                return Ok(None);
            }
        }
        if structure_changed() {
            tracing::info!(
                spreadsheet_id,
                flush_id,
                "people changed the tab's rows while the flush waited to be resent; planning it again"
            );
            return Err(error.into());
        }
        retry = retry.saturating_add(1);
    }
}

fn metrics_retry() {
    metrics::counter!(crate::metrics::SHEETS_RETRIES_TOTAL).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_failures_may_hide_an_applied_write() {
        let http = |status: u16| SheetsError::Http {
            status,
            google_status: String::new(),
            message: String::new(),
            retry_after: None,
        };
        assert_eq!(ambiguity(&http(429)), Ambiguity::NotApplied);
        for status in [500, 502, 503, 504, 408] {
            assert_eq!(ambiguity(&http(status)), Ambiguity::Unknown, "{status}");
        }
        assert_eq!(
            ambiguity(&SheetsError::Transport("reset".into())),
            Ambiguity::Unknown
        );
    }
}
