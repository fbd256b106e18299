//! `sheetsync reconcile` (DESIGN §3.7): a whole tab against its table, and the repair of the
//! drift by the mapping's policy.
//!
//! Consumes a mapping, a pool and a Sheets client; [`reconcile`] produces the [`TabDiff`] (what a
//! dry run prints, see [`super::reconcile_report`]) and, unless a dry run, repairs it through
//! [`super::reconcile_repair`]. Cells are compared as the sheet shows them: the tab is read with
//! `UNFORMATTED_VALUE`, and the table's values go through the writer's own conversion
//! ([`super::cells::database_cell`]), both reduced to canonical key text (`crate::sync::RowKey`),
//! so a date is a serial number on both sides and a decimal compares by value.
//!
//! Reads are chunked ([`super::reconcile_read`]): the tab in row blocks, the table by key ranges
//! inside one consistent snapshot. Memory: the tab, one chunk of the table, and the rows that
//! drift.
//!
//! Columns the tab does not show are not compared (the writer adds them); rows without a key in
//! the tab are a person's work in progress and are left out.

use std::collections::{BTreeMap, HashMap};

use tokio::sync::mpsc;

use super::cells::{database_cell, request_key_text, row_key, SheetDisplay};
use super::clock::RowClock;
use super::columns::{self, TableInfo};
use super::error::Failure;
use super::reconcile_read::{read_tab, TableReader};
use super::session;
use super::typed::Typed;
use crate::config::MappingConfig;
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
        /// As the sheet would show the database's value (canonical key text).
        database: String,
        /// The database's value as MySQL prints it (`NULL` for NULL): readable dates.
        database_text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TabDiff {
    pub mapping: String,
    /// `database.table` and the tab's title, for the report.
    pub table: String,
    pub sheet: String,
    pub rows_in_sheet: usize,
    pub rows_in_database: usize,
    pub drift: Vec<Drift>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepairSummary {
    /// Write-backs sent to the writer (cells of a row, or a whole row to append).
    pub sheet_writes: usize,
    /// Sheet rows written to the table.
    pub database_rows: usize,
    /// Drift left as it is (reported only).
    pub left: usize,
    /// Drifting rows the stream changed while reconcile ran: left to the stream.
    pub changed_meanwhile: usize,
}

/// Where repairs go.
pub struct RepairTarget<'a> {
    /// The echo marker's origin (the running service's).
    pub origin: &'a str,
    /// The writer of the process holding the lease.
    pub write_back: &'a mpsc::Sender<WriteBack>,
    /// Commit times the stream saw per row: a drifting row committed after reconcile started
    /// reading is left alone (the stream already carries a newer value than the one read).
    pub row_clock: Option<&'a RowClock>,
}

/// A sheet row: its number and its cells by column name.
pub struct SheetRow {
    pub(super) number: u32,
    pub(super) cells: BTreeMap<String, CellValue>,
}

/// What [`compare`] keeps for the repair: the rows that drift, from both sides.
pub(super) struct Compared {
    pub(super) diff: TabDiff,
    pub(super) table: TableInfo,
    pub(super) sheet_rows: HashMap<u32, SheetRow>,
    pub(super) database_rows: HashMap<RowKey, BTreeMap<usize, Typed>>,
}

/// Reads both sides, lists the drift and, unless `dry_run`, repairs it.
pub async fn reconcile(
    pool: &mysql_async::Pool,
    sheets: &SheetsClient,
    mapping: &MappingConfig,
    display: &SheetDisplay,
    dry_run: bool,
    target: RepairTarget<'_>,
) -> Result<(TabDiff, RepairSummary), Failure> {
    let started_at = unix_seconds_now();
    let compared = compare(pool, sheets, mapping, display).await?;
    if dry_run {
        let left = compared.diff.drift.len();
        let summary = RepairSummary {
            left,
            ..RepairSummary::default()
        };
        return Ok((compared.diff, summary));
    }
    let summary =
        super::reconcile_repair::repair(pool, mapping, &compared, target, started_at).await?;
    Ok((compared.diff, summary))
}

/// Reads the tab and the table and lists every difference. Writes nothing.
pub async fn diff(
    pool: &mysql_async::Pool,
    sheets: &SheetsClient,
    mapping: &MappingConfig,
    display: &SheetDisplay,
) -> Result<TabDiff, Failure> {
    Ok(compare(pool, sheets, mapping, display).await?.diff)
}

pub(super) fn unix_seconds_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

async fn compare(
    pool: &mysql_async::Pool,
    sheets: &SheetsClient,
    mapping: &MappingConfig,
    display: &SheetDisplay,
) -> Result<Compared, Failure> {
    let mut connection = session::connect(pool).await?;
    let table = columns::load(&mut connection, mapping, display).await?;
    let sheet_rows = read_tab(sheets, mapping).await?;
    let mut reader = TableReader::begin(connection, &table).await?;
    let mut comparison = Comparison::new(mapping, table, sheet_rows);
    loop {
        let chunk = reader.next_chunk(&comparison.compared.table).await?;
        if chunk.is_empty() {
            break;
        }
        comparison.add(chunk);
    }
    reader.finish().await?;
    Ok(comparison.finish())
}

/// The comparison as the table's chunks arrive: the tab's rows by key are taken out as the
/// table's rows find them; what is left at the end is only in the tab. Pure.
pub(super) struct Comparison {
    compared: Compared,
    by_key: HashMap<RowKey, SheetRow>,
}

impl Comparison {
    pub(super) fn new(mapping: &MappingConfig, table: TableInfo, rows: Vec<SheetRow>) -> Self {
        let key_names: Vec<&str> = table
            .key
            .iter()
            .map(|index| table.columns[*index].name.as_ref())
            .collect();
        let mut by_key = HashMap::new();
        for row in rows {
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
                // A key twice in the tab: the first row is the one the writer updates.
                by_key.entry(key).or_insert(row);
            }
        }
        let diff = TabDiff {
            mapping: mapping.name.clone(),
            table: table.display_name(),
            sheet: mapping.sheet.clone(),
            rows_in_sheet: by_key.len(),
            ..TabDiff::default()
        };
        Self {
            compared: Compared {
                diff,
                table,
                sheet_rows: HashMap::new(),
                database_rows: HashMap::new(),
            },
            by_key,
        }
    }

    /// Table rows in key order (synced and key columns by column index).
    pub(super) fn add(&mut self, chunk: Vec<BTreeMap<usize, Typed>>) {
        self.compared.diff.rows_in_database += chunk.len();
        for values in chunk {
            self.compare_row(values);
        }
    }

    pub(super) fn finish(mut self) -> Compared {
        let mut only_in_sheet: Vec<(RowKey, SheetRow)> = self.by_key.into_iter().collect();
        only_in_sheet.sort_by_key(|(_, row)| row.number);
        for (key, row) in only_in_sheet {
            self.compared.diff.drift.push(Drift::MissingInDatabase {
                key,
                sheet_row: row.number,
            });
            self.compared.sheet_rows.insert(row.number, row);
        }
        self.compared
    }

    fn compare_row(&mut self, values: BTreeMap<usize, Typed>) {
        let compared = &mut self.compared;
        let table = &compared.table;
        let key_values: Vec<Typed> = table
            .key
            .iter()
            .map(|index| values.get(index).cloned().unwrap_or(Typed::Null))
            .collect();
        let key = row_key(table, &key_values);
        let Some(sheet_row) = self.by_key.remove(&key) else {
            compared
                .diff
                .drift
                .push(Drift::MissingInSheet { key: key.clone() });
            compared.database_rows.insert(key, values);
            return;
        };
        let mut drifted = false;
        for index in &table.synced {
            let name = table.columns[*index].name.as_ref();
            let Some(sheet) = sheet_row.cells.get(name) else {
                continue;
            };
            let value = values.get(index).unwrap_or(&Typed::Null);
            // A value the writer leaves out of the sheet (binary under `skip`) is not compared.
            let Some(cell) = database_cell(table, *index, value) else {
                continue;
            };
            let database = cell_key_text(&cell);
            if request_key_text(sheet) != database {
                drifted = true;
                compared.diff.drift.push(Drift::Cell {
                    key: key.clone(),
                    sheet_row: sheet_row.number,
                    column: name.to_string(),
                    sheet: sheet.clone(),
                    database,
                    database_text: value.marker_text().unwrap_or_else(|| "NULL".into()),
                });
            }
        }
        if drifted {
            compared.database_rows.insert(key, values);
            compared.sheet_rows.insert(sheet_row.number, sheet_row);
        }
    }
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
