//! The initial load of one mapping: a consistent read of the table and the binlog position it
//! is consistent with (DESIGN §2.9).
//!
//! Consumes a MySQL connection and a mapping; produces the position to stream from and the
//! table's rows in key order, chunk by chunk, as the same [`Row`]s the binlog decoder makes.
//! Guarantees: every chunk comes from ONE `REPEATABLE READ` snapshot, so rows committed while
//! the load runs are either in it or after the position — never lost. On MariaDB the position is
//! exactly the snapshot's (`binlog_snapshot_file/position`, turned into a GTID list by
//! `BINLOG_GTID_POS`); on MySQL it is read just before the snapshot starts, so a few transactions
//! may be both in the snapshot and replayed, which is harmless because the writer places rows by
//! key (an insert replayed over its own row rewrites it; nothing is doubled). Chunks are read by
//! key ranges, each query short, so a slow Sheets quota never holds a result set open.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Pool};

use super::result_value;
use crate::binlog::server::{current_position, inspect_server};
use crate::binlog::settings::ServerFlavor;
use crate::binlog::{BinlogError, Row, RowColumn};
use crate::position::BinlogPosition;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot of {table}: {source}")]
    Mysql {
        table: String,
        source: mysql_async::Error,
    },
    #[error("snapshot of {table}: {source}")]
    Binlog { table: String, source: BinlogError },
    #[error("snapshot of {table}: the table does not exist")]
    TableMissing { table: String },
    #[error(
        "snapshot of {table}: the table has no primary key; sheetsync needs one to place rows"
    )]
    NoPrimaryKey { table: String },
    #[error("snapshot of {table}: mapped column `{column}` does not exist in the table")]
    ColumnMissing { table: String, column: String },
    #[error("snapshot of {table}: column `{column}`: {reason}")]
    Value {
        table: String,
        column: String,
        reason: String,
    },
}

impl SnapshotError {
    /// Connection trouble is transient (retry the load); a missing table or key is definite.
    pub fn is_transient(&self) -> bool {
        match self {
            SnapshotError::Mysql { .. } => true,
            SnapshotError::Binlog { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}

/// An open snapshot of one table.
pub struct SnapshotReader {
    transaction: Conn,
    table: String,
    select_list: String,
    columns: Vec<Arc<str>>,
    key_columns: Vec<String>,
    last_key: Option<Vec<mysql_async::Value>>,
    chunk_rows: usize,
}

/// The position the snapshot is consistent with, and the reader of its rows.
pub struct Snapshot {
    pub position: BinlogPosition,
    pub reader: SnapshotReader,
    /// The table's columns the snapshot reads (the mapping's, or all in table order).
    pub columns: Vec<Arc<str>>,
    pub key_columns: Vec<Arc<str>>,
}

fn quote(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

impl Snapshot {
    /// Starts the snapshot of `database.table` (`columns`: the mapping's list, or None for all).
    pub async fn begin(
        pool: &Pool,
        database: &str,
        table: &str,
        columns: Option<&[String]>,
        chunk_rows: usize,
    ) -> Result<Snapshot, SnapshotError> {
        let name = format!("{database}.{table}");
        let mysql = |source| SnapshotError::Mysql {
            table: name.clone(),
            source,
        };
        let mut conn: Conn = pool.get_conn().await.map_err(mysql)?;
        let (table_columns, key_columns) = describe_table(&mut conn, database, table)
            .await
            .map_err(mysql)?;
        if table_columns.is_empty() {
            return Err(SnapshotError::TableMissing { table: name });
        }
        if key_columns.is_empty() {
            return Err(SnapshotError::NoPrimaryKey { table: name });
        }
        let mut selected: Vec<String> = match columns {
            None => table_columns.clone(),
            Some(wanted) => {
                for column in wanted {
                    if !table_columns.contains(column) {
                        return Err(SnapshotError::ColumnMissing {
                            table: name,
                            column: column.clone(),
                        });
                    }
                }
                wanted.to_vec()
            }
        };
        // Key columns are always read: rows are placed by them.
        for key in &key_columns {
            if !selected.contains(key) {
                selected.push(key.clone());
            }
        }
        let binlog = |source| SnapshotError::Binlog {
            table: name.clone(),
            source,
        };
        let flavor = inspect_server(&mut conn).await.map_err(binlog)?.flavor;
        conn.query_drop("SET SESSION time_zone = '+00:00'")
            .await
            .map_err(mysql)?;
        let before = match flavor {
            ServerFlavor::MySql => Some(current_position(&mut conn, flavor).await.map_err(binlog)?),
            ServerFlavor::MariaDb => None,
        };
        // Plain statements on an owned connection: the reader keeps the connection (and the
        // snapshot) across awaits on the Sheets side.
        conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .await
            .map_err(mysql)?;
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await
            .map_err(mysql)?;
        let mut transaction = conn;
        let position = match before {
            Some(position) => position,
            None => mariadb_snapshot_position(&mut transaction)
                .await
                .map_err(mysql)?
                .ok_or_else(|| SnapshotError::Value {
                    table: name.clone(),
                    column: "binlog_snapshot_file".into(),
                    reason: "the server reported no snapshot position (is log_bin on?)".into(),
                })?,
        };
        let select_list = selected
            .iter()
            .map(|column| quote(column))
            .collect::<Vec<_>>()
            .join(", ");
        let columns: Vec<Arc<str>> = selected
            .iter()
            .map(|column| Arc::from(column.as_str()))
            .collect();
        Ok(Snapshot {
            position,
            columns: columns.clone(),
            key_columns: key_columns
                .iter()
                .map(|key| Arc::from(key.as_str()))
                .collect(),
            reader: SnapshotReader {
                transaction,
                table: format!("{}.{}", quote(database), quote(table)),
                select_list,
                columns,
                key_columns,
                last_key: None,
                chunk_rows: chunk_rows.max(1),
            },
        })
    }
}

/// The table's columns in table order and its primary-key columns in key order (both empty
/// when the table does not exist).
pub async fn describe_table(
    conn: &mut Conn,
    database: &str,
    table: &str,
) -> Result<(Vec<String>, Vec<String>), mysql_async::Error> {
    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        .await?;
    let key_columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        .await?;
    Ok((columns, key_columns))
}

/// MariaDB's exact snapshot position: the binlog file/offset the consistent snapshot saw, as a
/// GTID list when the server logs GTIDs.
async fn mariadb_snapshot_position(
    transaction: &mut Conn,
) -> Result<Option<BinlogPosition>, mysql_async::Error> {
    let status: Vec<(String, String)> = transaction
        .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
        .await?;
    let lookup = |name: &str| {
        status
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let (Some(file), Some(offset)) = (
        lookup("binlog_snapshot_file"),
        lookup("binlog_snapshot_position").and_then(|offset| offset.parse::<u64>().ok()),
    ) else {
        return Ok(None);
    };
    let gtids: Option<Option<String>> = transaction
        .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file.as_str(), offset))
        .await?;
    Ok(Some(
        match gtids.flatten().filter(|text| !text.trim().is_empty()) {
            Some(text) => match text.parse() {
                Ok(position) => position,
                Err(_) => BinlogPosition::File { file, offset },
            },
            None => BinlogPosition::File { file, offset },
        },
    ))
}

impl SnapshotReader {
    /// The next rows in key order; empty when the table is done.
    pub async fn next_chunk(&mut self) -> Result<Vec<Row>, SnapshotError> {
        let key_list = self
            .key_columns
            .iter()
            .map(|column| quote(column))
            .collect::<Vec<_>>()
            .join(", ");
        let (condition, params) = match &self.last_key {
            None => (String::new(), Params::Empty),
            Some(last) => {
                let placeholders = vec!["?"; last.len()].join(", ");
                (
                    format!("WHERE ({key_list}) > ({placeholders}) "),
                    Params::Positional(last.clone()),
                )
            }
        };
        let statement = format!(
            "SELECT {} FROM {} {condition}ORDER BY {key_list} LIMIT {}",
            self.select_list, self.table, self.chunk_rows
        );
        let rows: Vec<mysql_async::Row> =
            self.transaction
                .exec(statement, params)
                .await
                .map_err(|source| SnapshotError::Mysql {
                    table: self.table.clone(),
                    source,
                })?;
        let mut converted = Vec::with_capacity(rows.len());
        for mut row in rows {
            let result_columns = row.columns();
            let mut columns = Vec::with_capacity(self.columns.len());
            let mut key = Vec::with_capacity(self.key_columns.len());
            for (index, name) in self.columns.iter().enumerate() {
                let wire = row.take(index).unwrap_or(mysql_async::Value::NULL);
                if self
                    .key_columns
                    .iter()
                    .any(|key| key.as_str() == name.as_ref())
                {
                    key.push((name.clone(), wire.clone()));
                }
                let value =
                    result_value::convert(&result_columns[index], wire).map_err(|reason| {
                        SnapshotError::Value {
                            table: self.table.clone(),
                            column: name.to_string(),
                            reason,
                        }
                    })?;
                columns.push(RowColumn {
                    name: name.clone(),
                    value,
                });
            }
            // Keyset pagination continues after the last key, in key-column order.
            self.last_key = Some(
                self.key_columns
                    .iter()
                    .filter_map(|column| {
                        key.iter()
                            .find(|(name, _)| name.as_ref() == column.as_str())
                            .map(|(_, value)| value.clone())
                    })
                    .collect(),
            );
            converted.push(Row { columns });
        }
        Ok(converted)
    }

    /// Ends the read-only transaction.
    pub async fn finish(self) -> Result<(), SnapshotError> {
        let table = self.table.clone();
        let mut conn = self.transaction;
        conn.query_drop("COMMIT")
            .await
            .map_err(|source| SnapshotError::Mysql { table, source })
    }
}
