//! Reconcile's reads: the whole tab and the whole table, chunk by chunk.
//!
//! Consumes a mapping, a Sheets client and a connection; produces the tab's rows (cells by
//! header name, sheet row numbers as people see them) and the table's rows in key order (synced
//! and key columns by column index). Guarantees: the tab is read in blocks of
//! [`SHEET_CHUNK_ROWS`] rows (one read each, bounded by the grid's row count); the table by key
//! ranges of [`TABLE_CHUNK_ROWS`] rows, every query inside one consistent snapshot (one
//! `REPEATABLE READ` transaction), each query short.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use tokio_util::sync::CancellationToken;

use super::cells::request_key_text;
use super::columns::{quote, TableInfo};
use super::error::Failure;
use super::reconcile::SheetRow;
use super::typed::Typed;
use crate::config::MappingConfig;
use crate::sheets::a1::cell_range;
use crate::sheets::responses::CellValue as SheetCell;
use crate::sheets::SheetsClient;
use crate::webhook::CellValue;

/// Rows per `values.get` of the tab (one read token each).
pub const SHEET_CHUNK_ROWS: u32 = 10_000;
/// Rows per query of the table.
pub const TABLE_CHUNK_ROWS: usize = 5_000;

/// The whole tab, chunk by chunk: row 1 is the header; cells by header name.
pub(super) async fn read_tab(
    sheets: &SheetsClient,
    mapping: &MappingConfig,
) -> Result<Vec<SheetRow>, Failure> {
    let cancel = CancellationToken::new();
    let failed = |error: crate::sheets::SheetsError| Failure::SheetRead(error.to_string());
    let spreadsheet = sheets
        .get_spreadsheet(&mapping.spreadsheet_id, Some("sheets.properties"), &cancel)
        .await
        .map_err(failed)?;
    let Some(grid) = spreadsheet
        .sheet_by_title(&mapping.sheet)
        .and_then(|properties| properties.grid_properties.clone())
    else {
        // No such tab yet: the writer creates it; every row is only in the table.
        return Ok(Vec::new());
    };
    let (row_count, column_count) = (
        grid.row_count.unwrap_or(0),
        grid.column_count.unwrap_or(0).max(1),
    );
    let mut rows = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut first = 0;
    while first < row_count {
        let last = (first + SHEET_CHUNK_ROWS).min(row_count) - 1;
        let range = cell_range(&mapping.sheet, (first, 0), (last, column_count - 1));
        let values = sheets
            .get_values(&mapping.spreadsheet_id, &range, &cancel)
            .await
            .map_err(failed)?;
        for (offset, cells) in values.values.into_iter().enumerate() {
            let grid_row = first + offset as u32;
            if grid_row == 0 {
                header = cells
                    .iter()
                    .map(|cell| request_key_text(&cell_value(cell)))
                    .collect();
                continue;
            }
            rows.push(SheetRow {
                number: grid_row + 1,
                cells: named_cells(&header, &cells),
            });
        }
        first = last + 1;
    }
    Ok(rows)
}

fn named_cells(header: &[String], cells: &[SheetCell]) -> BTreeMap<String, CellValue> {
    header
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
        .collect()
}

fn cell_value(cell: &SheetCell) -> CellValue {
    match cell {
        SheetCell::Bool(flag) => CellValue::Boolean(*flag),
        SheetCell::Number(number) => CellValue::Number(*number),
        SheetCell::Text(text) if text.is_empty() => CellValue::Empty,
        SheetCell::Text(text) => CellValue::Text(text.clone()),
    }
}

/// The table in key order, a key range at a time, inside one consistent snapshot.
pub(super) struct TableReader {
    connection: mysql_async::Conn,
    /// Synced and key columns (indexes into `TableInfo::columns`), in select-list order.
    indexes: Vec<usize>,
    last_key: Option<Vec<mysql_async::Value>>,
}

impl TableReader {
    pub(super) async fn begin(
        mut connection: mysql_async::Conn,
        table: &TableInfo,
    ) -> Result<Self, Failure> {
        let mut indexes = table.synced.clone();
        indexes.extend(
            table
                .key
                .iter()
                .filter(|index| !table.synced.contains(index)),
        );
        // The session's isolation level changes: the pool must not hand this connection to
        // an edit's transaction (READ COMMITTED) without resetting it.
        super::session::reset_after_use(&mut connection);
        connection
            .query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .await?;
        connection
            .query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await?;
        Ok(Self {
            connection,
            indexes,
            last_key: None,
        })
    }

    pub(super) async fn next_chunk(
        &mut self,
        table: &TableInfo,
    ) -> Result<Vec<BTreeMap<usize, Typed>>, Failure> {
        let list: Vec<String> = self
            .indexes
            .iter()
            .map(|index| quote(&table.columns[*index].name))
            .collect();
        let key_list = table
            .key
            .iter()
            .map(|index| quote(&table.columns[*index].name))
            .collect::<Vec<_>>()
            .join(", ");
        let (condition, params) = match &self.last_key {
            None => (String::new(), mysql_async::Params::Empty),
            Some(last) => (
                format!(
                    "WHERE ({key_list}) > ({}) ",
                    vec!["?"; last.len()].join(", ")
                ),
                mysql_async::Params::Positional(last.clone()),
            ),
        };
        let statement = format!(
            "SELECT {} FROM {} {condition}ORDER BY {key_list} LIMIT {TABLE_CHUNK_ROWS}",
            list.join(", "),
            table.quoted_name(),
        );
        let rows: Vec<mysql_async::Row> = self.connection.exec(statement, params).await?;
        let key_positions: Vec<usize> = table
            .key
            .iter()
            .filter_map(|key| self.indexes.iter().position(|index| index == key))
            .collect();
        let mut chunk = Vec::with_capacity(rows.len());
        for mut row in rows {
            let raw: Vec<mysql_async::Value> = (0..self.indexes.len())
                .map(|position| row.take(position).unwrap_or(mysql_async::Value::NULL))
                .collect();
            self.last_key = Some(
                key_positions
                    .iter()
                    .map(|position| raw[*position].clone())
                    .collect(),
            );
            chunk.push(
                self.indexes
                    .iter()
                    .zip(raw)
                    .map(|(index, value)| {
                        let typed = Typed::from_database(value, &table.columns[*index].kind);
                        (*index, typed)
                    })
                    .collect(),
            );
        }
        Ok(chunk)
    }

    pub(super) async fn finish(mut self) -> Result<(), Failure> {
        self.connection.query_drop("COMMIT").await?;
        Ok(())
    }
}
