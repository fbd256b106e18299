//! The binlog source and decoder: the MySQL/MariaDB replication stream → whole, typed
//! transactions with positions.
//!
//! ```text
//! source.rs (replica connection, settings check, reconnect) ─► raw events
//!   ─► transaction.rs (GTID … XID/COMMIT grouping, positions) ─► Transaction
//!        └─ schema.rs (TABLE_MAP → TableSchema) + decode.rs (rows → RowChange with typed Values)
//! ```
//! `file.rs` reads recorded binlog files into the same event sequence; `error.rs` classifies
//! every failure as transient (reconnect) or definite (stop and say why).

pub mod backoff;
pub mod convert;
pub mod decode;
pub mod error;
pub mod event_kinds;
pub mod file;
pub mod schema;
pub mod server;
pub mod settings;
pub mod source;
pub mod transaction;

pub use decode::{ChangeKind, Row, RowChange, RowColumn};
pub use error::BinlogError;
pub use schema::{TableName, TableSchema};
pub use source::{BinlogSource, SourceOptions};
pub use transaction::{DdlStatement, Transaction, TransactionAssembler};
