//! Failures of the apply step and what to do about each: retry the transaction, reload the
//! table's column types, reject one row, or give up.
//!
//! Consumes `mysql_async` errors; produces a [`Failure`] whose [`Failure::class`] is the retry
//! decision (a pure function with table tests). Guarantees: a lost connection, a deadlock or a
//! lock wait timeout is never reported as the editor's fault, and a value the server refused
//! for one row never fails the whole message.

use std::time::Duration;

use crate::webhook::ApplyError;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("MySQL: {0}")]
    Database(#[from] mysql_async::Error),
    #[error("no MySQL connection within {0:?}")]
    ConnectTimeout(Duration),
    #[error("table {table}: {reason}")]
    Table { table: String, reason: String },
    #[error("reading the sheet failed: {0}")]
    SheetRead(String),
    #[error("{0}")]
    Internal(String),
}

/// What a failure means for the transaction that hit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The connection, a deadlock, a lock wait, a read-only or restarting server: try the
    /// whole transaction again, then answer 503 so the script retries later.
    Transient,
    /// The table changed under us (unknown column, missing table): reload its column types and
    /// try once more.
    SchemaChanged,
    /// The server refused this row's values (duplicate key, foreign key, check constraint,
    /// trigger SIGNAL, out of range): the server undid the row's statement; report the row.
    RowRejected,
    /// Anything else: 500, logged.
    Definite,
}

/// MySQL/MariaDB server error codes whose meaning decides a retry.
mod code {
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    pub const DEADLOCK: u16 = 1213;
    pub const TOO_MANY_CONNECTIONS: u16 = 1040;
    pub const SERVER_SHUTDOWN: u16 = 1053;
    pub const QUERY_INTERRUPTED: u16 = 1317;
    pub const READ_ONLY: u16 = 1290;
    pub const READ_ONLY_TRANSACTION: u16 = 1792;
    pub const READ_ONLY_MODE: u16 = 1836;
    pub const CONNECTION_KILLED: u16 = 1927;
    pub const UNKNOWN_DATABASE: u16 = 1049;
    pub const UNKNOWN_COLUMN: u16 = 1054;
    pub const NO_SUCH_TABLE: u16 = 1146;
    pub const VIEW_INVALID: u16 = 1356;
    /// Values the server refuses for one row.
    pub const ROW_REJECTIONS: &[u16] = &[
        1048, // column cannot be null
        1062, // duplicate entry
        1264, // out of range
        1265, // data truncated
        1292, // incorrect date/time value
        1364, // field has no default value
        1366, // incorrect value for column (charset, number)
        1406, // data too long
        1451, // foreign key: row is referenced
        1452, // foreign key: parent row missing
        1644, // trigger SIGNAL
        1690, // value out of range
        3140, // invalid JSON (MySQL)
        3819, // check constraint (MySQL)
        4025, // check constraint (MariaDB)
        4078, // illegal JSON (MariaDB)
    ];
}

impl Failure {
    pub fn class(&self) -> FailureClass {
        match self {
            Failure::Database(error) => classify(error),
            Failure::ConnectTimeout(_) | Failure::SheetRead(_) => FailureClass::Transient,
            Failure::Table { .. } | Failure::Internal(_) => FailureClass::Definite,
        }
    }

    /// The server's error code, if this is a server error.
    pub fn server_code(&self) -> Option<u16> {
        match self {
            Failure::Database(mysql_async::Error::Server(error)) => Some(error.code),
            _ => None,
        }
    }

    /// The message to show the editor when the server refused a row: the server's own words.
    pub fn row_message(&self) -> String {
        match self {
            Failure::Database(mysql_async::Error::Server(error)) => {
                format!("the database refused this row: {}", error.message)
            }
            other => other.to_string(),
        }
    }

    /// The answer for the webhook once retries are exhausted.
    pub fn into_apply_error(self) -> ApplyError {
        match self.class() {
            FailureClass::Transient => ApplyError::Unavailable(self.to_string()),
            _ => ApplyError::Failed(self.to_string()),
        }
    }
}

/// The retry decision for one MySQL error.
pub fn classify(error: &mysql_async::Error) -> FailureClass {
    use mysql_async::{DriverError, Error};
    match error {
        Error::Io(_) => FailureClass::Transient,
        Error::Driver(
            DriverError::ConnectionClosed
            | DriverError::PoolDisconnected
            | DriverError::PacketOutOfOrder
            | DriverError::UnexpectedPacket { .. },
        ) => FailureClass::Transient,
        Error::Driver(_) | Error::Other(_) | Error::Url(_) => FailureClass::Definite,
        Error::Server(server) => classify_code(server.code),
    }
}

pub fn classify_code(server_code: u16) -> FailureClass {
    match server_code {
        code::LOCK_WAIT_TIMEOUT
        | code::DEADLOCK
        | code::TOO_MANY_CONNECTIONS
        | code::SERVER_SHUTDOWN
        | code::QUERY_INTERRUPTED
        | code::READ_ONLY
        | code::READ_ONLY_TRANSACTION
        | code::READ_ONLY_MODE
        | code::CONNECTION_KILLED
        // Client-side codes some paths surface as server errors: gone away, lost.
        | 2006
        | 2013 => FailureClass::Transient,
        code::UNKNOWN_DATABASE | code::UNKNOWN_COLUMN | code::NO_SUCH_TABLE | code::VIEW_INVALID => {
            FailureClass::SchemaChanged
        }
        rejected if code::ROW_REJECTIONS.contains(&rejected) => FailureClass::RowRejected,
        _ => FailureClass::Definite,
    }
}

/// How long to wait before attempt `attempt` (1-based count of failures so far) of a
/// transaction that failed transiently; `None` when the attempts are used up.
pub fn retry_delay(failures_so_far: u32) -> Option<Duration> {
    const MAX_ATTEMPTS: u32 = 4;
    if failures_so_far >= MAX_ATTEMPTS {
        return None;
    }
    let base = 25u64 << failures_so_far.saturating_sub(1).min(4);
    Some(Duration::from_millis(base + fastrand::u64(0..=base / 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "m".into(),
            state: "HY000".into(),
        })
    }

    #[test]
    fn each_error_has_its_retry_decision() {
        use FailureClass::*;
        let cases = [
            (server(1213), Transient),
            (server(1205), Transient),
            (server(1290), Transient),
            (server(1927), Transient),
            (server(1053), Transient),
            (server(1054), SchemaChanged),
            (server(1146), SchemaChanged),
            (server(1062), RowRejected),
            (server(1644), RowRejected),
            (server(4025), RowRejected),
            (server(1452), RowRejected),
            (server(1064), Definite), // syntax: our bug, not the editor's
            (server(1142), Definite), // command denied: grants
            (
                mysql_async::Error::Driver(mysql_async::DriverError::ConnectionClosed),
                Transient,
            ),
            (
                mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))),
                Transient,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(classify(&error), expected, "{error}");
        }
        assert_eq!(
            Failure::ConnectTimeout(Duration::from_secs(1)).class(),
            Transient
        );
    }

    #[test]
    fn retries_are_bounded_and_grow() {
        let delays: Vec<Option<Duration>> = (1..=5).map(retry_delay).collect();
        assert!(delays[..3].iter().all(Option::is_some));
        assert_eq!(delays[3], None);
        assert_eq!(delays[4], None);
        assert!(delays[2].unwrap_or_default() > Duration::from_millis(90));
        assert!(delays[0].unwrap_or_default() <= Duration::from_millis(40));
    }

    #[test]
    fn exhausted_transient_failures_answer_503_others_500() {
        let unavailable = Failure::Database(server(1213)).into_apply_error();
        assert!(matches!(unavailable, ApplyError::Unavailable(_)));
        let failed = Failure::Database(server(1064)).into_apply_error();
        assert!(matches!(failed, ApplyError::Failed(_)));
    }
}
