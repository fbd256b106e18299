//! Structure reports (the script's `onChange`: rows inserted, removed, sorted): the writer's
//! row index goes stale, and removed rows become DELETEs when the mapping allows deletes.
//!
//! Consumes a validated structure report; produces `{"results":[]}`. Rules for deleting, all
//! of which must hold for a table row to be deleted:
//! 1. the mapping has `deletes = true` and the report is `REMOVE_ROW`;
//! 2. the tab's key column was read (from the Sheets API when a client is configured, always
//!    also from the report's own snapshot) and neither came back empty: an empty, failed or
//!    unreadable read never deletes anything (a failed Sheets read answers 503 so the script
//!    retries);
//! 3. the key was seen in this tab before (read from the tab from the webhook's start until it
//!    holds the initial load, `seed.rs`; in an earlier snapshot, an edit, an insert by
//!    sheetsync, or a flush of the writer that put its row in the tab) and is now in neither the read nor the snapshot — a row merely absent from the
//!    sheet (not appended yet by the writer, inserted by another program) is never deleted;
//! 4. it is not a row sheetsync inserted in the last minutes (its key may not be written yet).
//!
//! The DELETEs, the echo marker and the delivery answer commit in one transaction.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use tokio_util::sync::CancellationToken;

use super::cells::{request_key_text, row_key};
use super::columns::TableInfo;
use super::convert::convert_old_value;
use super::error::{Failure, FailureClass};
use super::marker::{Marker, Operation};
use super::session::{self, Bookkeeping};
use super::statements::marked_row;
use super::typed::Typed;
use super::Inner;
use crate::config::MappingConfig;
use crate::sheets::a1::{column_letters, quote_sheet_title};
use crate::sheets::responses::CellValue as SheetCell;
use crate::sync::{json_key_text, RowKey};
use crate::webhook::apply::ValidatedStructure;
use crate::webhook::{ApplyError, ApplyResponse};

pub(super) async fn apply_structure(
    inner: &Inner,
    report: ValidatedStructure,
) -> Result<ApplyResponse, ApplyError> {
    let mapping = &report.mapping;
    let message = &report.message;
    inner.options.structure.mark_stale(&mapping.name);
    let written = inner.options.structure.take_written(&mapping.name);
    inner.known.absorb_written(&mapping.name, written);
    let table = inner
        .table(mapping, false)
        .await
        .map_err(Failure::into_apply_error)?;
    // Keys of rows inserted for the sheet lately: their key cells may still be empty, so they
    // must not count as removed (taken before row positions are forgotten below).
    let recent: HashSet<RowKey> = inner
        .recent
        .keys(&mapping.name)
        .iter()
        .map(|key| row_key(&table, key))
        .collect();
    let rows_moved = matches!(
        message.change_type.as_str(),
        "INSERT_ROW" | "REMOVE_ROW" | "OTHER" | "INSERT_GRID" | "REMOVE_GRID"
    );
    if rows_moved {
        inner.recent.forget_mapping(&mapping.name);
    }
    let snapshot = snapshot_keys(&table, &message.key_columns, &message.keys);
    let removing = mapping.deletes && message.change_type == "REMOVE_ROW";
    if !removing {
        if mapping.deletes {
            inner.known.add(&mapping.name, snapshot);
        }
        return Ok(ApplyResponse::default());
    }
    let read = match &inner.options.sheets {
        None => None,
        Some(sheets) => Some(
            read_keys(sheets, mapping, &table)
                .await
                .map_err(Failure::into_apply_error)?,
        ),
    };
    let read_is_empty = read.as_ref().is_some_and(|keys| keys.is_empty());
    if snapshot.is_empty() || read_is_empty {
        tracing::warn!(mapping = %mapping.name, "rows were removed but the key column read back empty; nothing deleted");
        return Ok(ApplyResponse::default());
    }
    let mut present: HashSet<RowKey> = snapshot.into_iter().collect();
    present.extend(read.into_iter().flatten());
    let candidates: Vec<RowKey> = inner
        .known
        .missing_from(&mapping.name, &present)
        .into_iter()
        .filter(|key| !recent.contains(key))
        .collect();
    let response = delete_rows(inner, &report, &table, &candidates).await?;
    inner.known.remove(&mapping.name, &candidates);
    inner.known.add(&mapping.name, present);
    Ok(response)
}

/// The report's snapshot as keys in table key order; rows without a key are left out.
fn snapshot_keys(
    table: &TableInfo,
    key_columns: &[String],
    keys: &[Vec<crate::webhook::CellValue>],
) -> Vec<RowKey> {
    let positions: Option<Vec<usize>> = table
        .key
        .iter()
        .map(|index| {
            key_columns
                .iter()
                .position(|name| *name == *table.columns[*index].name)
        })
        .collect();
    let Some(positions) = positions else {
        return Vec::new();
    };
    keys.iter()
        .map(|row| {
            RowKey(
                positions
                    .iter()
                    .map(|position| row.get(*position).map(request_key_text).unwrap_or_default())
                    .collect(),
            )
        })
        .filter(|key| !key.is_empty())
        .collect()
}

/// The tab's keys, read from the Sheets API: the header row, then the key columns.
pub(super) async fn read_keys(
    sheets: &crate::sheets::SheetsClient,
    mapping: &MappingConfig,
    table: &TableInfo,
) -> Result<Vec<RowKey>, Failure> {
    let cancel = CancellationToken::new();
    let failed = |error: crate::sheets::SheetsError| Failure::SheetRead(error.to_string());
    let title = quote_sheet_title(&mapping.sheet);
    let header = sheets
        .get_values(&mapping.spreadsheet_id, &format!("{title}!1:1"), &cancel)
        .await
        .map_err(failed)?;
    let header: Vec<String> = header
        .values
        .first()
        .map(|row| row.iter().map(sheet_key_text).collect())
        .unwrap_or_default();
    let mut ranges = Vec::new();
    for index in &table.key {
        let name = &table.columns[*index].name;
        let Some(position) = header.iter().position(|cell| cell == name.as_ref()) else {
            return Err(Failure::SheetRead(format!(
                "key column {name} is not in the header of {}",
                mapping.sheet
            )));
        };
        let letters = column_letters(position as u32);
        ranges.push(format!("{title}!{letters}2:{letters}"));
    }
    let columns = sheets
        .batch_get_values(&mapping.spreadsheet_id, &ranges, &cancel)
        .await
        .map_err(failed)?;
    let rows = columns
        .iter()
        .map(|column| column.values.len())
        .max()
        .unwrap_or(0);
    Ok((0..rows)
        .map(|row| {
            RowKey(
                columns
                    .iter()
                    .map(|column| {
                        column
                            .values
                            .get(row)
                            .and_then(|cells| cells.first())
                            .map(sheet_key_text)
                            .unwrap_or_default()
                    })
                    .collect(),
            )
        })
        .filter(|key| !key.is_empty())
        .collect())
}

fn sheet_key_text(cell: &SheetCell) -> String {
    let json = match cell {
        SheetCell::Bool(flag) => serde_json::Value::Bool(*flag),
        SheetCell::Number(number) => serde_json::Number::from_f64(*number)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        SheetCell::Text(text) => serde_json::Value::String(text.clone()),
    };
    json_key_text(&json)
}

async fn delete_rows(
    inner: &Inner,
    report: &ValidatedStructure,
    table: &TableInfo,
    candidates: &[RowKey],
) -> Result<ApplyResponse, ApplyError> {
    let keys: Vec<Vec<Typed>> = candidates
        .iter()
        .filter_map(|key| {
            table
                .key
                .iter()
                .zip(&key.0)
                .map(|(index, text)| {
                    convert_old_value(text, &table.columns[*index], &table.display.time_zone).ok()
                })
                .collect::<Option<Vec<_>>>()
        })
        .collect();
    let mut failures = 0;
    loop {
        match delete_attempt(inner, report, table, &keys).await {
            Ok(response) => return Ok(response),
            Err(failure) if failure.class() == FailureClass::Transient => {
                failures += 1;
                match super::error::retry_delay(failures) {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => return Err(failure.into_apply_error()),
                }
            }
            Err(failure) => return Err(failure.into_apply_error()),
        }
    }
}

async fn delete_attempt(
    inner: &Inner,
    report: &ValidatedStructure,
    table: &TableInfo,
    keys: &[Vec<Typed>],
) -> Result<ApplyResponse, Failure> {
    let envelope = &report.message.envelope;
    let mut connection = session::connect(&inner.pool).await?;
    let mut transaction = session::begin(&mut connection).await?;
    if let Some(stored) = session::stored_response(&mut transaction, &envelope.delivery_id).await? {
        transaction.rollback().await?;
        return Ok(stored);
    }
    let statement = format!(
        "DELETE FROM {} WHERE {}",
        table.quoted_name(),
        table.key_condition()
    );
    let mut marker = Marker::new();
    for key in keys {
        let parameters: Vec<mysql_async::Value> = key.iter().map(Typed::to_param).collect();
        transaction
            .exec_drop(statement.as_str(), parameters)
            .await?;
        if transaction.affected_rows() > 0 {
            marker
                .rows
                .push(marked_row(table, key, Operation::Delete, &[], None));
        }
    }
    let response = ApplyResponse::default();
    let table_name = table.display_name();
    let finished = session::finish(
        &mut transaction,
        &Bookkeeping {
            origin: &inner.options.origin,
            delivery_id: &envelope.delivery_id,
            mapping: &report.mapping.name,
            table: &table_name,
            editor: envelope.user.as_deref(),
            edited_at_milliseconds: super::plan::iso_milliseconds(&report.message.changed_at),
            conflicts: &[],
            marker: &marker,
            response: &response,
        },
    )
    .await?;
    if finished == session::Finished::AlreadyAnswered {
        // A twin delivery committed meanwhile: its deletes stand, this one's are dropped.
        transaction.rollback().await?;
        return Ok(
            session::stored_response(&mut connection, &envelope.delivery_id)
                .await?
                .unwrap_or_default(),
        );
    }
    transaction.commit().await?;
    if !marker.is_empty() {
        tracing::info!(mapping = %report.mapping.name, rows = marker.rows.len(), "deleted rows removed from the sheet");
    }
    Ok(response)
}
