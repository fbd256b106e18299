//! One cell's contest between the sheet and the database (DESIGN §3.5): whether the database
//! changed the row after the person's edit, and which side wins by the column's policy, with
//! the record `sheetsync.conflicts` keeps.
//!
//! Consumes the edit's context, the planned cell and the database's current value; produces
//! the winner and a [`ConflictRecord`]. Pure apart from reading the row clock.

use super::cells::row_key;
use super::edit::EditContext;
use super::plan::{PlannedCell, PlannedRow};
use super::policy::{column_policy, policy_label, resolve, Contest, Winner};
use super::typed::Typed;

/// A conflict, for `sheetsync.conflicts`.
#[derive(Debug, Clone)]
pub struct ConflictRecord {
    pub column: String,
    pub sheet_row: u32,
    pub key: String,
    pub sheet_value: Option<String>,
    pub sheet_old_value: Option<String>,
    pub database_value: Option<String>,
    pub database_committed_at: Option<i64>,
    pub policy: &'static str,
    pub winner: Winner,
}

/// Whether the database's last change to the row (when the binlog told the row clock) was
/// committed after the edit: in a later second, as the clock keeps whole seconds.
pub(super) fn changed_after_edit(context: &EditContext<'_>, key: &[Typed]) -> bool {
    context
        .clock
        .last_change(&context.mapping.name, &row_key(context.table, key))
        .is_some_and(|committed| committed.saturating_mul(1000) > context.edited_at_milliseconds)
}

/// Equal as stored; an empty cell equals both NULL and the empty string.
pub(super) fn same(left: &Typed, right: &Typed) -> bool {
    left == right || (left.is_blank() && right.is_blank())
}

pub(super) fn contest(
    context: &EditContext<'_>,
    row: &PlannedRow,
    cell: &PlannedCell,
    database: &Typed,
    key: &[Typed],
) -> (Winner, ConflictRecord) {
    let name = &context.table.columns[cell.column].name;
    let policy = column_policy(context.mapping, name);
    let committed = context
        .clock
        .last_change(&context.mapping.name, &row_key(context.table, key));
    let winner = resolve(&Contest {
        policy,
        sheet: &cell.value,
        database,
        edited_at_milliseconds: context.edited_at_milliseconds,
        database_committed_at: committed,
    });
    let record = ConflictRecord {
        column: name.to_string(),
        sheet_row: row.sheet_row,
        key: serde_json::to_string(&row_key(context.table, key).0).unwrap_or_default(),
        sheet_value: cell.value.marker_text(),
        sheet_old_value: cell.old_text.clone(),
        database_value: database.marker_text(),
        database_committed_at: committed,
        policy: policy_label(policy),
        winner,
    };
    (winner, record)
}
