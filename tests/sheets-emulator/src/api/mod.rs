//! The Sheets API v4 data plane: in-memory spreadsheets and every REST endpoint sheetsync and
//! Google's client libraries use, with Google's semantics and error messages.
//!
//! | file | role |
//! |---|---|
//! | `http.rs` | routing (`:verb` paths, percent-encoded ranges, query parsing, `fields`) |
//! | `store.rs` | the one lock, atomic copy-and-commit writes, public helpers for Rust tests |
//! | `model.rs` | spreadsheets, sheets, sparse `Arc`-shared rows of cells |
//! | `a1.rs`, `ranges.rs` | A1 notation and `GridRange` resolution, grid-limit errors |
//! | `user_entered.rs`, `serial_date.rs` | `RAW` / `USER_ENTERED` input parsing, serial dates |
//! | `render.rs` | `valueRenderOption` / `dateTimeRenderOption`, number and date formats |
//! | `field_mask.rs` | `fields` masks for responses and update requests |
//! | `values.rs`, `values_write.rs`, `values_append.rs` | `spreadsheets.values.*` |
//! | `spreadsheets.rs` | `spreadsheets.create` / `get` / `getByDataFilter` |
//! | `batch_update.rs`, `batch_cells.rs`, `cells.rs` | `spreadsheets.batchUpdate` |
//! | `metadata.rs`, `developer_metadata.rs` | developer metadata, data filters, search |
//!
//! # Modelled
//! - Endpoints: `spreadsheets.create` (with initial `sheets[].data`), `get` (`fields`, repeated `ranges`, `includeGridData`;
//!   a `fields` mask alone decides whether grid data is returned), `getByDataFilter` (A1 and
//!   grid-range filters), `batchUpdate`; `values.get`, `batchGet`, `update`, `batchUpdate`,
//!   `append`, `clear`, `batchClear`; `developerMetadata.search` and `.get`. Unknown standard
//!   query parameters are ignored; `fields` (`.` or `/` paths, `(…)` groups, `*`) trims every
//!   successful response.
//! - `batchUpdate` requests: `addSheet`, `deleteSheet`, `updateSheetProperties` (title, index,
//!   hidden, rowCount, columnCount, frozen counts), `updateSpreadsheetProperties` (title,
//!   locale, timeZone), `insertDimension`, `deleteDimension`, `appendDimension`, `updateCells`
//!   (`start` or `range`; `userEnteredValue`, `note`, `userEnteredFormat` masks), `appendCells`,
//!   `repeatCell`, `createDeveloperMetadata`, `updateDeveloperMetadata`,
//!   `deleteDeveloperMetadata`; `updateDimensionProperties` and `autoResizeDimensions` are
//!   validated no-ops. Replies are 1:1; the batch is atomic; errors are prefixed
//!   `Invalid requests[i].<kind>: `; an unknown request kind gets Google's JSON-payload error.
//! - A1 notation (quoted and doubled-quote names, open ranges, bare cells on the first visible
//!   sheet, `$` markers), Google's range normalisation and quoting in responses.
//! - RAW vs USER_ENTERED (numbers, grouped numbers, percents, dollars, booleans, ISO and US dates
//!   and date-times, times, leading `'`, `=` formulas); `null` skips, `""` clears; trailing
//!   empties trimmed on read; FORMATTED_VALUE / UNFORMATTED_VALUE / FORMULA and SERIAL_NUMBER /
//!   FORMATTED_STRING; number patterns (`0.00`, `#,##0`, `0%`, `"$"#,##0.00`) and date patterns.
//! - Limits: grid bounds (reads and writes), "Requested writing within range", 50,000 characters
//!   per cell, 10,000,000 cells per spreadsheet on create, addSheet, append, insert/append
//!   dimension and updateSheetProperties; `valueInputOption` required.
//! - Developer metadata on the spreadsheet, a sheet, or one row or column; row and column
//!   metadata moves with inserts and deletes and is deleted with its row, column or sheet;
//!   lookups by id, key, value, visibility, location type and location (exact or
//!   intersecting), and by A1 or grid range.
//!
//! # Not modelled
//! - Formulas are stored, never evaluated: a formula cell reads back as its formula text with
//!   every render option and has no `effectiveValue`.
//! - Number formats other than the simple patterns above; locales other than en_US; time zones.
//! - Named ranges, R1C1 notation, merges, protected ranges, filters, charts, conditional
//!   formats, data validation, row and column pixel sizes, `*ByDataFilter` value methods, Drive.
//! - Cell formats are stored as given (`userEnteredFormat`) and echoed as `effectiveFormat`.

pub mod a1;
mod batch_cells;
mod batch_update;
mod cells;
mod developer_metadata;
pub mod field_mask;
mod http;
pub mod metadata;
pub mod model;
pub mod ranges;
pub mod render;
pub mod serial_date;
mod spreadsheets;
mod store;
pub mod user_entered;
mod values;
mod values_append;
mod values_write;

use axum::Router;

use crate::SharedState;

pub use store::Store;

/// The Sheets v4 routes (`/v4/spreadsheets...`). The control layer wraps them.
pub fn routes() -> Router<SharedState> {
    http::routes()
}
