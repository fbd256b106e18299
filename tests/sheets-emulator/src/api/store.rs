//! The store: every spreadsheet behind one lock, so each API call is atomic, plus the public
//! helpers Rust tests use directly on `state.store`.
//!
//! Writes run on a copy of the spreadsheet and are committed only when the whole call
//! succeeded. The copy is cheap: rows and metadata are `Arc`-shared and copied on first write
//! (see `model.rs`), so a batch touching 10 rows of a 100,000-row sheet copies 10 rows, not the
//! sheet. That is simpler than an undo log and keeps every request kind atomic for free.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

use super::model::Spreadsheet;
use super::render::{self, DateTimeRender, ValueRender};
use super::{batch_update, spreadsheets};
use crate::error::ApiError;

#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    spreadsheets: HashMap<String, Spreadsheet>,
    identifiers: Identifiers,
}

/// Random-looking identifiers (sheet ids, metadata ids, spreadsheet ids) from a deterministic
/// xorshift generator: reproducible runs, no dependency on a random-number crate.
pub struct Identifiers {
    state: u64,
}

impl Default for Identifiers {
    fn default() -> Self {
        Identifiers {
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Identifiers {
    fn next(&mut self) -> u64 {
        let mut value = self.state;
        value ^= value << 13;
        value ^= value >> 7;
        value ^= value << 17;
        self.state = value;
        value
    }

    /// A positive 31-bit id, like Google's sheet and metadata ids.
    pub fn small_id(&mut self) -> i64 {
        (self.next() % 2_000_000_000) as i64 + 1
    }

    /// A 44-character id from Google's alphabet.
    pub fn spreadsheet_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut id = String::from("1");
        while id.len() < 44 {
            id.push(ALPHABET[(self.next() % 64) as usize] as char);
        }
        id
    }
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Requested entity was not found.")
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in one handler must not wedge the emulator for every later test.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run a read-only call on one spreadsheet.
    pub(crate) fn read<T>(
        &self,
        spreadsheet_id: &str,
        call: impl FnOnce(&Spreadsheet) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let inner = self.lock();
        let spreadsheet = inner
            .spreadsheets
            .get(spreadsheet_id)
            .ok_or_else(not_found)?;
        call(spreadsheet)
    }

    /// Run a writing call on a copy of one spreadsheet; commit only if it succeeded.
    pub(crate) fn write<T>(
        &self,
        spreadsheet_id: &str,
        call: impl FnOnce(&mut Spreadsheet, &mut Identifiers) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut inner = self.lock();
        let Inner {
            spreadsheets,
            identifiers,
        } = &mut *inner;
        let committed = spreadsheets.get_mut(spreadsheet_id).ok_or_else(not_found)?;
        let mut working = committed.clone();
        let result = call(&mut working, identifiers)?;
        *committed = working;
        Ok(result)
    }

    /// Build and insert a new spreadsheet.
    pub(crate) fn insert_new(
        &self,
        build: impl FnOnce(&mut Identifiers) -> Result<Spreadsheet, ApiError>,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let spreadsheet = build(&mut inner.identifiers)?;
        let response = spreadsheets::spreadsheet_json(&spreadsheet, None, false)?;
        inner
            .spreadsheets
            .insert(spreadsheet.spreadsheet_id.clone(), spreadsheet);
        Ok(response)
    }

    // ----- Public helpers for Rust tests (the wire API is the main interface). -----

    /// Create a spreadsheet with the given tab titles (1000×26 each; none given: one "Sheet1").
    /// Returns its id. Same as `POST /v4/spreadsheets`.
    pub fn create_spreadsheet(&self, title: &str, sheet_titles: &[&str]) -> String {
        let sheets: Vec<Value> = sheet_titles
            .iter()
            .map(|title| json!({"properties": {"title": title}}))
            .collect();
        let body = json!({"properties": {"title": title}, "sheets": sheets});
        self.create_from_json(&body)
            .ok()
            .and_then(|response| response["spreadsheetId"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// `spreadsheets.create` with a `Spreadsheet` JSON body; returns the created resource.
    pub fn create_from_json(&self, body: &Value) -> Result<Value, ApiError> {
        spreadsheets::create(self, body)
    }

    /// The ids of all spreadsheets.
    pub fn spreadsheet_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().spreadsheets.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Tab titles in order.
    pub fn sheet_titles(&self, spreadsheet_id: &str) -> Option<Vec<String>> {
        self.read(spreadsheet_id, |spreadsheet| {
            Ok(spreadsheet
                .sheets
                .iter()
                .map(|sheet| sheet.title.clone())
                .collect())
        })
        .ok()
    }

    /// `(rowCount, columnCount)` of a tab.
    pub fn grid_size(&self, spreadsheet_id: &str, sheet_title: &str) -> Option<(u32, u32)> {
        self.read(spreadsheet_id, |spreadsheet| {
            let index = spreadsheet
                .sheet_index_by_title(sheet_title)
                .ok_or_else(not_found)?;
            let sheet = &spreadsheet.sheets[index];
            Ok((sheet.row_count, sheet.column_count))
        })
        .ok()
    }

    /// A tab's values as `values.get(UNFORMATTED_VALUE, SERIAL_NUMBER)` returns them: rows up to
    /// the last one with a value, each row up to its last value, empty cells as `""`, numbers
    /// as JSON numbers, booleans as JSON booleans, formulas as their text.
    pub fn sheet_values(&self, spreadsheet_id: &str, sheet_title: &str) -> Option<Vec<Vec<Value>>> {
        self.read(spreadsheet_id, |spreadsheet| {
            let index = spreadsheet
                .sheet_index_by_title(sheet_title)
                .ok_or_else(not_found)?;
            let sheet = &spreadsheet.sheets[index];
            let mut rows: Vec<Vec<Value>> = sheet
                .rows
                .iter()
                .map(|row| {
                    let mut values: Vec<Value> = row
                        .iter()
                        .map(|cell| {
                            render::render(
                                Some(cell),
                                ValueRender::Unformatted,
                                DateTimeRender::SerialNumber,
                            )
                        })
                        .collect();
                    while values.last().is_some_and(|value| value == "") {
                        values.pop();
                    }
                    values
                })
                .collect();
            while rows.last().is_some_and(Vec::is_empty) {
                rows.pop();
            }
            Ok(rows)
        })
        .ok()
    }

    /// One cell's note, if any (row and column 0-based).
    pub fn cell_note(
        &self,
        spreadsheet_id: &str,
        sheet_title: &str,
        row: u32,
        column: u32,
    ) -> Option<String> {
        self.read(spreadsheet_id, |spreadsheet| {
            let index = spreadsheet
                .sheet_index_by_title(sheet_title)
                .ok_or_else(not_found)?;
            Ok(spreadsheet.sheets[index]
                .cell(row, column)
                .and_then(|cell| cell.note.clone()))
        })
        .ok()
        .flatten()
    }

    /// All developer metadata of a spreadsheet as `DeveloperMetadata` JSON, by id.
    pub fn developer_metadata(&self, spreadsheet_id: &str) -> Option<Vec<Value>> {
        self.read(spreadsheet_id, |spreadsheet| {
            Ok(spreadsheet
                .metadata
                .values()
                .map(|metadata| metadata.to_json())
                .collect())
        })
        .ok()
    }

    /// Apply a `spreadsheets.batchUpdate` body directly (e.g. to simulate a person inserting
    /// rows or editing cells). Same semantics and errors as the HTTP call.
    pub fn batch_update(&self, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
        batch_update::batch_update(self, spreadsheet_id, body)
    }

    /// Write values like `values.update` (`USER_ENTERED` when `user_entered`, else `RAW`).
    pub fn set_values(
        &self,
        spreadsheet_id: &str,
        range: &str,
        values: Vec<Vec<Value>>,
        user_entered: bool,
    ) -> Result<Value, ApiError> {
        let option = if user_entered { "USER_ENTERED" } else { "RAW" };
        let body =
            json!({"valueInputOption": option, "data": [{"range": range, "values": values}]});
        super::values_write::batch_update(self, spreadsheet_id, &body)
    }
}
