//! Row UPDATEs held back and run together: the rows of a paste, or of the messages of a group
//! commit, that assign the same columns are written by one `UPDATE … SET c = CASE … END WHERE
//! key IN (…)` instead of one statement each.
//!
//! Consumes each row's decided work ([`RowWork`], with the UPDATE it needs); runs the held
//! UPDATEs at [`Held::run`]; produces each message's rows ([`Held::into_outcomes`]) once every
//! UPDATE has run.
//!
//! Why: a statement costs the server (open the table, lock, bind, log the query) and both
//! sides a round trip whatever its number of rows; the row-level work is what remains
//! (`docs/BENCHMARKS.md`, webhook).
//!
//! Guarantees: the database ends as if each row's UPDATE had run alone in arrival order.
//! - Every row of a transaction is written at most once between two runs, and the caller runs
//!   the held UPDATEs before any statement that reads or writes a row not decided from the
//!   transaction's first locking read ([`Held::run`] before a row's own read or INSERT), so no
//!   read sees a row without the writes decided before it.
//! - Values are bound exactly as a single-row UPDATE binds them, and each `CASE` ends with
//!   `ELSE <column>`, so a row no `WHEN` matches keeps its value.
//! - The server undoes a refused statement whole, so a refusal of a many-row UPDATE is followed
//!   by each of its rows alone: exactly the rows the server refuses alone are rejected (their
//!   cells set back in the sheet with the reason), and the others apply.
//! - What differs: the order in which the rows of one statement are written (the key index's,
//!   not arrival's), which only a trigger with side effects across rows could observe.

use std::collections::BTreeMap;
use std::sync::Arc;

use mysql_async::Transaction;

use super::cells::{noted_cell, row_key};
use super::columns::TableInfo;
use super::contest::ConflictRecord;
use super::edit::{EditContext, EditOutcome};
use super::error::{Failure, FailureClass};
use super::marker::{MarkedRow, Marker};
use super::plan::{PlannedKey, PlannedRow};
use super::statements::{select_for_update, update, update_many, RowUpdate};
use super::typed::Typed;
use crate::sheets::model::CellData;
use crate::sync::WriteBack;
use crate::webhook::{CellError, RowResult, RowStatus};

/// Rows per many-row UPDATE at most (a group commit holds at most `batch::MAX_BATCH`
/// single-row messages; a paste may hold thousands of rows).
const ROWS_PER_UPDATE: usize = 64;

/// The result of one row before it is merged into its message's outcome (replaced whole when
/// the server refuses the row's UPDATE).
pub(super) struct RowWork {
    pub(super) result: RowResult,
    pub(super) write_back: Vec<(Arc<str>, CellData)>,
    pub(super) write_back_key: Option<Vec<Typed>>,
    pub(super) conflicts: Vec<ConflictRecord>,
    pub(super) marked: Option<MarkedRow>,
    pub(super) inserted: Option<Vec<Typed>>,
    /// The row's UPDATE, not yet run.
    pub(super) update: Option<RowUpdate>,
}

impl RowWork {
    /// A row with nothing decided yet.
    pub(super) fn new(row: &PlannedRow) -> RowWork {
        RowWork {
            result: RowResult {
                row: row.sheet_row,
                status: RowStatus::Unchanged,
                key: None,
                errors: row.refused.iter().map(|(_, error)| error.clone()).collect(),
            },
            write_back: Vec::new(),
            write_back_key: None,
            conflicts: Vec::new(),
            marked: None,
            inserted: None,
            update: None,
        }
    }
}

/// A row's UPDATE waiting for [`Held::run`].
struct HeldUpdate<'a> {
    message: usize,
    position: usize,
    row: &'a PlannedRow,
    update: RowUpdate,
}

/// The rows of one transaction decided so far, per message, and their UPDATEs not yet run.
#[derive(Default)]
pub(super) struct Held<'a> {
    works: Vec<Vec<RowWork>>,
    updates: Vec<HeldUpdate<'a>>,
}

impl<'a> Held<'a> {
    /// Starts the next message; its rows are [`Held::push`]ed in order.
    pub(super) fn start_message(&mut self) {
        self.works.push(Vec::new());
    }

    /// The current message's next row; its UPDATE (if any) is held.
    pub(super) fn push(&mut self, row: &'a PlannedRow, mut work: RowWork) {
        if self.works.is_empty() {
            self.works.push(Vec::new());
        }
        let message = self.works.len() - 1;
        let position = self.works[message].len();
        if let Some(update) = work.update.take() {
            self.updates.push(HeldUpdate {
                message,
                position,
                row,
                update,
            });
        }
        self.works[message].push(work);
    }

    /// Runs every held UPDATE: rows assigning the same columns together, the others alone;
    /// a row the server refuses becomes a rejected row with its cells set back.
    pub(super) async fn run(
        &mut self,
        transaction: &mut Transaction<'_>,
        table: &TableInfo,
    ) -> Result<(), Failure> {
        let mut sets: BTreeMap<Vec<usize>, Vec<HeldUpdate<'a>>> = BTreeMap::new();
        for held in self.updates.drain(..) {
            let mut columns: Vec<usize> = held
                .update
                .assignments
                .iter()
                .map(|(column, _)| *column)
                .collect();
            columns.sort_unstable();
            sets.entry(columns).or_default().push(held);
        }
        for (columns, updates) in sets {
            for chunk in updates.chunks(ROWS_PER_UPDATE) {
                if chunk.len() > 1 {
                    let rows: Vec<&RowUpdate> = chunk.iter().map(|held| &held.update).collect();
                    match update_many(transaction, table, &columns, &rows).await {
                        Ok(()) => continue,
                        Err(failure) if failure.class() == FailureClass::RowRejected => {}
                        Err(failure) => return Err(failure),
                    }
                }
                // One row, or a many-row statement the server refused and undid: each alone.
                for held in chunk {
                    match update(transaction, table, &held.update).await {
                        Ok(()) => {}
                        Err(failure) if failure.class() == FailureClass::RowRejected => {
                            let work = refused_row(transaction, table, held.row, &failure).await?;
                            self.works[held.message][held.position] = work;
                        }
                        Err(failure) => return Err(failure),
                    }
                }
            }
        }
        Ok(())
    }

    /// Each message's outcome, its rows in arrival order; call after [`Held::run`].
    pub(super) fn into_outcomes(
        self,
        contexts: &[EditContext<'_>],
        plans: &[&[PlannedRow]],
    ) -> Vec<EditOutcome> {
        self.works
            .into_iter()
            .zip(contexts.iter().zip(plans))
            .map(|(works, (context, rows))| {
                let mut outcome = EditOutcome {
                    marker: Marker::new(),
                    stale: rows.iter().any(|row| row.key_edit.is_some()),
                    ..EditOutcome::default()
                };
                for work in works {
                    merge(&mut outcome, context, work);
                }
                outcome
            })
            .collect()
    }
}

fn merge(outcome: &mut EditOutcome, context: &EditContext<'_>, work: RowWork) {
    if let (Some(key), false) = (&work.write_back_key, work.write_back.is_empty()) {
        outcome.write_backs.push(WriteBack {
            mapping: context.mapping.name.clone(),
            key: row_key(context.table, key),
            cells: work.write_back,
            whole_row: false,
        });
    }
    if let Some(key) = work.inserted {
        outcome.inserted.push((work.result.row, key));
    }
    outcome.conflicts.extend(work.conflicts);
    outcome.marker.rows.extend(work.marked);
    outcome.results.push(work.result);
}

/// The work of a row whose statement (its UPDATE or INSERT) the server refused: rejected with
/// the server's reason, and its cells set back to what the database holds.
pub(super) async fn refused_row(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    row: &PlannedRow,
    failure: &Failure,
) -> Result<RowWork, Failure> {
    let mut work = rejected_by_server(table, row, failure);
    restore_refused_row(transaction, table, row, failure, &mut work).await?;
    Ok(work)
}

/// A row the server refused (its one statement undone whole, triggers included, while the
/// transaction goes on: no savepoint is needed).
fn rejected_by_server(table: &TableInfo, row: &PlannedRow, failure: &Failure) -> RowWork {
    let message = failure.row_message();
    let mut work = RowWork::new(row);
    work.result.status = RowStatus::Rejected;
    work.result
        .errors
        .extend(row.cells.iter().map(|cell| CellError {
            column: table.columns[cell.column].name.to_string(),
            message: message.clone(),
        }));
    work
}

/// The cells of a row the server refused go back to the database's values, with its reason.
async fn restore_refused_row(
    transaction: &mut Transaction<'_>,
    table: &TableInfo,
    row: &PlannedRow,
    failure: &Failure,
    work: &mut RowWork,
) -> Result<(), Failure> {
    let PlannedKey::Existing(key) = &row.key else {
        return Ok(());
    };
    let Some(current) = select_for_update(transaction, table, key).await? else {
        return Ok(());
    };
    let note = format!(
        "sheetsync: {}. The database value is shown.",
        failure.row_message()
    );
    for cell in &row.cells {
        let value = current.get(&cell.column).cloned().unwrap_or(Typed::Null);
        work.write_back.push((
            table.columns[cell.column].name.clone(),
            noted_cell(table, cell.column, &value, note.clone()),
        ));
    }
    work.write_back_key = Some(key.clone());
    Ok(())
}
