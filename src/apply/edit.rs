//! One edit message applied inside the caller's transaction, row by row.
//!
//! Consumes planned rows ([`super::plan`]) and an open transaction; produces the per-row
//! results, the write-backs to send after commit, the conflicts to record and the echo marker
//! rows. Per row (a refused row is rejected alone and the rest of the message applies):
//! - existing key: `SELECT … FOR UPDATE` the row, then for each cell compare the editor's old
//!   value with the database's (compare-and-set); equal or no old value → write, different →
//!   a conflict resolved by the column's policy; an unchanged value writes nothing; then the
//!   row's `UPDATE`, held ([`super::held`]) so that rows assigning the same columns are
//!   written by one statement (the server undoes a refused statement whole; its rows are then
//!   written one by one, and only a row the server refuses alone is rejected).
//! - existing key not in the table: INSERT with that key (a row typed with its key), unless
//!   the editor saw values there (the row was deleted in the database meanwhile: refused).
//! - no key: INSERT, returning the new key (AUTO_INCREMENT `last_insert_id`, or given values).
//!
//! Identifiers come only from [`TableInfo`] through [`quote`]; values only as parameters.

use std::collections::{BTreeMap, HashMap};

use mysql_async::Transaction;

use super::cells::noted_cell;
use super::columns::TableInfo;
pub use super::contest::ConflictRecord;
use super::contest::{changed_after_edit, contest, same};
use super::error::{Failure, FailureClass};
pub(super) use super::held::RowWork;
use super::held::{refused_row, Held};
use super::insert::insert;
use super::marker::{Marker, Operation};
use super::plan::{PlannedKey, PlannedRow};
use super::policy::{column_policy, policy_label, Winner};
use super::statements::{
    key_response, key_text, marked_row, select_for_update, select_many_for_update, LockWait,
    RowUpdate,
};
use super::typed::Typed;
use crate::config::MappingConfig;
use crate::sync::WriteBack;
use crate::webhook::{ApplyResponse, CellError, RowResult, RowStatus};

/// What an edit needs besides its rows.
#[derive(Clone, Copy)]
pub struct EditContext<'a> {
    pub mapping: &'a MappingConfig,
    pub table: &'a TableInfo,
    pub edited_at_milliseconds: i64,
    pub clock: &'a super::clock::RowClock,
    pub recent: &'a super::recent::RecentInserts,
}

#[derive(Default)]
pub struct EditOutcome {
    pub results: Vec<RowResult>,
    pub write_backs: Vec<WriteBack>,
    pub conflicts: Vec<ConflictRecord>,
    pub marker: Marker,
    /// (sheet row, key) of rows inserted for keyless sheet rows.
    pub inserted: Vec<(u32, Vec<Typed>)>,
    /// The writer must re-read the key column (a key cell was edited).
    pub stale: bool,
}

impl EditOutcome {
    /// The message's answer, moved out: the rows' results are the answer, and nothing after the
    /// transaction (the bookkeeping rows, `after_commit`) reads them from the outcome.
    pub fn take_response(&mut self) -> ApplyResponse {
        ApplyResponse {
            results: std::mem::take(&mut self.results),
        }
    }
}

pub async fn apply_rows(
    transaction: &mut Transaction<'_>,
    context: &EditContext<'_>,
    rows: &[PlannedRow],
) -> Result<EditOutcome, Failure> {
    // One locking read for every row given by key; a key read twice (the same key on two
    // sheet rows) or spelled differently from the database is read again on its own.
    let keys: Vec<Vec<Typed>> = rows
        .iter()
        .filter(|row| row.key_edit.is_none())
        .filter_map(|row| match &row.key {
            PlannedKey::Existing(key) => Some(key.clone()),
            _ => None,
        })
        .collect();
    let mut prefetched = if keys.len() > 1 {
        select_many_for_update(transaction, context.table, &keys, LockWait::Wait).await?
    } else {
        HashMap::new()
    };
    let mut held = Held::default();
    apply_prefetched_rows(transaction, context, rows, &mut prefetched, &mut held).await?;
    held.run(transaction, context.table).await?;
    Ok(held
        .into_outcomes(&[*context], &[rows])
        .pop()
        .unwrap_or_default())
}

/// Rows already locked and read, by [`key_text`] (their current values in this transaction).
pub type Prefetched = HashMap<Vec<Option<String>>, BTreeMap<usize, Typed>>;

/// [`apply_rows`] with rows read beforehand (a group commit reads the rows of all its messages
/// at once), as the next message of `held`: each row read is taken out of `prefetched` when
/// first used, with its stored spelling, so no later row or message of the transaction sees a
/// value it may have changed. The rows' UPDATEs are held ([`Held`]); the caller runs them.
pub(super) async fn apply_prefetched_rows<'a>(
    transaction: &mut Transaction<'_>,
    context: &EditContext<'_>,
    rows: &'a [PlannedRow],
    prefetched: &mut Prefetched,
    held: &mut Held<'a>,
) -> Result<(), Failure> {
    held.start_message();
    for row in rows {
        let current = match &row.key {
            PlannedKey::Existing(key) => prefetched.remove(&key_text(key)),
            _ => None,
        };
        let writes = row.key_edit.is_none() && !matches!(row.key, PlannedKey::Invalid);
        if current.is_none() && writes {
            // This row reads or inserts on its own: the writes decided before it come first.
            held.run(transaction, context.table).await?;
        }
        let work = match apply_row(transaction, context, row, current, prefetched).await {
            Ok(work) => work,
            // An INSERT is one statement, and the server undoes a failed statement whole
            // (triggers included) while the transaction goes on: no savepoint is needed.
            Err(failure) if failure.class() == FailureClass::RowRejected => {
                refused_row(transaction, context.table, row, &failure).await?
            }
            Err(failure) => return Err(failure),
        };
        held.push(row, work);
    }
    Ok(())
}

async fn apply_row(
    transaction: &mut Transaction<'_>,
    context: &EditContext<'_>,
    row: &PlannedRow,
    prefetched: Option<BTreeMap<usize, Typed>>,
    others: &mut Prefetched,
) -> Result<RowWork, Failure> {
    let table = context.table;
    let mut work = RowWork::new(row);
    if let Some(key_edit) = &row.key_edit {
        // The row keeps its identity: its old key goes back into the sheet, nothing else runs.
        work.result.status = RowStatus::Rejected;
        work.write_back_key = Some(key_edit.shown.clone());
        for (column, previous) in &key_edit.previous {
            work.write_back.push((
                table.columns[*column].name.clone(),
                noted_cell(
                    table,
                    *column,
                    previous,
                    "sheetsync: key cells cannot be changed in the sheet; change the key in the \
                     database. The previous key is shown."
                        .into(),
                ),
            ));
        }
        return Ok(work);
    }
    let key = match &row.key {
        PlannedKey::Invalid => {
            work.result.status = RowStatus::Rejected;
            return Ok(work);
        }
        PlannedKey::Existing(key) => key.clone(),
        PlannedKey::New => match context.recent.key_of(&context.mapping.name, row.sheet_row) {
            Some(key) => key,
            None => return insert(transaction, context, row, None, work).await,
        },
    };
    let current = match prefetched {
        Some(current) => Some(current),
        None => select_for_update(transaction, table, &key).await?,
    };
    let Some(current) = current else {
        let saw_values = row
            .cells
            .iter()
            .any(|cell| cell.old_text.as_deref().is_some_and(|old| !old.is_empty()));
        if saw_values {
            work.result.status = RowStatus::Rejected;
            work.result.errors.push(CellError {
                column: String::new(),
                message: "this row no longer exists in the database".into(),
            });
            return Ok(work);
        }
        return insert(transaction, context, row, Some(&key), work).await;
    };
    // The key as the database stores it (a case-insensitive key may be spelled otherwise in
    // the sheet): what the binlog will show, so what the marker and the row clock use.
    let stored_key: Vec<Typed> = table
        .key
        .iter()
        .map(|index| current.get(index).cloned().unwrap_or(Typed::Null))
        .collect();
    // Read under another spelling (a case-insensitive key), the row may still be prefetched.
    others.remove(&key_text(&stored_key));
    if matches!(row.key, PlannedKey::New) {
        // A later message about a row this process inserted: answer with its key again.
        work.result.key = Some(key_response(table, &key));
    }
    // Refused cells go back to what the database holds.
    let note_of = |error: &CellError| {
        format!(
            "sheetsync could not save this cell: {}. The database value is shown.",
            error.message
        )
    };
    for (column, error) in &row.refused {
        if let Some(value) = current.get(column) {
            work.write_back.push((
                table.columns[*column].name.clone(),
                noted_cell(table, *column, value, note_of(error)),
            ));
        }
    }
    let mut assignments: Vec<(usize, Typed)> = Vec::new();
    // Columns the sheet won in a conflict, or pasted over a value nobody knows the person saw:
    // the database may have changed them while the person typed, and that change may reach the
    // sheet after the person's value (the stream writes it in binlog order). They are left out
    // of the echo marker, so the binlog's copy of the sheet's value is written to the sheet
    // after the older one, and both sides end holding it.
    let mut won_by_sheet: Vec<usize> = Vec::new();
    let mut database_won = false;
    for cell in &row.cells {
        let database = current.get(&cell.column).cloned().unwrap_or(Typed::Null);
        if same(&cell.value, &database) {
            continue;
        }
        let conflicted = match &cell.old {
            // A paste carries no old values: what the person saw is unknown, but a database
            // change committed after the edit cannot have been seen.
            None => changed_after_edit(context, &stored_key),
            Some(Ok(old)) => !same(old, &database),
            Some(Err(())) => true,
        };
        if !conflicted {
            // A wholesale rewrite of the tab (a load) after the edit may have put the
            // database's older value back over the person's: written again from the binlog.
            if cell.old.is_none()
                || context
                    .clock
                    .tab_rewritten_after(&context.mapping.name, context.edited_at_milliseconds)
            {
                won_by_sheet.push(cell.column);
            }
            assignments.push((cell.column, cell.value.clone()));
            continue;
        }
        let (winner, record) = contest(context, row, cell, &database, &stored_key);
        work.conflicts.push(record);
        match winner {
            Winner::Sheet => {
                won_by_sheet.push(cell.column);
                assignments.push((cell.column, cell.value.clone()));
            }
            Winner::Database => {
                database_won = true;
                let name = table.columns[cell.column].name.clone();
                let note = format!(
                    "sheetsync: this cell was changed in the database while you edited it; the \
                     database's value was kept (conflict policy {}). You typed: {}",
                    policy_label(column_policy(context.mapping, &name)),
                    cell.typed_text
                );
                work.result.errors.push(CellError {
                    column: name.to_string(),
                    message: note.clone(),
                });
                work.write_back
                    .push((name, noted_cell(table, cell.column, &database, note)));
            }
        }
    }
    work.write_back_key = Some(key.clone());
    if !assignments.is_empty() {
        let marked: Vec<(usize, Typed)> = assignments
            .iter()
            .filter(|(column, _)| !won_by_sheet.contains(column))
            .cloned()
            .collect();
        work.marked = Some(marked_row(
            table,
            &stored_key,
            Operation::Update,
            &marked,
            None,
        ));
    }
    let applied = !assignments.is_empty();
    if applied {
        work.update = Some(RowUpdate {
            key: stored_key,
            assignments,
        });
    }
    work.result.status = if database_won {
        RowStatus::Conflict
    } else if applied {
        RowStatus::Applied
    } else if !work.result.errors.is_empty() {
        RowStatus::Rejected
    } else {
        work.result.status
    };
    if matches!(row.key, PlannedKey::New) {
        work.result.status = RowStatus::Inserted;
    }
    Ok(work)
}
