//! `sheetsync reconcile` (DESIGN §3.7): a whole tab against its table, and the repair of the
//! drift by the mapping's policy.
//!
//! Consumes a mapping, a pool and a Sheets client; [`diff`] produces the [`TabDiff`] (what a
//! dry run prints) without writing anything; [`repair`] fixes it. Cells are compared as the
//! sheet shows them (canonical key text, see `crate::sync::RowKey`): the tab is read with
//! `UNFORMATTED_VALUE`, the table's values go through [`super::cells::database_cell`].
//!
//! Repair, per column policy: `db-wins` and `last-write-wins` (reconcile knows no edit times, and
//! the table is the system of record) send the database's value to the sheet as a
//! [`WriteBack`]; `sheet-wins` writes the sheet's value to the table (one transaction with the
//! echo marker, as an edit would); `max` keeps the larger number on both sides. A row only the
//! table has is sent to the sheet whole (the writer appends it); a row only the sheet has is
//! inserted into the table under `sheet-wins` and otherwise reported, not deleted.
//!
//! Limits: the tab and the table are each read whole (fine for the 10-million-cell tab limit,
//! not chunked yet); until the writer's cell conversion replaces `cells::database_cell`, date
//! and time columns compare as text and show as drift.

use std::collections::{BTreeMap, HashMap};

use mysql_async::prelude::Queryable;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::cells::{database_cell, request_key_text, row_key};
use super::columns::{self, quote, TableInfo};
use super::error::Failure;
use super::session;
use super::typed::Typed;
use crate::config::MappingConfig;
use crate::sheets::responses::CellValue as SheetCell;
use crate::sheets::SheetsClient;
use crate::sync::{cell_key_text, RowKey, WriteBack};
use crate::webhook::CellValue;

#[derive(Debug, Clone, PartialEq)]
pub enum Drift {
    /// The table has the row, the tab does not.
    MissingInSheet { key: RowKey },
    /// The tab has a row with this key, the table does not.
    MissingInDatabase { key: RowKey, sheet_row: u32 },
    /// One cell differs.
    Cell {
        key: RowKey,
        sheet_row: u32,
        column: String,
        sheet: CellValue,
        /// As the sheet would show the database's value.
        database: String,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TabDiff {
    pub mapping: String,
    pub rows_in_sheet: usize,
    pub rows_in_database: usize,
    pub drift: Vec<Drift>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepairSummary {
    /// Write-backs sent to the writer (cells or whole rows).
    pub sheet_writes: usize,
    /// Sheet rows written to the table.
    pub database_rows: usize,
    /// Drift left as it is (reported only).
    pub left: usize,
}

/// Where repairs go.
pub struct RepairTarget<'a> {
    /// The echo marker's origin (the running service's).
    pub origin: &'a str,
    pub write_back: &'a mpsc::Sender<WriteBack>,
}

/// Reads both sides, lists the drift and, unless `dry_run`, repairs it.
pub async fn reconcile(
    pool: &mysql_async::Pool,
    sheets: &SheetsClient,
    mapping: &MappingConfig,
    dry_run: bool,
    target: RepairTarget<'_>,
) -> Result<(TabDiff, RepairSummary), Failure> {
    let mut connection = session::connect(pool).await?;
    let table = columns::load(&mut connection, mapping).await?;
    let sheet_rows = read_tab(sheets, mapping).await?;
    let database_rows = read_table(&mut connection, &table).await?;
    drop(connection);
    let diff = compare(mapping, &table, &sheet_rows, &database_rows);
    if dry_run {
        let left = diff.drift.len();
        return Ok((
            diff,
            RepairSummary {
                left,
                ..RepairSummary::default()
            },
        ));
    }
    let summary = super::reconcile_repair::repair(
        pool,
        mapping,
        &table,
        &sheet_rows,
        &database_rows,
        &diff,
        target,
    )
    .await?;
    Ok((diff, summary))
}

/// A sheet row: its number and its cells by column name.
pub(super) struct SheetRow {
    pub(super) number: u32,
    pub(super) cells: BTreeMap<String, CellValue>,
}

/// Reads the tab and the table and lists every difference. Writes nothing.
pub async fn diff(
    pool: &mysql_async::Pool,
    sheets: &SheetsClient,
    mapping: &MappingConfig,
) -> Result<TabDiff, Failure> {
    let mut connection = session::connect(pool).await?;
    let table = columns::load(&mut connection, mapping).await?;
    let sheet_rows = read_tab(sheets, mapping).await?;
    let database_rows = read_table(&mut connection, &table).await?;
    Ok(compare(mapping, &table, &sheet_rows, &database_rows))
}

fn compare(
    mapping: &MappingConfig,
    table: &TableInfo,
    sheet_rows: &[SheetRow],
    database_rows: &[BTreeMap<usize, Typed>],
) -> TabDiff {
    let key_names: Vec<&str> = table
        .key
        .iter()
        .map(|index| table.columns[*index].name.as_ref())
        .collect();
    let mut by_key: HashMap<RowKey, &SheetRow> = HashMap::new();
    for row in sheet_rows {
        let key = RowKey(
            key_names
                .iter()
                .map(|name| {
                    row.cells
                        .get(*name)
                        .map(request_key_text)
                        .unwrap_or_default()
                })
                .collect(),
        );
        if !key.is_empty() {
            by_key.insert(key, row);
        }
    }
    let mut diff = TabDiff {
        mapping: mapping.name.clone(),
        rows_in_sheet: by_key.len(),
        rows_in_database: database_rows.len(),
        drift: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for values in database_rows {
        let key_values: Vec<Typed> = table
            .key
            .iter()
            .map(|index| values.get(index).cloned().unwrap_or(Typed::Null))
            .collect();
        let key = row_key(&key_values);
        let Some(sheet_row) = by_key.get(&key) else {
            diff.drift.push(Drift::MissingInSheet { key });
            continue;
        };
        seen.insert(key.clone());
        for index in &table.synced {
            let name = table.columns[*index].name.as_ref();
            // Columns the tab does not show are not compared (the writer adds them).
            let Some(sheet) = sheet_row.cells.get(name) else {
                continue;
            };
            let database = cell_key_text(&database_cell(values.get(index).unwrap_or(&Typed::Null)));
            if request_key_text(sheet) != database {
                diff.drift.push(Drift::Cell {
                    key: key.clone(),
                    sheet_row: sheet_row.number,
                    column: name.to_string(),
                    sheet: sheet.clone(),
                    database,
                });
            }
        }
    }
    let mut only_in_sheet: Vec<(&RowKey, &&SheetRow)> = by_key
        .iter()
        .filter(|(key, _)| !seen.contains(*key))
        .collect();
    only_in_sheet.sort_by_key(|(_, row)| row.number);
    for (key, row) in only_in_sheet {
        diff.drift.push(Drift::MissingInDatabase {
            key: key.clone(),
            sheet_row: row.number,
        });
    }
    diff
}

/// The whole tab: row 1 is the header; cells by header name.
async fn read_tab(
    sheets: &SheetsClient,
    mapping: &MappingConfig,
) -> Result<Vec<SheetRow>, Failure> {
    let range = crate::sheets::a1::sheet_range(&mapping.sheet);
    let values = sheets
        .get_values(&mapping.spreadsheet_id, &range, &CancellationToken::new())
        .await
        .map_err(|error| Failure::SheetRead(error.to_string()))?;
    let mut rows = values.values.into_iter();
    let header: Vec<String> = rows
        .next()
        .map(|row| {
            row.iter()
                .map(|cell| request_key_text(&cell_value(cell)))
                .collect()
        })
        .unwrap_or_default();
    Ok(rows
        .enumerate()
        .map(|(index, cells)| SheetRow {
            number: index as u32 + 2,
            cells: header
                .iter()
                .enumerate()
                .filter(|(_, name)| !name.is_empty())
                .map(|(position, name)| {
                    let cell = cells
                        .get(position)
                        .map(cell_value)
                        .unwrap_or(CellValue::Empty);
                    (name.clone(), cell)
                })
                .collect(),
        })
        .collect())
}

fn cell_value(cell: &SheetCell) -> CellValue {
    match cell {
        SheetCell::Bool(flag) => CellValue::Boolean(*flag),
        SheetCell::Number(number) => CellValue::Number(*number),
        SheetCell::Text(text) if text.is_empty() => CellValue::Empty,
        SheetCell::Text(text) => CellValue::Text(text.clone()),
    }
}

/// Every row of the table: synced and key columns by column index.
async fn read_table(
    connection: &mut mysql_async::Conn,
    table: &TableInfo,
) -> Result<Vec<BTreeMap<usize, Typed>>, Failure> {
    let mut indexes = table.synced.clone();
    indexes.extend(
        table
            .key
            .iter()
            .filter(|index| !table.synced.contains(index)),
    );
    let list: Vec<String> = indexes
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect();
    let order: Vec<String> = table
        .key
        .iter()
        .map(|index| quote(&table.columns[*index].name))
        .collect();
    let statement = format!(
        "SELECT {} FROM {} ORDER BY {}",
        list.join(", "),
        table.quoted_name(),
        order.join(", ")
    );
    let rows: Vec<mysql_async::Row> = connection.exec(statement, ()).await?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
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
        })
        .collect())
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
