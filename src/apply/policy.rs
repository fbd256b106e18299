//! Who wins a conflict (DESIGN §3.5): a pure decision with table tests.
//!
//! Consumes the column's policy, the value the sheet wants, the value the database holds, the
//! edit's time and (when the binlog told [`super::clock::RowClock`]) the commit time of the
//! database's last change to the row; produces the winner. Rules:
//! - `db-wins` / `sheet-wins`: as named.
//! - `last-write-wins`: the sheet wins when its edit is at or after the database change's commit
//!   second (commit times are whole seconds, so an edit within the same second counts as later);
//!   when the commit time is unknown, the sheet wins: the edit is the newest write sheetsync
//!   has seen for the row (the change it lost to is older than anything the clock remembers).
//! - `max`: the larger number wins (counters edited on both sides); an empty value loses to any
//!   number; for a non-numeric column it falls back to `last-write-wins`.

use std::cmp::Ordering;

use super::typed::{compare_numbers, Typed};
use crate::config::{ConflictPolicy, MappingConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    Sheet,
    Database,
}

impl Winner {
    pub fn label(self) -> &'static str {
        match self {
            Winner::Sheet => "sheet",
            Winner::Database => "database",
        }
    }
}

pub fn policy_label(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::LastWriteWins => "last-write-wins",
        ConflictPolicy::DbWins => "db-wins",
        ConflictPolicy::SheetWins => "sheet-wins",
        ConflictPolicy::Max => "max",
    }
}

/// The policy of a column: its own override, else the mapping's.
pub fn column_policy(mapping: &MappingConfig, column: &str) -> ConflictPolicy {
    mapping
        .column_conflict
        .get(column)
        .copied()
        .unwrap_or(mapping.conflict)
}

pub struct Contest<'a> {
    pub policy: ConflictPolicy,
    pub sheet: &'a Typed,
    pub database: &'a Typed,
    /// When the person edited the cell (unix milliseconds).
    pub edited_at_milliseconds: i64,
    /// When the database's last change to the row was committed (unix seconds), if known.
    pub database_committed_at: Option<i64>,
}

pub fn resolve(contest: &Contest) -> Winner {
    match contest.policy {
        ConflictPolicy::DbWins => Winner::Database,
        ConflictPolicy::SheetWins => Winner::Sheet,
        ConflictPolicy::LastWriteWins => last_write_wins(contest),
        ConflictPolicy::Max => match (contest.sheet, contest.database) {
            (Typed::Null, Typed::Null) => Winner::Database,
            (Typed::Null, database) if database.as_f64().is_some() => Winner::Database,
            (sheet, Typed::Null) if sheet.as_f64().is_some() => Winner::Sheet,
            (sheet, database) => match compare_numbers(sheet, database) {
                Some(Ordering::Greater) => Winner::Sheet,
                Some(_) => Winner::Database,
                None => last_write_wins(contest),
            },
        },
    }
}

fn last_write_wins(contest: &Contest) -> Winner {
    match contest.database_committed_at {
        None => Winner::Sheet,
        Some(committed) if contest.edited_at_milliseconds >= committed.saturating_mul(1000) => {
            Winner::Sheet
        }
        Some(_) => Winner::Database,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConflictPolicy::*;
    use Winner::*;

    #[test]
    fn each_policy_in_both_orders() {
        let small = Typed::Integer(5);
        let large = Typed::Decimal("7.5".into());
        let text = Typed::Text("x".into());
        let edit = 1_000_000_000_000; // 2001-09-09T01:46:40Z in ms
        let before = Some(999_999_999); // DB change one second before the edit
        let after = Some(1_000_000_001);
        let same_second = Some(1_000_000_000);
        let cases = [
            (DbWins, &small, &large, before, Database),
            (DbWins, &large, &small, after, Database),
            (SheetWins, &small, &large, after, Sheet),
            (SheetWins, &large, &small, before, Sheet),
            (LastWriteWins, &small, &large, before, Sheet),
            (LastWriteWins, &small, &large, after, Database),
            (LastWriteWins, &small, &large, same_second, Sheet),
            (LastWriteWins, &small, &large, None, Sheet),
            (Max, &small, &large, before, Database),
            (Max, &large, &small, after, Sheet),
            (Max, &Typed::Null, &small, None, Database),
            (Max, &small, &Typed::Null, None, Sheet),
            // Not numbers: max falls back to last-write-wins.
            (Max, &text, &small, after, Database),
            (Max, &text, &small, before, Sheet),
        ];
        for (policy, sheet, database, committed, expected) in cases {
            let contest = Contest {
                policy,
                sheet,
                database,
                edited_at_milliseconds: edit,
                database_committed_at: committed,
            };
            assert_eq!(
                resolve(&contest),
                expected,
                "{policy:?} sheet {sheet:?} db {database:?} committed {committed:?}"
            );
        }
    }
}
