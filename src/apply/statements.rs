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

/// Statements of many rows are padded to a power of two up to this many rows.
const MOST_PADDED: usize = 256;

/// `(`a`, `b`) IN ((?, ?), …)` for `count` keys of `table`.
fn keys_in(table: &TableInfo, count: usize) -> String {
    let key_columns: Vec<String> = table
        .key
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect();
    let tuple = format!("({})", vec!["?"; table.key.len()].join(", "));
    format!(
        "({}) IN ({})",
        key_columns.join(", "),
        vec![tuple.as_str(); count].join(", ")
    )
}

/// `items` with the last repeated up to the next power of two (up to [`MOST_PADDED`]; more
/// are left as they are): a statement's text depends on its number of rows, and a few sizes
/// keep it prepared. A repeated key changes nothing: the `IN` list ignores it, and a
/// `CASE` never reaches its second `WHEN`.
pub(super) fn padded<T: Clone>(mut items: Vec<T>) -> Vec<T> {
    let wanted = items.len().next_power_of_two();
    if wanted <= MOST_PADDED {
        if let Some(last) = items.last().cloned() {
            items.resize(wanted, last);
        }
    }
    items
}

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
    let mut found = HashMap::new();
    for chunk in keys.chunks(KEYS_PER_READ) {
        let statement = format!(
            "SELECT {} FROM {} WHERE {} FOR UPDATE{}",
            column_list(table, &indexes),
            table.quoted_name(),
            keys_in(table, chunk.len()),
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

/// A row's UPDATE: its key as the database stores it, and (column index, value) assignments.
#[derive(Debug, Clone)]
pub(super) struct RowUpdate {
    pub(super) key: Vec<Typed>,
    pub(super) assignments: Vec<(usize, Typed)>,
}

pub(super) async fn update(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    row: &RowUpdate,
) -> Result<(), Failure> {
    let RowUpdate { key, assignments } = row;
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

/// The UPDATEs of many rows that assign the same `columns`, as one statement:
/// `UPDATE t SET c = CASE WHEN key = ? THEN ? … ELSE c END, … WHERE key IN (…)`. Each value is
/// bound as [`update`] binds it; a row no `WHEN` matches keeps its value. The rows are
/// [`padded`].
pub(super) async fn update_many(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    columns: &[usize],
    rows: &[&RowUpdate],
) -> Result<(), Failure> {
    if rows.is_empty() {
        return Ok(());
    }
    let (statement, parameters) = update_many_statement(table, columns, &padded(rows.to_vec()))?;
    transaction.exec_drop(statement, parameters).await?;
    Ok(())
}

/// The text and parameters of [`update_many`] for exactly `rows`.
fn update_many_statement(
    table: &TableInfo,
    columns: &[usize],
    rows: &[&RowUpdate],
) -> Result<(String, Vec<mysql_async::Value>), Failure> {
    let condition = table.key_condition();
    let mut parameters: Vec<mysql_async::Value> = Vec::new();
    let mut set = Vec::with_capacity(columns.len());
    for column in columns {
        let name = quote(&table.columns[*column].name);
        let mut case = String::from("CASE");
        for row in rows {
            let value = row
                .assignments
                .iter()
                .find(|(index, _)| index == column)
                .map(|(_, value)| value)
                .ok_or_else(|| Failure::Internal(format!("a held UPDATE lacks column {name}")))?;
            case.push_str(" WHEN ");
            case.push_str(&condition);
            case.push_str(" THEN ?");
            parameters.extend(row.key.iter().map(Typed::to_param));
            parameters.push(value.to_param());
        }
        set.push(format!("{name} = {case} ELSE {name} END"));
    }
    for row in rows {
        parameters.extend(row.key.iter().map(Typed::to_param));
    }
    let statement = format!(
        "UPDATE {} SET {} WHERE {}",
        table.quoted_name(),
        set.join(", "),
        keys_in(table, rows.len()),
    );
    Ok((statement, parameters))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apply::columns::{ColumnInfo, ColumnKind};

    /// `shop.lines`: key (`order`, `line`), then `qty` and `note`.
    fn lines() -> TableInfo {
        let column = |name: &str| ColumnInfo {
            name: Arc::from(name),
            kind: ColumnKind::Integer {
                unsigned: false,
                bits: 32,
                boolean: false,
            },
            nullable: true,
            column_type: "int(11)".into(),
            auto_increment: false,
        };
        TableInfo {
            database: "shop".into(),
            table: "lines".into(),
            columns: vec![
                column("order"),
                column("line"),
                column("qty"),
                column("note"),
            ],
            key: vec![0, 1],
            synced: vec![0, 1, 2, 3],
            display: Default::default(),
        }
    }

    fn row(order: i128, line: i128, qty: i128, note: Typed) -> RowUpdate {
        RowUpdate {
            key: vec![Typed::Integer(order), Typed::Integer(line)],
            assignments: vec![(3, note), (2, Typed::Integer(qty))],
        }
    }

    #[test]
    fn each_row_gets_its_own_values_by_its_whole_key() {
        let first = row(1, 1, 10, Typed::Text("a".into()));
        let second = row(1, 2, 20, Typed::Null);
        let (statement, parameters) =
            update_many_statement(&lines(), &[2, 3], &[&first, &second]).expect("statement");
        assert_eq!(
            statement,
            "UPDATE `shop`.`lines` SET \
             `qty` = CASE WHEN `order` = ? AND `line` = ? THEN ? \
             WHEN `order` = ? AND `line` = ? THEN ? ELSE `qty` END, \
             `note` = CASE WHEN `order` = ? AND `line` = ? THEN ? \
             WHEN `order` = ? AND `line` = ? THEN ? ELSE `note` END \
             WHERE (`order`, `line`) IN ((?, ?), (?, ?))"
        );
        use mysql_async::Value::{Bytes, Int, NULL};
        assert_eq!(
            parameters,
            [
                Int(1),
                Int(1),
                Int(10),
                Int(1),
                Int(2),
                Int(20),
                Int(1),
                Int(1),
                Bytes(b"a".to_vec()),
                Int(1),
                Int(2),
                NULL,
                Int(1),
                Int(1),
                Int(1),
                Int(2),
            ]
        );
    }

    #[test]
    fn a_row_without_a_value_for_a_column_is_an_internal_error() {
        let first = row(1, 1, 10, Typed::Null);
        let partial = RowUpdate {
            key: vec![Typed::Integer(1), Typed::Integer(2)],
            assignments: vec![(2, Typed::Integer(5))],
        };
        let error = update_many_statement(&lines(), &[2, 3], &[&first, &partial])
            .expect_err("the second row has no note");
        assert!(
            matches!(&error, Failure::Internal(message) if message.contains("`note`")),
            "{error}"
        );
    }
}
