//! MySQL → Sheets: the stages between the binlog source and the Sheets API.
//!
//! ```text
//! BinlogSource ─Transaction─► router ─TabChange─► per-spreadsheet writer (coalesce ─► plan ─► batchUpdate)
//!                              │                        ▲
//!                              └─ echo filter           └─ WriteBack (cells the webhook side must show)
//! ```
//!
//! This file holds the small types the stages and the webhook side share: a row's key as the
//! sheet shows it ([`RowKey`]), cells the webhook side asks the writer to write back
//! ([`WriteBack`]), and the "sheet structure changed" signal ([`StructureNotifier`]).

pub mod checkpoint;
pub mod coalesce;
pub mod ddl;
pub mod initial_load;
pub mod layout;
pub mod pipeline;
pub mod plan;
pub mod result_value;
pub mod router;
pub mod send;
pub mod snapshot;
pub mod tabs;
pub mod writer;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::sheets::model::{CellData, ExtendedValue};

/// A row's primary key as the sheet shows it: one canonical text per key column, in key order.
///
/// Canonical text is what makes a key read back from the sheet (`UNFORMATTED_VALUE` JSON) equal
/// to the same key converted from a binlog value: numbers print as integers when integral and
/// below 2^53 (`42`, never `42.0`), otherwise as Rust's shortest round-trip form; text is itself;
/// booleans are `TRUE`/`FALSE`; an empty cell is the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey(pub Vec<String>);

impl RowKey {
    /// True when every part is empty: a row a person added without a key yet.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(String::is_empty)
    }
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0.join(", "))
    }
}

/// Canonical key text of a number (see [`RowKey`]).
pub fn number_key_text(number: f64) -> String {
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    if number.fract() == 0.0 && number.abs() < EXACT_INTEGER_LIMIT {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// Canonical key text of a cell sheetsync writes.
pub fn cell_key_text(cell: &CellData) -> String {
    match &cell.user_entered_value {
        None => String::new(),
        Some(ExtendedValue::StringValue(text)) | Some(ExtendedValue::FormulaValue(text)) => {
            text.clone()
        }
        Some(ExtendedValue::NumberValue(number)) => number_key_text(*number),
        Some(ExtendedValue::BoolValue(true)) => "TRUE".into(),
        Some(ExtendedValue::BoolValue(false)) => "FALSE".into(),
        Some(ExtendedValue::ErrorValue(_)) => String::new(),
    }
}

/// Canonical key text of a value read with `valueRenderOption=UNFORMATTED_VALUE`.
pub fn json_key_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => {
            number.as_f64().map(number_key_text).unwrap_or_default()
        }
        serde_json::Value::Bool(true) => "TRUE".into(),
        serde_json::Value::Bool(false) => "FALSE".into(),
        other => other.to_string(),
    }
}

/// Cells the webhook side needs written to the sheet: a conflict the database won, a refused
/// edit reverted (with a note saying why). They go through the writer, so they share its quota,
/// batching and row placement.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBack {
    /// The mapping's name.
    pub mapping: String,
    pub key: RowKey,
    /// Column name → the cell to write (value, and a note when there is a reason to show).
    pub cells: Vec<(Arc<str>, CellData)>,
    /// False: cells only, dropped when the key is not in the sheet. True (reconcile): `cells`
    /// are the row's whole synced image, written like a binlog upsert, so a row the sheet lacks
    /// is appended.
    pub whole_row: bool,
}

/// "Sheet row `sheet_row` (1-based, as people see it) now holds `key`": a row a person added
/// that the webhook side inserted into the table. The binlog echo of that insert is dropped, so
/// without this the writer would not know the row exists and would append it a second time.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPlaced {
    pub mapping: String,
    pub key: RowKey,
    pub sheet_row: u32,
}

/// "The sheet's rows were inserted, removed or sorted": the writer re-reads the key column of
/// a stale mapping before its next flush (DESIGN §2.6). Cheap to clone; shared by the webhook
/// side (which marks) and the writers (which take).
///
/// It also carries which keys the writers put into or took out of each tab, for the webhook
/// side's record of the keys a tab holds: a person removing a row the writer appended since
/// the last structure report must still delete it from the table. Recorded only once the
/// webhook side asked ([`StructureNotifier::track_written_keys`]): without it nobody reads
/// them, and a million-row burst must not keep its keys.
#[derive(Debug, Clone, Default)]
pub struct StructureNotifier {
    stale: Arc<Mutex<HashSet<String>>>,
    /// Mapping → key → true when the key was written into the tab, false when its row was
    /// removed; the last flush wins. `None` while nobody tracks.
    written: Arc<Mutex<Option<WrittenKeys>>>,
}

type WrittenKeys = HashMap<String, HashMap<RowKey, bool>>;

impl StructureNotifier {
    /// Marks the mapping's row index stale.
    pub fn mark_stale(&self, mapping: &str) {
        if let Ok(mut stale) = self.stale.lock() {
            stale.insert(mapping.to_string());
        }
    }

    /// True (once) if the mapping was marked stale since the last call.
    pub fn take_stale(&self, mapping: &str) -> bool {
        self.stale
            .lock()
            .map(|mut stale| stale.remove(mapping))
            .unwrap_or(false)
    }

    /// True if the mapping was marked stale and nobody took the mark yet (it stays).
    pub fn is_stale(&self, mapping: &str) -> bool {
        self.stale
            .lock()
            .map(|stale| stale.contains(mapping))
            .unwrap_or(false)
    }

    /// From now on, [`StructureNotifier::written`] records keys for
    /// [`StructureNotifier::take_written`].
    pub fn track_written_keys(&self) {
        if let Ok(mut written) = self.written.lock() {
            written.get_or_insert_with(HashMap::new);
        }
    }

    /// True when someone takes the written keys (the writer collects them only then).
    pub fn tracks_written_keys(&self) -> bool {
        self.written
            .lock()
            .map(|written| written.is_some())
            .unwrap_or(false)
    }

    /// A flush the sheet took wrote these keys' rows (`true`) or removed them (`false`).
    pub fn written(&self, mapping: &str, keys: impl IntoIterator<Item = (RowKey, bool)>) {
        if let Ok(mut written) = self.written.lock() {
            if let Some(written) = written.as_mut() {
                written.entry(mapping.to_string()).or_default().extend(keys);
            }
        }
    }

    /// The keys written or removed since the last call, for `mapping`.
    pub fn take_written(&self, mapping: &str) -> HashMap<RowKey, bool> {
        self.written
            .lock()
            .ok()
            .and_then(|mut written| written.as_mut()?.remove(mapping))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_of_a_written_cell_equals_key_text_of_the_value_read_back() {
        let cases = [
            (CellData::number(42.0), serde_json::json!(42)),
            (CellData::number(-7.0), serde_json::json!(-7.0)),
            (CellData::number(0.5), serde_json::json!(0.5)),
            (CellData::text("=A1"), serde_json::json!("=A1")),
            (
                CellData::text("18446744073709551615"),
                serde_json::json!("18446744073709551615"),
            ),
            (CellData::boolean(true), serde_json::json!(true)),
            (CellData::empty(), serde_json::Value::Null),
        ];
        for (cell, read_back) in cases {
            assert_eq!(cell_key_text(&cell), json_key_text(&read_back), "{cell:?}");
        }
        assert_eq!(number_key_text(42.0), "42");
        assert_eq!(
            number_key_text(9_007_199_254_740_993.0),
            json_key_text(&serde_json::json!(9_007_199_254_740_993.0))
        );
    }

    #[test]
    fn a_structure_mark_is_taken_once() {
        let notifier = StructureNotifier::default();
        assert!(!notifier.take_stale("orders"));
        notifier.clone().mark_stale("orders");
        assert!(notifier.is_stale("orders"));
        assert!(
            notifier.is_stale("orders"),
            "looking does not take the mark"
        );
        assert!(notifier.take_stale("orders"));
        assert!(!notifier.is_stale("orders"));
        assert!(!notifier.take_stale("orders"));
    }

    #[test]
    fn written_keys_are_kept_only_while_tracked_and_the_last_flush_wins() {
        let notifier = StructureNotifier::default();
        let key = |text: &str| RowKey(vec![text.to_string()]);
        notifier.written("orders", [(key("1"), true)]);
        assert!(!notifier.tracks_written_keys());
        assert!(notifier.take_written("orders").is_empty(), "untracked");
        notifier.clone().track_written_keys();
        assert!(notifier.tracks_written_keys());
        notifier.written("orders", [(key("1"), true), (key("2"), true)]);
        notifier.written("orders", [(key("1"), false)]);
        let taken = notifier.take_written("orders");
        assert_eq!(taken.get(&key("1")), Some(&false));
        assert_eq!(taken.get(&key("2")), Some(&true));
        assert!(notifier.take_written("orders").is_empty(), "taken once");
        assert!(notifier.take_written("customers").is_empty());
    }
}
