//! Writes of an earlier process that Google applies after ours.
//!
//! A flush the previous process sent just before it died (`kill -9`, a crash, a lost lease and a
//! standby taking over) can still be applied after this process's first flushes: a 2 MB
//! `batchUpdate` takes seconds, and Google finishes a request whose client went away. It writes
//! older cells and an older checkpoint over ours. Sheets has no conditional write to refuse it,
//! so the writer looks for it instead: at [`FENCE_CHECKS`] after it starts, between flushes, it
//! reads the stored checkpoint back (one read request). A flush id other than the one this
//! writer last stored (or loaded at start) means another process's request landed since; the
//! writer then stops with a transient error, and the pipeline restarts from that checkpoint and
//! writes every later change again — the late cells are overwritten, nothing is lost.
//!
//! The last check comes after the Sheets client's request timeout (190 s): a request older than
//! that has been answered or abandoned.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{FenceFuture, Writer, WriterError};
use crate::sync::checkpoint::{CheckpointError, StoredCheckpoint};

/// When, after a writer starts, it reads its checkpoint back.
pub(super) const FENCE_CHECKS: [Duration; 4] = [
    Duration::from_secs(5),
    Duration::from_secs(15),
    Duration::from_secs(60),
    Duration::from_secs(200),
];

/// The check instants of a writer started at `started`, earliest first.
pub(super) fn schedule(started: Instant) -> VecDeque<Instant> {
    FENCE_CHECKS.iter().map(|after| started + *after).collect()
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FenceVerdict {
    /// The stored checkpoint is the one this writer stored last.
    Ours,
    /// Another writer's flush was applied since: restart from the stored checkpoint.
    WrittenElsewhere { found: String },
}

/// Compares the flush id read back with the one this writer stored last.
pub(super) fn verdict(read_back: &str, stored_last: &str) -> FenceVerdict {
    if read_back == stored_last {
        FenceVerdict::Ours
    } else {
        FenceVerdict::WrittenElsewhere {
            found: read_back.to_string(),
        }
    }
}

impl Writer {
    pub(super) fn start_fence_read(&self, cancel: CancellationToken) -> FenceFuture {
        let client = self.client.clone();
        let spreadsheet_id = self.spreadsheet_id.clone();
        Box::pin(async move { StoredCheckpoint::load(&client, &spreadsheet_id, &cancel).await })
    }

    /// Stops the writer when another process's flush landed after ours (`writer/fence.rs`). A
    /// failed read is only logged: the next check, or the next flush, will tell.
    pub(super) fn finish_fence_read(
        &self,
        read: Result<StoredCheckpoint, CheckpointError>,
    ) -> Result<(), WriterError> {
        let stored = match read {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(%error, spreadsheet_id = %self.spreadsheet_id, "reading the checkpoint back failed");
                return Ok(());
            }
        };
        let expected = &self.stored.checkpoint.flush;
        match verdict(&stored.checkpoint.flush, expected) {
            FenceVerdict::Ours => Ok(()),
            FenceVerdict::WrittenElsewhere { found } => Err(WriterError::Sheets {
                spreadsheet_id: self.spreadsheet_id.clone(),
                source: CheckpointError::WrittenElsewhere {
                    spreadsheet_id: self.spreadsheet_id.clone(),
                    expected: expected.clone(),
                    found,
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_flush_this_writer_stored_is_ours() {
        let cases = [
            ("run-a-7", "run-a-7", FenceVerdict::Ours),
            ("", "", FenceVerdict::Ours),
            (
                "run-old-41",
                "run-a-7",
                FenceVerdict::WrittenElsewhere {
                    found: "run-old-41".into(),
                },
            ),
            (
                "",
                "run-a-7",
                FenceVerdict::WrittenElsewhere { found: "".into() },
            ),
        ];
        for (read_back, stored_last, expected) in cases {
            assert_eq!(verdict(read_back, stored_last), expected, "{read_back:?}");
        }
    }

    #[test]
    fn checks_run_until_after_the_request_timeout() {
        let started = Instant::now();
        let due = schedule(started);
        assert_eq!(due.len(), FENCE_CHECKS.len());
        assert!(due.iter().zip(due.iter().skip(1)).all(|(a, b)| a < b));
        let request_timeout = crate::sheets::ClientOptions::default().request_timeout;
        assert!(due
            .back()
            .is_some_and(|last| *last > started + request_timeout));
    }
}
