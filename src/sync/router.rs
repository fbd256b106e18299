//! Router: whole binlog transactions → per-spreadsheet writer messages.
//!
//! Consumes a [`Transaction`] (already echo-filtered); produces, for every spreadsheet writer,
//! one [`WriterMessage::Transaction`] holding the changes of its tabs as typed cells keyed by
//! [`RowKey`], plus the transaction's GTID and position (every writer gets every position, so a
//! spreadsheet whose tables are quiet still moves its checkpoint). Guarantees: an UPDATE that
//! changes no synced column produces nothing; a primary-key change becomes a delete of the old
//! key and a whole-row upsert of the new one; a change to a table without a mapping is dropped
//! here; DDL on a mapped table becomes a [`SchemaChange`] for its writer.

use std::collections::HashMap;
use std::sync::Arc;

use super::coalesce::{update_memory_bytes, RowUpdate, TabIndex};
use super::ddl::{self, SchemaChange};
use super::{cell_key_text, RowKey};
use crate::binlog::{ChangeKind, Row, RowChange, TableName, Transaction};
use crate::cell::{to_cell, CellOptions};
use crate::position::{BinlogPosition, Gtid};
use crate::sheets::model::CellData;

/// Where one mapping's changes go.
#[derive(Debug, Clone)]
pub struct Route {
    pub mapping: String,
    pub table: TableName,
    /// Index of the spreadsheet writer, and of the tab within it.
    pub writer: usize,
    pub tab: TabIndex,
    /// The synced columns, or None for every column of the row image.
    pub columns: Option<Vec<Arc<str>>>,
    /// The table's key columns as read at start (used when an event carries no key metadata).
    pub key_columns: Vec<Arc<str>>,
    pub deletes: bool,
}

/// One row change for one tab.
#[derive(Debug, Clone)]
pub struct TabChange {
    pub tab: TabIndex,
    pub key: RowKey,
    pub update: RowUpdate,
}

/// What a writer receives.
#[derive(Debug)]
pub enum WriterMessage {
    /// The part of one committed transaction that concerns this writer (possibly no changes:
    /// then only the position moves).
    Transaction {
        gtid: Option<Gtid>,
        position: BinlogPosition,
        commit_unix_seconds: u32,
        changes: Vec<TabChange>,
        schema_changes: Vec<(TabIndex, SchemaChange)>,
        /// Cells a person typed that sheetsync applied (echo): written only where an earlier
        /// change of the row may overtake them (`writer/overtaken.rs`). Always `Cells`.
        echoes: Vec<TabChange>,
        /// A part of a transaction too large to hold ([`Transaction::partial`]): its changes
        /// count, its position must not be saved.
        partial: bool,
    },
    /// Cells the webhook side needs shown (conflict the database won, refused edit reverted).
    WriteBack {
        tab: TabIndex,
        key: RowKey,
        cells: Vec<(Arc<str>, CellData)>,
        /// See [`super::WriteBack::whole_row`].
        whole_row: bool,
    },
    /// A row a person added now has `key` at 1-based `sheet_row`.
    KeyPlaced {
        tab: TabIndex,
        key: RowKey,
        sheet_row: u32,
    },
}

impl WriterMessage {
    /// ≈ bytes the message holds in memory (the writer channel's byte budget).
    pub fn memory_bytes(&self) -> usize {
        let key = |key: &RowKey| key.0.iter().map(|part| part.capacity() + 24).sum::<usize>();
        std::mem::size_of::<WriterMessage>()
            + match self {
                WriterMessage::Transaction {
                    changes, echoes, ..
                } => changes
                    .iter()
                    .chain(echoes)
                    .map(|change| key(&change.key) + update_memory_bytes(&change.update))
                    .sum(),
                WriterMessage::WriteBack {
                    key: row, cells, ..
                } => key(row) + cells.len() * std::mem::size_of::<(Arc<str>, CellData)>(),
                WriterMessage::KeyPlaced { key: row, .. } => key(row),
            }
    }
}

/// Counts the router reports (the pipeline turns them into metrics).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RouteCounts {
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    pub unchanged_updates: u64,
    pub truncated_cells: u64,
}

pub struct Router {
    routes: Vec<Route>,
    by_table: HashMap<TableName, Vec<usize>>,
    writers: usize,
    options: CellOptions,
}

impl Router {
    pub fn new(routes: Vec<Route>, writers: usize, options: CellOptions) -> Self {
        let mut by_table: HashMap<TableName, Vec<usize>> = HashMap::new();
        for (index, route) in routes.iter().enumerate() {
            by_table.entry(route.table.clone()).or_default().push(index);
        }
        Self {
            routes,
            by_table,
            writers,
            options,
        }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// "The row with these key values of `table` sits at 1-based `sheet_row`": one message per
    /// mapping of the table (rows a person added and the webhook side inserted).
    pub fn key_placed(
        &self,
        table: &TableName,
        key: &[crate::value::Value],
        sheet_row: u32,
    ) -> Vec<(usize, WriterMessage)> {
        let key = RowKey(key.iter().map(|value| self.key_text(value)).collect());
        self.by_table
            .get(table)
            .into_iter()
            .flatten()
            .map(|&index| {
                let route = &self.routes[index];
                (
                    route.writer,
                    WriterMessage::KeyPlaced {
                        tab: route.tab,
                        key: key.clone(),
                        sheet_row,
                    },
                )
            })
            .collect()
    }

    /// A snapshot row as the change that writes it whole (an insert of the current row).
    pub fn snapshot_change(&self, route: usize, row: &Row) -> TabChange {
        let route = &self.routes[route];
        let mut counts = RouteCounts::default();
        let (cells, key) = self.cells(route, row, &route.key_columns, &mut counts);
        let changed = cells.iter().map(|(name, _)| name.clone()).collect();
        TabChange {
            tab: route.tab,
            key,
            update: RowUpdate::Upsert { cells, changed },
        }
    }

    /// Splits one transaction into one message per writer. A RENAME COLUMN renames the column
    /// in the routes' own column lists too, so the renamed column keeps syncing.
    pub fn route(&mut self, transaction: &Transaction) -> (Vec<WriterMessage>, RouteCounts) {
        let mut counts = RouteCounts::default();
        let mut changes: Vec<Vec<TabChange>> = (0..self.writers).map(|_| Vec::new()).collect();
        let mut schema_changes: Vec<Vec<(TabIndex, SchemaChange)>> =
            (0..self.writers).map(|_| Vec::new()).collect();
        for change in &transaction.changes {
            let Some(routes) = self.by_table.get(&change.table) else {
                continue;
            };
            for &index in routes {
                let route = &self.routes[index];
                let tab_changes = self.changes_for(route, change, &mut counts);
                changes[route.writer].extend(tab_changes);
            }
        }
        for statement in &transaction.statements {
            for change in ddl::parse(&statement.database, &statement.statement) {
                for route in self
                    .routes
                    .iter_mut()
                    .filter(|route| route.table == change.table)
                {
                    // A mapping with its own column list syncs those only: a new column is
                    // not one of them. Mappings of every column start syncing it.
                    if route.columns.is_some()
                        && matches!(change.change, SchemaChange::AddColumn(_))
                    {
                        continue;
                    }
                    if let SchemaChange::RenameColumn { from, to } = &change.change {
                        rename_in(route.columns.iter_mut().flatten(), from, to);
                        rename_in(route.key_columns.iter_mut(), from, to);
                    }
                    schema_changes[route.writer].push((route.tab, change.change.clone()));
                }
            }
        }
        let messages = changes
            .into_iter()
            .zip(schema_changes)
            .map(|(changes, schema_changes)| WriterMessage::Transaction {
                gtid: transaction.gtid.clone(),
                position: transaction.position_after.clone(),
                commit_unix_seconds: transaction.commit_unix_seconds,
                changes,
                schema_changes,
                echoes: Vec::new(),
                partial: transaction.partial,
            })
            .collect();
        (messages, counts)
    }

    /// Adds the echo parts of a transaction (`apply::echo::EchoFiltered::echoes`) to the
    /// messages [`Router::route`] made of it, as cells only: an echo never creates a row.
    pub fn route_echoes(&self, echoes: &[RowChange], messages: &mut [WriterMessage]) {
        let mut ignored = RouteCounts::default();
        for change in echoes {
            let Some(routes) = self.by_table.get(&change.table) else {
                continue;
            };
            for &index in routes {
                let route = &self.routes[index];
                let Some(WriterMessage::Transaction { echoes, .. }) =
                    messages.get_mut(route.writer)
                else {
                    continue;
                };
                for tab_change in self.changes_for(route, change, &mut ignored) {
                    if let RowUpdate::Upsert { cells, changed } = tab_change.update {
                        let cells = cells
                            .into_iter()
                            .filter(|(name, _)| changed.contains(name))
                            .collect();
                        echoes.push(TabChange {
                            update: RowUpdate::Cells { cells },
                            ..tab_change
                        });
                    }
                }
            }
        }
    }

    fn changes_for(
        &self,
        route: &Route,
        change: &RowChange,
        counts: &mut RouteCounts,
    ) -> Vec<TabChange> {
        let key_columns: Vec<Arc<str>> = if change.schema.primary_key.is_empty() {
            route.key_columns.clone()
        } else {
            change
                .schema
                .primary_key_names()
                .into_iter()
                .map(Arc::from)
                .collect()
        };
        let tab_change = |key: RowKey, update: RowUpdate| TabChange {
            tab: route.tab,
            key,
            update,
        };
        match (change.kind, &change.before, &change.after) {
            (ChangeKind::Insert, _, Some(after)) => {
                counts.inserts += 1;
                let (cells, key) = self.cells(route, after, &key_columns, counts);
                let changed = cells.iter().map(|(name, _)| name.clone()).collect();
                vec![tab_change(key, RowUpdate::Upsert { cells, changed })]
            }
            (ChangeKind::Delete, Some(before), _) => {
                counts.deletes += 1;
                if !route.deletes {
                    return Vec::new();
                }
                let (_, key) = self.cells(route, before, &key_columns, counts);
                vec![tab_change(key, RowUpdate::Delete)]
            }
            (ChangeKind::Update, Some(before), Some(after)) => {
                // Only the key of the old image is converted: which columns changed is a
                // question for the values (equal values make equal cells).
                let old_key = self.key(before, &key_columns);
                let (cells, key) = self.cells(route, after, &key_columns, counts);
                if old_key != key {
                    counts.updates += 1;
                    let changed = cells.iter().map(|(name, _)| name.clone()).collect();
                    return vec![
                        tab_change(old_key, RowUpdate::Delete),
                        tab_change(key, RowUpdate::Upsert { cells, changed }),
                    ];
                }
                let changed_columns = changed_columns(before, after);
                let changed: Vec<Arc<str>> = cells
                    .iter()
                    .filter(|(name, _)| changed_columns.contains(&name.as_ref()))
                    .map(|(name, _)| name.clone())
                    .collect();
                if changed.is_empty() {
                    counts.unchanged_updates += 1;
                    return Vec::new();
                }
                counts.updates += 1;
                vec![tab_change(key, RowUpdate::Upsert { cells, changed })]
            }
            _ => Vec::new(),
        }
    }

    /// The synced cells of one row image, and its key.
    fn cells(
        &self,
        route: &Route,
        row: &Row,
        key_columns: &[Arc<str>],
        counts: &mut RouteCounts,
    ) -> (Vec<(Arc<str>, CellData)>, RowKey) {
        let mut cells = Vec::with_capacity(row.columns.len());
        for column in &row.columns {
            let synced = route.columns.as_ref().is_none_or(|columns| {
                columns
                    .iter()
                    .any(|name| name.as_ref() == column.name.as_ref())
            }) || key_columns.contains(&column.name);
            if !synced {
                continue;
            }
            let Some(converted) = to_cell(&column.value, &self.options) else {
                continue;
            };
            if converted.truncated_from.is_some() {
                counts.truncated_cells += 1;
            }
            cells.push((column.name.clone(), converted.cell));
        }
        // Key columns are always among the cells: their key text comes from the same cell.
        let key = RowKey(
            key_columns
                .iter()
                .map(|name| {
                    cells
                        .iter()
                        .find(|(cell_name, _)| cell_name == name)
                        .map(|(_, cell)| cell_key_text(cell))
                        .unwrap_or_default()
                })
                .collect(),
        );
        (cells, key)
    }

    /// The key of one row image (its key columns converted, nothing else).
    fn key(&self, row: &Row, key_columns: &[Arc<str>]) -> RowKey {
        RowKey(
            key_columns
                .iter()
                .map(|name| {
                    row.get(name)
                        .map(|value| self.key_text(value))
                        .unwrap_or_default()
                })
                .collect(),
        )
    }

    /// A key value's canonical text: the text of the cell it converts to.
    fn key_text(&self, value: &crate::value::Value) -> String {
        to_cell(value, &self.options)
            .map(|converted| cell_key_text(&converted.cell))
            .unwrap_or_default()
    }
}

/// MySQL column names compare without case.
fn rename_in<'a>(names: impl Iterator<Item = &'a mut Arc<str>>, from: &str, to: &str) {
    for name in names {
        if name.eq_ignore_ascii_case(from) {
            *name = Arc::from(to);
        }
    }
}

/// The columns of `after` whose value differs from `before` (or that `before` lacks). Images
/// of one event list the same columns in the same order, so the lookup is by position first.
fn changed_columns<'a>(before: &Row, after: &'a Row) -> Vec<&'a str> {
    after
        .columns
        .iter()
        .enumerate()
        .filter(|(index, column)| match before.columns.get(*index) {
            Some(old) if old.name == column.name => old.value != column.value,
            _ => before.get(&column.name) != Some(&column.value),
        })
        .map(|(_, column)| column.name.as_ref())
        .collect()
}
