//! INSERT of a row typed into the sheet: without a key (AUTO_INCREMENT gives it, and the
//! answer returns it so the script writes it into the key cells) or with the key typed.

use mysql_async::prelude::Queryable;
use mysql_async::Transaction;

use super::columns::quote;
use super::edit::{EditContext, RowWork};
use super::error::Failure;
use super::marker::Operation;
use super::plan::PlannedRow;
use super::statements::{key_response, marked_row};
use super::typed::Typed;
use crate::webhook::{CellError, RowStatus};

pub(super) async fn insert(
    transaction: &mut Transaction<'_>,
    context: &EditContext<'_>,
    row: &PlannedRow,
    given_key: Option<&[Typed]>,
    mut work: RowWork,
) -> Result<RowWork, Failure> {
    let table = context.table;
    let auto_increment = table.auto_increment_key();
    if given_key.is_none() && auto_increment.is_none() {
        let names: Vec<&str> = table
            .key
            .iter()
            .map(|index| table.columns[*index].name.as_ref())
            .collect();
        work.result.status = RowStatus::Rejected;
        work.result.errors.push(CellError {
            column: names
                .first()
                .map(|name| name.to_string())
                .unwrap_or_default(),
            message: format!(
                "a new row needs its key ({}) typed first: the table has no AUTO_INCREMENT key",
                names.join(", ")
            ),
        });
        return Ok(work);
    }
    if row.cells.is_empty() && given_key.is_none() {
        work.result.status = RowStatus::Rejected;
        return Ok(work);
    }
    let mut written: Vec<(usize, Typed)> = row
        .cells
        .iter()
        .map(|cell| (cell.column, cell.value.clone()))
        .collect();
    if let Some(key) = given_key {
        written.extend(table.key.iter().copied().zip(key.iter().cloned()));
    }
    let columns = written
        .iter()
        .map(|(index, _)| quote(&table.columns[*index].name))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = vec!["?"; written.len()].join(", ");
    let statement = format!(
        "INSERT INTO {} ({columns}) VALUES ({placeholders})",
        table.quoted_name()
    );
    let parameters: Vec<mysql_async::Value> =
        written.iter().map(|(_, value)| value.to_param()).collect();
    transaction.exec_drop(statement, parameters).await?;
    let key: Vec<Typed> = match given_key {
        Some(key) => key.to_vec(),
        None => {
            let last_insert_id = transaction.last_insert_id().unwrap_or(0);
            table
                .key
                .iter()
                .map(
                    |index| match written.iter().find(|(column, _)| column == index) {
                        Some((_, value)) => value.clone(),
                        None if Some(*index) == auto_increment => {
                            Typed::Integer(i128::from(last_insert_id))
                        }
                        None => Typed::Null,
                    },
                )
                .collect()
        }
    };
    let cells_only: Vec<(usize, Typed)> = written
        .into_iter()
        .filter(|(index, _)| !table.is_key(*index))
        .collect();
    work.marked = Some(marked_row(
        table,
        &key,
        Operation::Insert,
        &cells_only,
        Some(row.sheet_row),
    ));
    work.result.status = RowStatus::Inserted;
    work.result.key = Some(key_response(table, &key));
    if given_key.is_none() {
        work.inserted = Some(key);
    }
    Ok(work)
}
