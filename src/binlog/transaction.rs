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
//! Memory: a transaction is buffered until its commit, so memory grows with the largest
//! transaction's decoded rows (roughly 2–4× its binlog size); the channels after this stage
//! are bounded in bytes ([`crate::channel`]), so only one oversized transaction is held at a
//! time. A bulk `UPDATE` of millions of rows in one transaction still needs that much memory.

use mysql_async::binlog::events::{Event, EventData, GtidEvent, QueryEvent, RotateEvent};
use mysql_async::binlog::EventType;

use super::decode::{decode_rows, RowChange};
use super::error::{BinlogError, EventLocation};
use super::schema::{SchemaCache, SchemaError, TableSchema};
use crate::position::{BinlogPosition, Gtid, MariaDbGtid, MySqlGtid, MySqlSource};

/// MariaDB event types that mysql_common does not know.
const MARIADB_GTID_EVENT: u8 = 162;
const MARIADB_GTID_LIST_EVENT: u8 = 163;
/// QUERY_COMPRESSED_EVENT (165) up to UPDATE_ROWS_COMPRESSED_EVENT_V1 … (171).
const MARIADB_COMPRESSED_EVENTS: std::ops::RangeInclusive<u8> = 165..=171;
/// MariaDB GTID flags.
const FL_STANDALONE: u8 = 0x01;
const FL_GROUP_COMMIT_ID: u8 = 0x02;

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
        }
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
                self.pending
                    .get_or_insert_with(PendingTransaction::default)
                    .changes
                    .extend(changes);
                Ok(None)
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
            // Non-transactional engines can log a group that ends in ROLLBACK: drop it whole.
            self.pending = None;
            return Ok(None);
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
        })
    }
}

/// MariaDB GTID event body: sequence u64 LE, domain u32 LE, flags u8, then a commit id (8 bytes)
/// if `flags & FL_GROUP_COMMIT_ID`. The server id is the event header's.
pub fn parse_mariadb_gtid(data: &[u8], server_id: u32) -> Option<(MariaDbGtid, u8)> {
    let sequence = u64::from_le_bytes(data.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(data.get(8..12)?.try_into().ok()?);
    let flags = *data.get(12)?;
    if flags & FL_GROUP_COMMIT_ID != 0 && data.len() < 21 {
        return None;
    }
    Some((
        MariaDbGtid {
            domain,
            server_id,
            sequence,
        },
        flags,
    ))
}

fn mysql_gtid(event: &GtidEvent) -> MySqlGtid {
    let sid = event.sid();
    let hex: String = sid.iter().map(|byte| format!("{byte:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    MySqlGtid {
        source: MySqlSource {
            uuid,
            tag: event.tag().map(|tag| tag.as_str().to_owned()),
        },
        gno: event.gno(),
    }
}

/// The event type of MySQL's compressed transaction payload.
pub const TRANSACTION_PAYLOAD_EVENT: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_gtid_body() {
        let mut body = Vec::new();
        body.extend_from_slice(&17u64.to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.push(FL_STANDALONE);
        let (gtid, flags) = parse_mariadb_gtid(&body, 1).expect("parse");
        assert_eq!(gtid.to_string(), "3-1-17");
        assert_eq!(flags, FL_STANDALONE);
        // A commit id is promised by the flag but missing.
        body[12] = FL_GROUP_COMMIT_ID;
        assert_eq!(parse_mariadb_gtid(&body, 1), None);
        body.extend_from_slice(&99u64.to_le_bytes());
        assert!(parse_mariadb_gtid(&body, 1).is_some());
        assert_eq!(parse_mariadb_gtid(&body[..12], 1), None);
    }
}
