//! The SQL of one edited row: the locking read, the UPDATE, and what the marker and the answer
//! say about a row. Identifiers only from [`TableInfo`] through [`quote`]; values only as
//! parameters.

use std::collections::{BTreeMap, HashMap};

use mysql_async::prelude::Queryable;
use mysql_async::Transaction;

use super::cells::response_value;
use super::columns::{quote, TableInfo};
use super::error::Failure;
use super::marker::{fingerprint, MarkedRow, Operation};
use super::typed::Typed;

pub(super) fn key_response(
    table: &TableInfo,
    key: &[Typed],
) -> BTreeMap<String, crate::webhook::CellValue> {
    table
        .key
        .iter()
        .zip(key)
        .map(|(index, value)| {
            (
                table.columns[*index].name.to_string(),
                response_value(table, *index, value),
            )
        })
        .collect()
}

pub(super) fn marked_row(
    table: &TableInfo,
    key: &[Typed],
    operation: Operation,
    written: &[(usize, Typed)],
    sheet_row: Option<u32>,
) -> MarkedRow {
    MarkedRow {
        table: table.display_name(),
        key: table
            .key
            .iter()
            .zip(key)
            .map(|(index, value)| {
                (
                    table.columns[*index].name.to_string(),
                    value.marker_text().unwrap_or_default(),
                )
            })
            .collect(),
        operation,
        columns: written
            .iter()
            .map(|(index, value)| {
                (
                    table.columns[*index].name.to_string(),
                    fingerprint(value.marker_text().as_deref()),
                )
            })
            .collect(),
        sheet_row,
    }
}

/// The columns a row is read with: the synced ones, then any key column not synced.
fn read_columns(table: &TableInfo) -> Vec<usize> {
    let mut indexes: Vec<usize> = table.synced.clone();
    for index in &table.key {
        if !indexes.contains(index) {
            indexes.push(*index);
        }
    }
    indexes
}

fn decode_row(
    table: &TableInfo,
    indexes: &[usize],
    mut row: mysql_async::Row,
) -> BTreeMap<usize, Typed> {
    indexes
        .iter()
        .enumerate()
        .map(|(position, index)| {
            let value = row.take(position).unwrap_or(mysql_async::Value::NULL);
            (
                *index,
                Typed::from_database(value, &table.columns[*index].kind),
            )
        })
        .collect()
}

fn column_list(table: &TableInfo, indexes: &[usize]) -> String {
    indexes
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key as the map key of [`select_many_for_update`]: exact canonical text per part.
pub(super) fn key_text(key: &[Typed]) -> Vec<Option<String>> {
    key.iter().map(Typed::marker_text).collect()
}

/// Rows per locking read of many keys.
const KEYS_PER_READ: usize = 500;

/// Whether a locking read waits for rows another transaction holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LockWait {
    /// Up to the server's `innodb_lock_wait_timeout`.
    Wait,
    /// Fail at once (`NOWAIT`, MariaDB 10.3+ and MySQL 8.0+; a lock wait timeout error).
    NoWait,
}

/// The rows of many keys, locked until commit, in as few reads as possible (and in index
/// order, which keeps concurrent pastes from deadlocking). Keys the server matched to a row
/// under another spelling (a case-insensitive collation) are simply absent: the caller reads
/// those one by one.
pub(super) async fn select_many_for_update(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    keys: &[Vec<Typed>],
    wait: LockWait,
) -> Result<HashMap<Vec<Option<String>>, BTreeMap<usize, Typed>>, Failure> {
    let indexes = read_columns(table);
    let key_columns: Vec<String> = table
        .key
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(KEYS_PER_READ) {
        let tuple = format!("({})", vec!["?"; table.key.len()].join(", "));
        let statement = format!(
            "SELECT {} FROM {} WHERE ({}) IN ({}) FOR UPDATE{}",
            column_list(table, &indexes),
            table.quoted_name(),
            key_columns.join(", "),
            vec![tuple.as_str(); chunk.len()].join(", "),
            match wait {
                LockWait::Wait => "",
                LockWait::NoWait => " NOWAIT",
            }
        );
        let parameters: Vec<mysql_async::Value> =
            chunk.iter().flatten().map(Typed::to_param).collect();
        let rows: Vec<mysql_async::Row> = transaction.exec(statement, parameters).await?;
        for row in rows {
            let values = decode_row(table, &indexes, row);
            let key: Vec<Typed> = table
                .key
                .iter()
                .map(|index| values.get(index).cloned().unwrap_or(Typed::Null))
                .collect();
            found.insert(key_text(&key), values);
        }
    }
    Ok(found)
}

/// The row's synced and key columns, locked until commit; `None` when there is no such row.
pub(super) async fn select_for_update(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    key: &[Typed],
) -> Result<Option<BTreeMap<usize, Typed>>, Failure> {
    let indexes = read_columns(table);
    let statement = format!(
        "SELECT {} FROM {} WHERE {} FOR UPDATE",
        column_list(table, &indexes),
        table.quoted_name(),
        table.key_condition()
    );
    let parameters: Vec<mysql_async::Value> = key.iter().map(Typed::to_param).collect();
    let found: Option<mysql_async::Row> = transaction.exec_first(statement, parameters).await?;
    Ok(found.map(|row| decode_row(table, &indexes, row)))
}

pub(super) async fn update(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    key: &[Typed],
    assignments: &[(usize, Typed)],
) -> Result<(), Failure> {
    let set = assignments
        .iter()
        .map(|(index, _)| format!("{} = ?", quote(&table.columns[*index].name)))
        .collect::<Vec<_>>()
        .join(", ");
    let statement = format!(
        "UPDATE {} SET {set} WHERE {}",
        table.quoted_name(),
        table.key_condition()
    );
    let parameters: Vec<mysql_async::Value> = assignments
        .iter()
        .map(|(_, value)| value.to_param())
        .chain(key.iter().map(Typed::to_param))
        .collect();
    transaction.exec_drop(statement, parameters).await?;
    Ok(())
}
