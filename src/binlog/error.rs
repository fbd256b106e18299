//! The one error type of the binlog layer.
//!
//! Consumes failures of the connection, the server's settings and event decoding; produces
//! [`BinlogError`], each variant classified by [`BinlogError::is_transient`]: transient means
//! "reconnect with backoff and resume from the last committed position", definite means "stop
//! and tell the operator" (retrying cannot help). Decode errors carry the table and position.

use crate::position::BinlogPosition;

/// Where a decode error happened: the table (when known) and the position of the last
/// committed transaction before it, so an operator can find the event with `mysqlbinlog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLocation {
    pub table: Option<String>,
    /// The last committed position (the failing transaction starts after it).
    pub position: Option<BinlogPosition>,
    /// Binlog file and end offset of the failing event, when the stream told us the file.
    pub event: Option<(String, u64)>,
}

impl std::fmt::Display for EventLocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "table {}",
            self.table.as_deref().unwrap_or("(none)")
        )?;
        match &self.position {
            Some(position) => write!(formatter, ", after position {position}")?,
            None => write!(formatter, ", before the first transaction")?,
        }
        if let Some((file, offset)) = &self.event {
            write!(formatter, ", event ending at {file}:{offset}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BinlogError {
    /// Network, protocol or server error on the replication connection.
    #[error("binlog connection failed: {0}")]
    Connection(#[from] mysql_async::Error),

    /// The stream ended (server shut down gracefully, or the dump thread was killed).
    #[error("binlog stream closed by the server")]
    StreamClosed,

    /// Nothing arrived within twice the heartbeat period: a half-open connection.
    #[error("no binlog event or heartbeat for {seconds} s; the connection is presumed dead")]
    ReadTimeout { seconds: u64 },

    /// The reader task panicked (a parser bug on unexpected bytes); reconnecting re-reads.
    #[error("binlog reader task failed: {0}")]
    ReaderPanicked(String),

    /// Server error 1236: the binlog holding the requested position was purged.
    #[error(
        "the binlog at position {position} is no longer on the server (purged): \
         re-snapshot the mappings or restore a newer checkpoint; server said: {message}"
    )]
    PositionPurged { position: String, message: String },

    /// A server setting makes row-based change capture impossible or unreliable.
    #[error("server setting {setting} is {actual}, but sheetsync needs {expected}")]
    InvalidSystemSetting {
        setting: String,
        expected: String,
        actual: String,
    },

    /// Compressed binlog events, which this reader does not decode.
    #[error(
        "compressed binlog event (type {event_type}) at {location}: \
         set log_bin_compress=OFF (MariaDB) or binlog_transaction_compression=OFF (MySQL)"
    )]
    CompressedEvents {
        event_type: u8,
        location: EventLocation,
    },

    /// The TABLE_MAP carries no column names (binlog_row_metadata=MINIMAL when it was written).
    #[error(
        "TABLE_MAP has no column names at {location}: the event was written with \
         binlog_row_metadata=MINIMAL; set it to FULL (only later events will have names)"
    )]
    MissingRowMetadata { location: EventLocation },

    /// A rows event for a table id with no preceding TABLE_MAP.
    #[error("rows event for table id {table_id} without a TABLE_MAP at {location}")]
    MissingTableMap {
        table_id: u64,
        location: EventLocation,
    },

    /// An event or value that could not be decoded.
    #[error("cannot decode binlog event at {location}: {reason}")]
    Decode {
        reason: String,
        location: EventLocation,
    },

    /// A transaction too large to hold was handed on in parts, then ended in `ROLLBACK` (only
    /// non-transactional engines log such a group). Its parts may already be in the sheet, so
    /// the pipeline re-snapshots the mappings of these tables.
    #[error(
        "a transaction too large to hold (sync.transaction_buffer_kib) was handed on in parts \
         and then rolled back at {location}; re-snapshotting the mappings of {tables}",
        tables = tables.join(", ")
    )]
    RolledBackAfterParts {
        tables: Vec<String>,
        location: EventLocation,
    },

    /// The saved position cannot be used with this server (e.g. a MySQL GTID set on MariaDB).
    #[error("position {position} cannot be used with this server: {reason}")]
    IncompatiblePosition { position: String, reason: String },
}

impl BinlogError {
    /// True when reconnecting and resuming from the last committed position may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            BinlogError::Connection(error) => is_transient_mysql(error),
            BinlogError::StreamClosed
            | BinlogError::ReadTimeout { .. }
            | BinlogError::ReaderPanicked(_) => true,
            BinlogError::PositionPurged { .. }
            | BinlogError::InvalidSystemSetting { .. }
            | BinlogError::CompressedEvents { .. }
            | BinlogError::MissingRowMetadata { .. }
            | BinlogError::MissingTableMap { .. }
            | BinlogError::Decode { .. }
            | BinlogError::RolledBackAfterParts { .. }
            | BinlogError::IncompatiblePosition { .. } => false,
        }
    }

    /// Turns server error 1236 into [`BinlogError::PositionPurged`]; other errors pass through.
    pub fn from_stream_error(error: mysql_async::Error, position: &str) -> Self {
        match &error {
            mysql_async::Error::Server(server)
                if server.code == ER_MASTER_FATAL_ERROR_READING_BINLOG =>
            {
                BinlogError::PositionPurged {
                    position: position.to_owned(),
                    message: server.message.clone(),
                }
            }
            _ => BinlogError::Connection(error),
        }
    }
}

/// Server error 1236, ER_MASTER_FATAL_ERROR_READING_BINLOG: "could not find first log file" or
/// "the binary logs containing GTIDs that the slave requires have been purged".
pub const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

/// Access denied and unknown-database style server errors are definite: retrying with the same
/// credentials cannot help. Everything on the wire (I/O, driver, closed pool) is transient.
fn is_transient_mysql(error: &mysql_async::Error) -> bool {
    match error {
        mysql_async::Error::Server(server) => !matches!(
            server.code,
            // access denied (user, db, no privilege), unknown db, replica id in use? no: 1236 above
            1044 | 1045 | 1049 | 1142 | 1227 | 1698 | ER_MASTER_FATAL_ERROR_READING_BINLOG
        ),
        mysql_async::Error::Url(_) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "message".into(),
            state: "HY000".into(),
        })
    }

    #[test]
    fn classification() {
        let location = EventLocation {
            table: Some("shop.orders".into()),
            position: None,
            event: None,
        };
        let cases: Vec<(BinlogError, bool)> = vec![
            (BinlogError::StreamClosed, true),
            (BinlogError::ReadTimeout { seconds: 60 }, true),
            (BinlogError::ReaderPanicked("boom".into()), true),
            (BinlogError::Connection(server_error(2013)), true),
            (BinlogError::Connection(server_error(1045)), false),
            (
                BinlogError::from_stream_error(server_error(1236), "0-1-5"),
                false,
            ),
            (
                BinlogError::InvalidSystemSetting {
                    setting: "binlog_format".into(),
                    expected: "ROW".into(),
                    actual: "STATEMENT".into(),
                },
                false,
            ),
            (
                BinlogError::CompressedEvents {
                    event_type: 166,
                    location: location.clone(),
                },
                false,
            ),
            (
                BinlogError::MissingRowMetadata {
                    location: location.clone(),
                },
                false,
            ),
            (
                BinlogError::RolledBackAfterParts {
                    tables: vec!["shop.orders".into()],
                    location: location.clone(),
                },
                false,
            ),
            (
                BinlogError::Decode {
                    reason: "short".into(),
                    location,
                },
                false,
            ),
        ];
        for (error, transient) in cases {
            assert_eq!(error.is_transient(), transient, "{error}");
        }
    }

    #[test]
    fn purged_names_the_position() {
        let error = BinlogError::from_stream_error(server_error(1236), "0-1-5");
        assert!(
            matches!(&error, BinlogError::PositionPurged { position, .. } if position == "0-1-5")
        );
        assert!(error.to_string().contains("0-1-5"), "{error}");
    }
}
