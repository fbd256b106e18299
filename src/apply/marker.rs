//! The echo marker's content: which rows and cells one transaction of sheetsync wrote.
//!
//! Written by the apply step as the last statement of every transaction that changed a mapped
//! table (`sheetsync.echo_marker`, one row per origin and connection, upserted); read back from
//! the binlog by [`super::echo::filter_echo`]. Format (JSON, version 1):
//! `{"v":1,"rows":[{"t":"db.table","k":[["id","42"]],"op":"u","c":{"total":"<fingerprint>"},"r":5}]}`
//! with `op` `i`nsert / `u`pdate / `d`elete, `k` the key columns and their canonical text,
//! `c` each written column and a fingerprint of the value written (so a trigger that rewrites
//! the same column is still seen), `r` the sheet row of an inserted row.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::webhook::ColumnMap;

/// The schema and table holding the markers.
pub const MARKER_SCHEMA: &str = "sheetsync";
pub const MARKER_TABLE: &str = "echo_marker";
pub const MARKER_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "i")]
    Insert,
    #[serde(rename = "u")]
    Update,
    #[serde(rename = "d")]
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkedRow {
    /// `database.table`.
    #[serde(rename = "t")]
    pub table: String,
    /// Key column name and canonical text, in key order.
    #[serde(rename = "k")]
    pub key: Vec<(String, String)>,
    #[serde(rename = "op")]
    pub operation: Operation,
    /// Column → fingerprint of the value written.
    #[serde(rename = "c", default)]
    pub columns: ColumnMap<String>,
    /// The sheet row an inserted row was typed in.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub sheet_row: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    #[serde(rename = "v")]
    pub version: u32,
    pub rows: Vec<MarkedRow>,
}

impl Marker {
    pub fn new() -> Self {
        Marker {
            version: MARKER_VERSION,
            rows: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"v\":1,\"rows\":[]}".into())
    }

    pub fn from_json(text: &str) -> Option<Marker> {
        serde_json::from_str(text).ok()
    }
}

/// The JSON of one marker holding the rows of `parts`, in order, without copying them: a group
/// commit's messages each have a marker and their transaction writes one. `None` when there
/// are no rows (nothing to mark). Serialising these types cannot fail; were it to, no row would
/// be marked, as with [`Marker::to_json`]'s fallback.
pub fn joined_json<'a>(parts: impl IntoIterator<Item = &'a Marker>) -> Option<String> {
    #[derive(Serialize)]
    struct Joined<'a> {
        #[serde(rename = "v")]
        version: u32,
        rows: Vec<&'a MarkedRow>,
    }
    let joined = Joined {
        version: MARKER_VERSION,
        rows: parts.into_iter().flat_map(|part| &part.rows).collect(),
    };
    if joined.rows.is_empty() {
        return None;
    }
    serde_json::to_string(&joined).ok()
}

/// A short fingerprint of a value's canonical text (`None` is NULL): 64 bits of SHA-256,
/// plenty to tell "the value sheetsync wrote" from "a value something else wrote".
pub fn fingerprint(text: Option<&str>) -> String {
    match text {
        None => "n".into(),
        Some(text) => {
            let digest = Sha256::digest(text.as_bytes());
            hex::encode(&digest[..8])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_round_trips_and_stays_small() {
        let mut marker = Marker::new();
        marker.rows.push(MarkedRow {
            table: "shop.orders".into(),
            key: vec![("id".into(), "42".into())],
            operation: Operation::Update,
            columns: [("total".to_string(), fingerprint(Some("12.5")))]
                .into_iter()
                .collect(),
            sheet_row: None,
        });
        let json = marker.to_json();
        assert!(
            json.starts_with("{\"v\":1,\"rows\":[{\"t\":\"shop.orders\""),
            "{json}"
        );
        assert_eq!(Marker::from_json(&json), Some(marker));
        assert_ne!(fingerprint(Some("")), fingerprint(None));
        assert_ne!(fingerprint(Some("1")), fingerprint(Some("2")));
        assert_eq!(fingerprint(Some("x")).len(), 16);
    }

    #[test]
    fn a_joined_marker_reads_back_as_the_rows_of_its_parts_in_order() {
        let row = |id: &str| MarkedRow {
            table: "shop.orders".into(),
            key: vec![("id".into(), id.into())],
            operation: Operation::Update,
            columns: [("total".to_string(), fingerprint(Some(id)))]
                .into_iter()
                .collect(),
            sheet_row: None,
        };
        let first = Marker {
            version: MARKER_VERSION,
            rows: vec![row("1"), row("2")],
        };
        let second = Marker {
            version: MARKER_VERSION,
            rows: vec![row("3")],
        };
        let json = joined_json([&first, &Marker::new(), &second]).expect("rows to mark");
        let read = Marker::from_json(&json).expect("a marker");
        assert_eq!(read.version, MARKER_VERSION);
        assert_eq!(read.rows, vec![row("1"), row("2"), row("3")]);
        assert_eq!(joined_json([&Marker::new(), &Marker::new()]), None);
    }
}
