//! A transaction too large to hold, handed on in parts (see the module above): when a part is
//! cut, and what a group whose parts were already sent becomes when it ends in `ROLLBACK`.

use mysql_async::binlog::events::Event;

use super::{Transaction, TransactionAssembler};
use crate::binlog::error::{BinlogError, EventLocation};
use crate::position::BinlogPosition;

impl TransactionAssembler {
    /// Non-transactional engines can log a group that ends in ROLLBACK: drop it whole, unless
    /// parts of it were already handed on.
    pub(super) fn rollback(
        &mut self,
        location: EventLocation,
    ) -> Result<Option<Transaction>, BinlogError> {
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        if pending.streamed.is_empty() {
            return Ok(None);
        }
        Err(BinlogError::RolledBackAfterParts {
            tables: pending.streamed.into_iter().collect(),
            location,
        })
    }

    /// The rows read so far, as a part, once the transaction holds too many of them.
    pub(super) fn part(&mut self, event: &Event) -> Option<Transaction> {
        let pending = self.pending.as_mut()?;
        if pending.bytes < self.part_bytes {
            return None;
        }
        if pending.streamed.is_empty() {
            tracing::info!(
                gtid = ?pending.gtid.as_ref().map(ToString::to_string),
                limit_kib = self.part_bytes / 1024,
                "a transaction too large to hold is handed on in parts; the checkpoint moves at its commit"
            );
        }
        let changes = std::mem::take(&mut pending.changes);
        pending.bytes = 0;
        pending
            .streamed
            .extend(changes.iter().map(|change| change.table.to_string()));
        let position_after = match &self.committed {
            BinlogPosition::File { file, .. } => BinlogPosition::File {
                file: self.current_file.clone().unwrap_or_else(|| file.clone()),
                offset: self.last_event_end,
            },
            position => position.clone(),
        };
        Some(Transaction {
            gtid: pending.gtid.clone(),
            position_after,
            commit_event_end: None,
            commit_unix_seconds: event.header().timestamp(),
            changes,
            statements: Vec::new(),
            partial: true,
        })
    }
}
