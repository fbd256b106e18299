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
}
