//! The echo filter: what of a binlog transaction still has to reach the sheet.
//!
//! Consumes one committed [`Transaction`] and this process's origin; produces the row changes to
//! forward and how many were suppressed. Pure. Rules:
//! - A transaction without a marker row of this origin (`sheetsync.echo_marker`, inserted or
//!   updated) is forwarded whole: it was not written by this sheetsync.
//! - In a marked transaction, a change to a row the marker lists is trimmed to the columns
//!   sheetsync did not write: a column it wrote is dropped when the binlog shows exactly the
//!   value it wrote (same fingerprint); anything else — an `ON UPDATE CURRENT_TIMESTAMP`
//!   column, a trigger's change to another column or to the same one, a database default of an
//!   inserted row — is kept. Key columns are always kept so the writer can place the row. A
//!   change left with nothing else that changed is suppressed. A delete is always forwarded:
//!   where the person removed the row the writer finds no such key and sends nothing, but a
//!   change that reached the writer between the removal and its `onChange` report put the row
//!   back by key, and only the delete takes it out again. An inserted row keeps the cells sheetsync wrote too (they are the person's
//!   typed cells, needed where the person's row was overwritten before its key arrived).
//! - Changes to rows the marker does not list (a trigger writing another row or table, a
//!   cascade) are forwarded as they are.
//! - Changes to sheetsync's own schema are never forwarded (bookkeeping, not data).
//!
//! For rows sheetsync inserted, [`EchoFiltered::inserted_rows`] says which sheet row the person
//! typed them in, so the writer can place the row (and its database-filled cells) there
//! instead of appending a copy before the script has written the new key into the sheet.

use std::collections::HashMap;

use super::marker::{fingerprint, MarkedRow, Marker, Operation, MARKER_SCHEMA, MARKER_TABLE};
use super::typed::{
    civil_from_days, datetime_text, fraction_text, normalize_decimal, Date, TimeOfDay,
};
use crate::binlog::{ChangeKind, Row, RowChange, TableName, Transaction};
use crate::value::Value;

/// (`database.table`, key columns and their canonical text).
type MarkedKey = (String, Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EchoFiltered {
    /// The changes to route to the sheet, in transaction order.
    pub changes: Vec<RowChange>,
    /// Row changes dropped whole because sheetsync wrote them.
    pub suppressed: usize,
    /// Row changes forwarded with the columns sheetsync wrote removed.
    pub trimmed: usize,
    /// Rows sheetsync inserted for a keyless sheet row: where they are in the sheet.
    pub inserted_rows: Vec<InsertedRow>,
    /// What was taken out of updates: the key and the cells people already hold. The writer
    /// writes them only where an earlier change of the same row may land after the person
    /// typed (still pending, in flight, or written moments ago; `sync/writer/overtaken.rs`):
    /// dropped outright, the sheet would keep that older value.
    pub echoes: Vec<RowChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertedRow {
    pub table: TableName,
    /// The new row's key values (key order).
    pub key: Vec<Value>,
    pub sheet_row: u32,
}

/// See the module documentation.
pub fn filter_echo(transaction: &Transaction, origin: &str) -> EchoFiltered {
    let markers = markers_of(transaction, origin);
    let mut filtered = EchoFiltered::default();
    if markers.is_empty() {
        filtered.changes = transaction
            .changes
            .iter()
            .filter(|change| change.table.database != MARKER_SCHEMA)
            .cloned()
            .collect();
        return filtered;
    }
    // (table, key text) → what sheetsync wrote to that row.
    let mut marked: HashMap<MarkedKey, &MarkedRow> = HashMap::new();
    for marker in &markers {
        for row in &marker.rows {
            marked.insert((row.table.clone(), row.key.clone()), row);
        }
    }
    let key_columns: HashMap<&str, Vec<&str>> = marked
        .values()
        .map(|row| {
            let names = row.key.iter().map(|(name, _)| name.as_str()).collect();
            (row.table.as_str(), names)
        })
        .collect();
    for change in &transaction.changes {
        if change.table.database == MARKER_SCHEMA {
            continue;
        }
        let table = change.table.to_string();
        let entry = key_columns
            .get(table.as_str())
            .and_then(|names| marked_key(change, names))
            .and_then(|key| marked.get(&(table.clone(), key)).copied());
        let Some(entry) = entry else {
            filtered.changes.push(change.clone());
            continue;
        };
        if let (Some(sheet_row), Some(after)) = (entry.sheet_row, &change.after) {
            if entry.operation == Operation::Insert && change.kind == ChangeKind::Insert {
                let key = key_names(entry)
                    .filter_map(|name| after.get(name).cloned())
                    .collect();
                filtered.inserted_rows.push(InsertedRow {
                    table: change.table.clone(),
                    key,
                    sheet_row,
                });
            }
        }
        filtered.echoes.extend(echo_part(change, entry));
        match trim(change, entry) {
            None => filtered.suppressed += 1,
            Some(trimmed) => {
                filtered.trimmed += 1;
                filtered.changes.push(trimmed);
            }
        }
    }
    filtered
}

fn key_names(entry: &MarkedRow) -> impl Iterator<Item = &str> {
    entry.key.iter().map(|(name, _)| name.as_str())
}

/// The marker contents of this origin in the transaction (normally one).
fn markers_of(transaction: &Transaction, origin: &str) -> Vec<Marker> {
    transaction
        .changes
        .iter()
        .filter(|change| {
            change.table.database == MARKER_SCHEMA
                && change.table.name == MARKER_TABLE
                && change.kind != ChangeKind::Delete
        })
        .filter_map(|change| change.after.as_ref())
        .filter(|row| text_of(row.get("origin")).as_deref() == Some(origin))
        .filter_map(|row| text_of(row.get("cells")).and_then(|cells| Marker::from_json(&cells)))
        .collect()
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Text(text) | Value::Json(text) => Some(text.clone()),
        Value::Bytes(bytes) => String::from_utf8(bytes.clone()).ok(),
        _ => None,
    }
}

fn marked_key(change: &RowChange, names: &[&str]) -> Option<Vec<(String, String)>> {
    let row = change.after.as_ref().or(change.before.as_ref())?;
    names
        .iter()
        .map(|name| {
            let text = binlog_marker_text(row.get(name)?)?;
            Some((name.to_string(), text))
        })
        .collect()
}

/// The change without what sheetsync wrote, or `None` when nothing else is left.
fn trim(change: &RowChange, entry: &MarkedRow) -> Option<RowChange> {
    if change.kind == ChangeKind::Delete {
        // Kept even when sheetsync deleted the row for a person's row removal: where the key is
        // gone from the tab the writer skips it without a request, but a change to the row
        // that reached the writer between the removal and its report put the row back (by
        // key), and only this delete takes it out again.
        return Some(change.clone());
    }
    let after = change.after.as_ref()?;
    let is_key = |name: &str| key_names(entry).any(|key| key == name);
    let mut kept = Vec::new();
    for column in &after.columns {
        let name = column.name.as_ref();
        if is_key(name) {
            continue;
        }
        let written_by_us = entry.columns.get(name).is_some_and(|written| {
            *written == fingerprint(binlog_marker_text(&column.value).as_deref())
        });
        // A new row's typed cells are kept: when the writer appended a row of its own over the
        // row the person was typing, this image is what puts the person's row back (the writer
        // places it at the person's row when free, where writing it again changes nothing).
        if written_by_us && change.kind != ChangeKind::Insert {
            continue;
        }
        let before = change.before.as_ref().and_then(|before| before.get(name));
        let changed = match change.kind {
            ChangeKind::Update => before != Some(&column.value),
            // A database-filled cell of a new row: only worth writing when not empty.
            _ => column.value != Value::Null,
        };
        if changed {
            kept.push(name);
        }
    }
    if kept.is_empty() {
        return None;
    }
    Some(with_columns(change, |name| {
        is_key(name) || kept.contains(&name)
    }))
}

/// `change` with only the columns `keep` names, in both images.
fn with_columns(change: &RowChange, keep: impl Fn(&str) -> bool) -> RowChange {
    let only = |row: &Row| Row {
        columns: row
            .columns
            .iter()
            .filter(|column| keep(&column.name))
            .cloned()
            .collect(),
    };
    RowChange {
        table: change.table.clone(),
        kind: change.kind,
        before: change.before.as_ref().map(only),
        after: change.after.as_ref().map(only),
        schema: change.schema.clone(),
    }
}

/// The columns of an update that [`trim`] takes out as sheetsync's own (with the key), or
/// `None` when it takes out none.
fn echo_part(change: &RowChange, entry: &MarkedRow) -> Option<RowChange> {
    if change.kind != ChangeKind::Update {
        return None;
    }
    let after = change.after.as_ref()?;
    let is_key = |name: &str| key_names(entry).any(|key| key == name);
    let written_by_us = |column: &crate::binlog::RowColumn| {
        entry
            .columns
            .get(column.name.as_ref())
            .is_some_and(|written| {
                *written == fingerprint(binlog_marker_text(&column.value).as_deref())
            })
    };
    let ours: Vec<&str> = after
        .columns
        .iter()
        .filter(|column| !is_key(&column.name) && written_by_us(column))
        .map(|column| column.name.as_ref())
        .collect();
    if ours.is_empty() {
        return None;
    }
    Some(with_columns(change, |name| {
        is_key(name) || ours.contains(&name)
    }))
}

/// Canonical text of a binlog value: equal to `Typed::marker_text` of the value written.
pub fn binlog_marker_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Int(integer) => integer.to_string(),
        Value::UInt(integer) => integer.to_string(),
        Value::Float(float) => float.to_string(),
        Value::Double(double) => double.to_string(),
        Value::Decimal(text) => normalize_decimal(text).unwrap_or_else(|| text.clone()),
        Value::Text(text) | Value::Enum(text) => text.clone(),
        Value::Bytes(bytes) => hex::encode(bytes),
        Value::Date { year, month, day } => super::typed::date_text(Date {
            year: i32::from(*year),
            month: *month,
            day: *day,
        }),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
        } => datetime_text(
            Date {
                year: i32::from(*year),
                month: *month,
                day: *day,
            },
            TimeOfDay {
                hour: *hour,
                minute: *minute,
                second: *second,
                microsecond: *microsecond,
            },
        ),
        Value::Timestamp {
            unix_seconds,
            microsecond,
        } => {
            let date = civil_from_days(unix_seconds.div_euclid(86_400));
            let of_day = unix_seconds.rem_euclid(86_400);
            datetime_text(
                date,
                TimeOfDay {
                    hour: (of_day / 3600) as u8,
                    minute: (of_day / 60 % 60) as u8,
                    second: (of_day % 60) as u8,
                    microsecond: *microsecond,
                },
            )
        }
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            microsecond,
        } => format!(
            "{}{hours:02}:{minutes:02}:{seconds:02}{}",
            if *negative { "-" } else { "" },
            fraction_text(*microsecond)
        ),
        Value::Year(year) => year.to_string(),
        Value::Set(labels) => labels.join(","),
        Value::Bit { bits, .. } => bits.to_string(),
        Value::Json(text) => serde_json::from_str::<serde_json::Value>(text)
            .map(|json| json.to_string())
            .unwrap_or_else(|_| text.clone()),
    })
}

#[cfg(test)]
#[path = "echo_tests.rs"]
mod tests;
