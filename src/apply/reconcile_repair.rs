//! The repair half of reconcile: drift → write-backs to the sheet and rows written to the
//! table, by the rules in [`super::reconcile`]'s documentation.

use std::collections::{BTreeMap, HashMap};

use super::cells::{database_cell, row_key};
use super::columns::TableInfo;
use super::edit::{apply_rows, EditContext};
use super::error::Failure;
use super::plan::plan_row;
use super::policy::{column_policy, resolve, Contest, Winner};
use super::recent::RecentInserts;
use super::reconcile::{Drift, RepairSummary, RepairTarget, SheetRow, TabDiff};
use super::session::{self, Bookkeeping};
use super::typed::Typed;
use crate::config::{ConflictPolicy, MappingConfig};
use crate::sync::{RowKey, WriteBack};
use crate::webhook::{ApplyResponse, CellValue, EditedRow};

pub(super) async fn repair(
    pool: &mysql_async::Pool,
    mapping: &MappingConfig,
    table: &TableInfo,
    sheet_rows: &[SheetRow],
    database_rows: &[BTreeMap<usize, Typed>],
    diff: &TabDiff,
    target: RepairTarget<'_>,
) -> Result<RepairSummary, Failure> {
    let mut summary = RepairSummary::default();
    let by_key: HashMap<RowKey, &BTreeMap<usize, Typed>> = database_rows
        .iter()
        .map(|values| {
            let key: Vec<Typed> = table
                .key
                .iter()
                .map(|index| values.get(index).cloned().unwrap_or(Typed::Null))
                .collect();
            (row_key(&key), values)
        })
        .collect();
    let by_number: HashMap<u32, &SheetRow> =
        sheet_rows.iter().map(|row| (row.number, row)).collect();
    let mut to_sheet: BTreeMap<RowKey, Vec<(std::sync::Arc<str>, crate::sheets::model::CellData)>> =
        BTreeMap::new();
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
                (
                    name.clone(),
                    row.cells.get(name).cloned().unwrap_or(CellValue::Empty),
                )
            })
            .collect(),
        values: BTreeMap::new(),
        old_values: None,
    };
    for drift in &diff.drift {
        match drift {
            Drift::MissingInSheet { key } => {
                let Some(values) = by_key.get(key) else {
                    continue;
                };
                let cells = table
                    .synced
                    .iter()
                    .map(|index| {
                        let value = values.get(index).unwrap_or(&Typed::Null);
                        (table.columns[*index].name.clone(), database_cell(value))
                    })
                    .collect();
                to_sheet.insert(key.clone(), cells);
            }
            Drift::MissingInDatabase { sheet_row, .. } => {
                let Some(row) = by_number.get(sheet_row) else {
                    continue;
                };
                if mapping.conflict != ConflictPolicy::SheetWins {
                    summary.left += 1;
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
                let (Some(values), Some(index)) = (by_key.get(key), table.column_index(column))
                else {
                    continue;
                };
                let database = values.get(&index).cloned().unwrap_or(Typed::Null);
                let winner = match column_policy(mapping, column) {
                    ConflictPolicy::SheetWins => Winner::Sheet,
                    ConflictPolicy::Max => {
                        match super::convert::convert_cell(sheet, &table.columns[index]) {
                            Ok(value) => resolve(&Contest {
                                policy: ConflictPolicy::Max,
                                sheet: &value,
                                database: &database,
                                edited_at_milliseconds: 0,
                                database_committed_at: Some(i64::MAX / 1000),
                            }),
                            Err(_) => Winner::Database,
                        }
                    }
                    ConflictPolicy::DbWins | ConflictPolicy::LastWriteWins => Winner::Database,
                };
                match winner {
                    Winner::Database => to_sheet
                        .entry(key.clone())
                        .or_default()
                        .push((table.columns[index].name.clone(), database_cell(&database))),
                    Winner::Sheet => {
                        let Some(row) = by_number.get(sheet_row) else {
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
        summary.database_rows = write_rows(
            pool,
            mapping,
            table,
            to_database.into_values().collect(),
            &target,
        )
        .await?;
    }
    for (key, cells) in to_sheet {
        summary.sheet_writes += 1;
        let write_back = WriteBack {
            mapping: mapping.name.clone(),
            key,
            cells,
        };
        if target.write_back.send(write_back).await.is_err() {
            return Err(Failure::Internal("the sheet writer is gone".into()));
        }
    }
    Ok(summary)
}

/// Sheet rows written to the table in one transaction, as an edit without old values would be.
async fn write_rows(
    pool: &mysql_async::Pool,
    mapping: &MappingConfig,
    table: &TableInfo,
    rows: Vec<EditedRow>,
    target: &RepairTarget<'_>,
) -> Result<usize, Failure> {
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
    let outcome = apply_rows(&mut transaction, &context, &plan).await?;
    let response = ApplyResponse {
        results: outcome.results.clone(),
    };
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
    Ok(outcome.marker.rows.len())
}
