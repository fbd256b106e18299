//! Binlog events → whole transactions.
//!
//! Consumes raw events in stream order (from a replication stream or a binlog file); produces a
//! [`Transaction`] at each commit, with its GTID, the position just after it, its row changes
//! and DDL statements. Guarantees:
//! - Only committed transactions come out: a group ends at XID, at a `COMMIT` query, or after a
//!   standalone statement (MariaDB `FL_STANDALONE`, or MySQL DDL with no `BEGIN`); a group that
//!   ends in `ROLLBACK` is dropped whole.
//! - The position moves only at a commit, so a saved position never points inside a group
//!   (whose rows would then lack their TABLE_MAP).
//! - Compressed events (MariaDB 165–171) are a definite error, never silently skipped. MySQL
//!   `TRANSACTION_PAYLOAD` events are decompressed by the stream (mysql_async) or by
//!   [`super::file`], so their inner events arrive here like any others.
//!
//! Memory: a transaction is buffered until its commit, up to [`PART_BYTES`] of decoded rows.
//! A larger one is handed on in parts as it is read ([`Transaction::partial`]): the position
//! still moves only at its commit, so a crash or reconnect replays it whole (its row images
//! are keyed by primary key, so replaying them is idempotent). The channels after this stage
//! are bounded in bytes ([`crate::channel`]), so memory stays bounded however large the
//! transaction. A streamed group that ends in `ROLLBACK` (only non-transactional engines log
//! one) cannot be taken back: it is [`BinlogError::RolledBackAfterParts`], which re-snapshots.

use std::collections::BTreeSet;

use mysql_async::binlog::events::{Event, EventData, QueryEvent, RotateEvent};

use super::decode::{decode_rows, RowChange};
use super::error::{BinlogError, EventLocation};
use super::event_kinds::{
    mysql_gtid, parse_mariadb_gtid, FL_STANDALONE, MARIADB_COMPRESSED_EVENTS, MARIADB_GTID_EVENT,
    MARIADB_GTID_LIST_EVENT,
};
use super::schema::{SchemaCache, SchemaError, TableSchema};
use crate::position::{BinlogPosition, Gtid};

/// Decoded rows a transaction may hold before it is handed on in parts. Far above any webhook
/// transaction (whose echo marker comes last) and half a writer's channel budget.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// A DDL (or other non-row) statement inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlStatement {
    /// The default database the statement ran in (may be empty).
    pub database: String,
    pub statement: String,
}

/// One committed transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// None for MySQL anonymous transactions and old servers without GTIDs.
    pub gtid: Option<Gtid>,
    /// Resume here to read the transactions after this one.
    pub position_after: BinlogPosition,
    /// Binlog file and end offset of the commit event, when known (for logs and diagnostics).
    pub commit_event_end: Option<(String, u64)>,
    /// The commit event's timestamp (server clock, unix seconds).
    pub commit_unix_seconds: u32,
    pub changes: Vec<RowChange>,
    pub statements: Vec<DdlStatement>,
    /// A part of a transaction too large to hold: more parts follow, and the last one comes
    /// at the commit with `partial == false` and the statements. A part's `position_after`
    /// must not be saved: for file positions it points inside the transaction (so
    /// [`BinlogPosition::covers`] still tells whether a checkpoint holds it), for GTID
    /// positions it is the position before the transaction.
    pub partial: bool,
}

impl Transaction {
    /// ≈ bytes the transaction holds in memory (for the pipeline's byte budgets).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Transaction>()
            + self
                .changes
                .iter()
                .map(RowChange::memory_bytes)
                .sum::<usize>()
            + self
                .statements
                .iter()
                .map(|statement| statement.statement.len() + statement.database.len())
                .sum::<usize>()
    }
}

/// A transaction being read.
#[derive(Debug, Default)]
struct PendingTransaction {
    gtid: Option<Gtid>,
    /// MariaDB said the group is one statement with no BEGIN/COMMIT.
    standalone: bool,
    /// A `BEGIN` query was seen: statements are part of the group, not standalone DDL.
    began: bool,
    changes: Vec<RowChange>,
    statements: Vec<DdlStatement>,
    /// ≈ decoded bytes in `changes`.
    bytes: usize,
    /// Tables of the rows already handed on in parts (empty: none were).
    streamed: BTreeSet<String>,
}

/// Groups events into transactions and keeps the committed position.
#[derive(Debug)]
pub struct TransactionAssembler {
    schemas: SchemaCache,
    /// The position after the last emitted transaction: what a checkpoint may save.
    committed: BinlogPosition,
    /// The binlog file being read (from ROTATE events), for file positions and diagnostics.
    current_file: Option<String>,
    /// Byte offset after the last event that had one; events inside a MySQL compressed payload
    /// carry none, so their commit ends where the payload event ends.
    last_event_end: u64,
    pending: Option<PendingTransaction>,
    /// The first (fake) ROTATE precedes the FDE, so mysql_async leaves the 4 CRC32 bytes on its
    /// name (mysql_async issue #189). True when the server checksums events.
    fake_rotate_has_checksum: bool,
    part_bytes: usize,
}

impl TransactionAssembler {
    /// Starts after `committed`; `fake_rotate_has_checksum` is `@@binlog_checksum = CRC32`.
    pub fn new(committed: BinlogPosition, fake_rotate_has_checksum: bool) -> Self {
        let (current_file, last_event_end) = match &committed {
            BinlogPosition::File { file, offset } => (Some(file.clone()), *offset),
            _ => (None, 0),
        };
        TransactionAssembler {
            schemas: SchemaCache::default(),
            committed,
            current_file,
            last_event_end,
            pending: None,
            fake_rotate_has_checksum,
            part_bytes: PART_BYTES,
        }
    }

    /// Hands transactions on in parts once they hold `bytes` of decoded rows (tests use a
    /// small value to stream ordinary transactions).
    pub fn with_part_bytes(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes.max(1);
        self
    }

    /// The position after the last emitted transaction.
    pub fn committed(&self) -> &BinlogPosition {
        &self.committed
    }

    /// The GTID of the transaction being read, if any (for diagnostics after an error).
    pub fn pending_gtid(&self) -> Option<&Gtid> {
        self.pending
            .as_ref()
            .and_then(|pending| pending.gtid.as_ref())
    }

    /// True while a transaction has started but not committed.
    pub fn in_transaction(&self) -> bool {
        self.pending.is_some()
    }

    fn location(&self, table: Option<String>, event: &Event) -> EventLocation {
        EventLocation {
            table,
            position: Some(self.committed.clone()),
            event: self
                .current_file
                .clone()
                .map(|file| (file, u64::from(event.header().log_pos()))),
        }
    }

    fn decode_error(&self, event: &Event, reason: impl Into<String>) -> BinlogError {
        BinlogError::Decode {
            reason: reason.into(),
            location: self.location(None, event),
        }
    }

    /// Feeds one event; returns the transaction it commits, if any.
    pub fn handle(&mut self, event: &Event) -> Result<Option<Transaction>, BinlogError> {
        let header = event.header();
        if header.log_pos() != 0 {
            self.last_event_end = u64::from(header.log_pos());
        }
        let raw_type = header.event_type_raw();
        match raw_type {
            MARIADB_GTID_EVENT => {
                let (gtid, flags) = parse_mariadb_gtid(event.data(), header.server_id())
                    .ok_or_else(|| self.decode_error(event, "MariaDB GTID event too short"))?;
                let standalone = flags & FL_STANDALONE != 0;
                self.pending = Some(PendingTransaction {
                    gtid: Some(Gtid::MariaDb(gtid)),
                    standalone,
                    // With @mariadb_slave_capability=4 the GTID event replaces the BEGIN query.
                    began: !standalone,
                    ..PendingTransaction::default()
                });
                return Ok(None);
            }
            MARIADB_GTID_LIST_EVENT => return Ok(None),
            compressed if MARIADB_COMPRESSED_EVENTS.contains(&compressed) => {
                return Err(BinlogError::CompressedEvents {
                    event_type: compressed,
                    location: self.location(None, event),
                });
            }
            _ => {}
        }
        let data = event
            .read_data()
            .map_err(|error| self.decode_error(event, error.to_string()))?;
        let Some(data) = data else {
            // Other unknown types (MariaDB 160 ANNOTATE_ROWS, 161 BINLOG_CHECKPOINT, …)
            // carry nothing we replicate.
            return Ok(None);
        };
        match data {
            EventData::GtidEvent(gtid) => {
                self.pending = Some(PendingTransaction {
                    gtid: Some(Gtid::MySql(mysql_gtid(&gtid))),
                    ..PendingTransaction::default()
                });
                Ok(None)
            }
            EventData::AnonymousGtidEvent(_) => {
                self.pending = Some(PendingTransaction::default());
                Ok(None)
            }
            EventData::RotateEvent(rotate) => {
                self.handle_rotate(&rotate, header.log_pos() == 0);
                Ok(None)
            }
            EventData::QueryEvent(query) => self.handle_query(&query, event),
            EventData::TableMapEvent(table_map) => {
                let table = format!("{}.{}", table_map.database_name(), table_map.table_name());
                let schema =
                    TableSchema::from_table_map(&table_map).map_err(|error| match error {
                        SchemaError::MissingColumnNames => BinlogError::MissingRowMetadata {
                            location: self.location(Some(table.clone()), event),
                        },
                        SchemaError::Malformed(reason) => BinlogError::Decode {
                            reason,
                            location: self.location(Some(table.clone()), event),
                        },
                    })?;
                self.schemas.insert(table_map.table_id(), schema);
                Ok(None)
            }
            EventData::RowsEvent(rows) => {
                let table_id = rows.table_id();
                let Some(schema) = self.schemas.get(table_id).cloned() else {
                    return Err(BinlogError::MissingTableMap {
                        table_id,
                        location: self.location(None, event),
                    });
                };
                let changes =
                    decode_rows(&rows, &schema).map_err(|reason| BinlogError::Decode {
                        reason,
                        location: self.location(Some(schema.table.to_string()), event),
                    })?;
                // Rows outside a GTID group only happen on servers without GTID events; the
                // group then ends at its XID as usual.
                let pending = self.pending.get_or_insert_with(PendingTransaction::default);
                // ≈ decoded bytes: each row's fixed part, plus the event's length for the
                // values' heap (cheaper than visiting every value of a hot path).
                pending.bytes +=
                    changes.iter().map(RowChange::fixed_bytes).sum::<usize>() + event.data().len();
                pending.changes.extend(changes);
                Ok(self.part(event))
            }
            EventData::XidEvent(_) => Ok(self.commit(event)),
            // The stream already expanded the payload (mysql_async decompresses it), so the
            // events inside follow this one.
            EventData::TransactionPayloadEvent(_) => Ok(None),
            _ => Ok(None),
        }
    }

    fn handle_rotate(&mut self, rotate: &RotateEvent<'_>, fake: bool) {
        let mut name = rotate.name_raw();
        if fake && self.fake_rotate_has_checksum && name.len() > 4 {
            name = &name[..name.len() - 4];
        }
        let name = String::from_utf8_lossy(name).into_owned();
        if !fake || self.current_file.as_deref() != Some(name.as_str()) {
            // A real rotate starts a new file whose table ids are fresh.
            self.schemas.clear();
        }
        self.current_file = Some(name.clone());
        self.last_event_end = rotate.position();
        if let BinlogPosition::File { file, offset } = &mut self.committed {
            // Nothing is pending across a rotate, so the committed position moves with it.
            if self.pending.is_none() {
                *file = name;
                *offset = rotate.position();
            }
        }
    }

    fn handle_query(
        &mut self,
        query: &QueryEvent<'_>,
        event: &Event,
    ) -> Result<Option<Transaction>, BinlogError> {
        let text = query.query();
        let statement = text.trim();
        if statement.eq_ignore_ascii_case("BEGIN") {
            self.pending
                .get_or_insert_with(PendingTransaction::default)
                .began = true;
            return Ok(None);
        }
        if statement.eq_ignore_ascii_case("COMMIT") {
            return Ok(self.commit(event));
        }
        if statement.eq_ignore_ascii_case("ROLLBACK") {
            let location = self.location(None, event);
            return self.rollback(location);
        }
        let upper = statement
            .get(..12)
            .unwrap_or(statement)
            .to_ascii_uppercase();
        if upper.starts_with("SAVEPOINT") || upper.starts_with("ROLLBACK TO") {
            // Partial rollbacks are already resolved in the logged rows.
            return Ok(None);
        }
        let pending = self.pending.get_or_insert_with(PendingTransaction::default);
        pending.statements.push(DdlStatement {
            database: query.schema().into_owned(),
            statement: text.into_owned(),
        });
        // A statement outside BEGIN … COMMIT is its own transaction (DDL is implicitly
        // committed); MariaDB also marks it FL_STANDALONE.
        if pending.standalone || !pending.began {
            return Ok(self.commit(event));
        }
        Ok(None)
    }

    fn commit(&mut self, event: &Event) -> Option<Transaction> {
        let pending = self.pending.take()?;
        match (&mut self.committed, &pending.gtid) {
            (BinlogPosition::File { file, offset }, _) => {
                if let Some(current) = &self.current_file {
                    file.clone_from(current);
                }
                *offset = self.last_event_end;
            }
            (position, Some(gtid)) => position.advance(gtid),
            (_, None) => {}
        }
        Some(Transaction {
            gtid: pending.gtid,
            position_after: self.committed.clone(),
            commit_event_end: self
                .current_file
                .clone()
                .map(|file| (file, self.last_event_end)),
            commit_unix_seconds: event.header().timestamp(),
            changes: pending.changes,
            statements: pending.statements,
            partial: false,
        })
    }
}

mod parts;

#[cfg(test)]
#[path = "transaction_tests.rs"]
mod tests;
