//! The repair half of reconcile: drift → write-backs to the sheet and rows written to the
//! table.
//!
//! Consumes what [`super::reconcile`] compared; produces a [`RepairSummary`]. Rules, per column
//! policy: `db-wins` and `last-write-wins` (reconcile knows no edit times, and the table is the
//! system of record) send the database's value to the sheet; `sheet-wins` writes the sheet's
//! value to the table (one transaction with the echo marker, as an edit would, so the binlog
//! reader does not send it back); `max` keeps the larger number on both sides. A row only the
//! table has is sent to the sheet whole (the writer appends it); a row only the sheet has is
//! inserted into the table under `sheet-wins` and otherwise reported, never deleted.
//!
//! Guarantees: sheet writes go through the writer of the process holding the lease
//! ([`WriteBack`], `whole_row` for appends), so they share its quota, batching and row placement
//! and never race it; a row the stream changed after reconcile started reading is left to the
//! stream (its value in hand may already be old), so reconcile never writes a stale value over
//! a newer one it knows of.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cells::database_cell;
use super::edit::{apply_rows, EditContext};
use super::error::Failure;
use super::plan::plan_row;
use super::policy::{column_policy, resolve, Contest, Winner};
use super::recent::RecentInserts;
use super::reconcile::{Compared, Drift, RepairSummary, RepairTarget, SheetRow};
use super::session::{self, Bookkeeping};
use super::typed::Typed;
use crate::config::{ConflictPolicy, MappingConfig};
use crate::sheets::model::CellData;
use crate::sync::{RowKey, WriteBack};
use crate::webhook::{CellValue, EditedRow};

/// A row the stream changed this shortly before reconcile started reading, or since, is left to
/// the stream: its change may still wait in the writer (a delete not yet flushed would
/// otherwise look like a row only the tab has). Commit times are whole seconds.
const CLOCK_SLACK_SECONDS: i64 = 30;

type Cells = Vec<(Arc<str>, CellData)>;

pub(super) async fn repair(
    pool: &mysql_async::Pool,
    mapping: &MappingConfig,
    compared: &Compared,
    target: RepairTarget<'_>,
    started_at: i64,
) -> Result<RepairSummary, Failure> {
    let table = &compared.table;
    let mut summary = RepairSummary::default();
    // (cells, whole row) per key.
    let mut to_sheet: BTreeMap<RowKey, (Cells, bool)> = BTreeMap::new();
    let mut to_database: BTreeMap<u32, EditedRow> = BTreeMap::new();
    let key_names: Vec<String> = table
        .key
        .iter()
        .map(|index| table.columns[*index].name.to_string())
        .collect();
    let edited_row = |row: &SheetRow| EditedRow {
        row: row.number,
        key: key_names
            .iter()
            .map(|name| {
                let cell = row.cells.get(name).cloned().unwrap_or(CellValue::Empty);
                (name.clone(), cell)
            })
            .collect(),
        values: Default::default(),
        old_values: None,
    };
    let changed_meanwhile = |key: &RowKey| {
        target
            .row_clock
            .and_then(|clock| clock.last_change(&mapping.name, key))
            .is_some_and(|committed| committed >= started_at - CLOCK_SLACK_SECONDS)
    };
    for drift in &compared.diff.drift {
        match drift {
            Drift::MissingInSheet { key } => {
                let Some(values) = compared.database_rows.get(key) else {
                    continue;
                };
                if changed_meanwhile(key) {
                    summary.changed_meanwhile += 1;
                    continue;
                }
                let cells = table
                    .synced
                    .iter()
                    .filter_map(|index| {
                        let value = values.get(index).unwrap_or(&Typed::Null);
                        let cell = database_cell(table, *index, value)?;
                        Some((table.columns[*index].name.clone(), cell))
                    })
                    .collect();
                to_sheet.insert(key.clone(), (cells, true));
            }
            Drift::MissingInDatabase { key, sheet_row } => {
                let Some(row) = compared.sheet_rows.get(sheet_row) else {
                    continue;
                };
                if mapping.conflict != ConflictPolicy::SheetWins {
                    summary.left += 1;
                    continue;
                }
                if changed_meanwhile(key) {
                    summary.changed_meanwhile += 1;
                    continue;
                }
                let mut edited = edited_row(row);
                edited.values = row
                    .cells
                    .iter()
                    .filter(|(name, cell)| !key_names.contains(name) && !cell.is_empty())
                    .map(|(name, cell)| (name.clone(), cell.clone()))
                    .collect();
                if edited.values.is_empty() {
                    edited.values = edited.key.clone();
                }
                to_database.insert(row.number, edited);
            }
            Drift::Cell {
                key,
                sheet_row,
                column,
                sheet,
                ..
            } => {
                let (Some(values), Some(index)) =
                    (compared.database_rows.get(key), table.column_index(column))
                else {
                    continue;
                };
                let database = values.get(&index).cloned().unwrap_or(Typed::Null);
                match cell_winner(mapping, table, index, sheet, &database) {
                    Winner::Database => {
                        if changed_meanwhile(key) {
                            summary.changed_meanwhile += 1;
                            continue;
                        }
                        let Some(cell) = database_cell(table, index, &database) else {
                            continue;
                        };
                        let entry = to_sheet.entry(key.clone()).or_default();
                        entry.0.push((table.columns[index].name.clone(), cell));
                    }
                    Winner::Sheet => {
                        let Some(row) = compared.sheet_rows.get(sheet_row) else {
                            continue;
                        };
                        to_database
                            .entry(row.number)
                            .or_insert_with(|| edited_row(row))
                            .values
                            .insert(column.clone(), sheet.clone());
                    }
                }
            }
        }
    }
    if !to_database.is_empty() {
        let rows = to_database.into_values().collect();
        summary.database_rows = write_rows(pool, mapping, compared, rows, &target).await?;
    }
    for (key, (cells, whole_row)) in to_sheet {
        summary.sheet_writes += 1;
        let write_back = WriteBack {
            mapping: mapping.name.clone(),
            key,
            cells,
            whole_row,
        };
        if target.write_back.send(write_back).await.is_err() {
            return Err(Failure::Internal("the sheet writer is gone".into()));
        }
    }
    Ok(summary)
}

fn cell_winner(
    mapping: &MappingConfig,
    table: &super::columns::TableInfo,
    index: usize,
    sheet: &CellValue,
    database: &Typed,
) -> Winner {
    let column = &table.columns[index];
    match column_policy(mapping, &column.name) {
        ConflictPolicy::SheetWins => Winner::Sheet,
        ConflictPolicy::Max => {
            let converted = super::convert::convert_cell(sheet, column, &table.display.time_zone);
            match converted {
                Ok(value) => resolve(&Contest {
                    policy: ConflictPolicy::Max,
                    sheet: &value,
                    database,
                    edited_at_milliseconds: 0,
                    database_committed_at: Some(i64::MAX / 1000),
                }),
                Err(_) => Winner::Database,
            }
        }
        ConflictPolicy::DbWins | ConflictPolicy::LastWriteWins => Winner::Database,
    }
}

/// Sheet rows written to the table in one transaction, as an edit without old values would be.
async fn write_rows(
    pool: &mysql_async::Pool,
    mapping: &MappingConfig,
    compared: &Compared,
    rows: Vec<EditedRow>,
    target: &RepairTarget<'_>,
) -> Result<usize, Failure> {
    let table = &compared.table;
    let plan: Vec<_> = rows.iter().map(|row| plan_row(row, table)).collect();
    let clock = super::clock::RowClock::new(1);
    let recent = RecentInserts::new(std::time::Duration::ZERO, 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0);
    let mut connection = session::connect(pool).await?;
    let mut transaction = session::begin(&mut connection).await?;
    let context = EditContext {
        mapping,
        table,
        edited_at_milliseconds: now,
        clock: &clock,
        recent: &recent,
    };
    let mut outcome = apply_rows(&mut transaction, &context, &plan).await?;
    let response = outcome.take_response();
    let delivery_id = format!("reconcile-{now}-{}", fastrand::u64(..));
    let table_name = table.display_name();
    let finished = session::finish(
        &mut transaction,
        &Bookkeeping {
            origin: target.origin,
            delivery_id: &delivery_id,
            mapping: &mapping.name,
            table: &table_name,
            editor: None,
            edited_at_milliseconds: now,
            conflicts: &[],
            marker: &outcome.marker,
            response: &response,
        },
    )
    .await?;
    if finished == session::Finished::AlreadyAnswered {
        transaction.rollback().await?;
        return Err(Failure::Internal(format!(
            "delivery id {delivery_id} already used"
        )));
    }
    transaction.commit().await?;
    // Cells the table refused go back to the database's value, with the reason as a note.
    for write_back in outcome.write_backs {
        if target.write_back.send(write_back).await.is_err() {
            return Err(Failure::Internal("the sheet writer is gone".into()));
        }
    }
    Ok(outcome.marker.rows.len())
}
