//! The SQL of one edited row: the locking read, the UPDATE, and what the marker and the answer
//! say about a row. Identifiers only from [`TableInfo`] through [`quote`]; values only as
//! parameters.

use std::collections::BTreeMap;

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
                response_value(value),
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

/// The row's synced and key columns, locked until commit; `None` when there is no such row.
pub(super) async fn select_for_update(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    key: &[Typed],
) -> Result<Option<BTreeMap<usize, Typed>>, Failure> {
    let mut indexes: Vec<usize> = table.synced.clone();
    for index in &table.key {
        if !indexes.contains(index) {
            indexes.push(*index);
        }
    }
    let list = indexes
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect::<Vec<_>>()
        .join(", ");
    let statement = format!(
        "SELECT {list} FROM {} WHERE {} FOR UPDATE",
        table.quoted_name(),
        table.key_condition()
    );
    let parameters: Vec<mysql_async::Value> = key.iter().map(Typed::to_param).collect();
    let found: Option<mysql_async::Row> = transaction.exec_first(statement, parameters).await?;
    Ok(found.map(|mut found| {
        indexes
            .iter()
            .enumerate()
            .map(|(position, index)| {
                let value = found.take(position).unwrap_or(mysql_async::Value::NULL);
                (
                    *index,
                    Typed::from_database(value, &table.columns[*index].kind),
                )
            })
            .collect()
    }))
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
