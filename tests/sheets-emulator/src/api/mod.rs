//! The Sheets API v4 data plane: in-memory spreadsheets and every REST endpoint sheetsync and
//! Google's client libraries use, with Google's semantics and error messages.
//!
//! | file | role |
//! |---|---|
//! | `http.rs` | routing (`:verb` paths, percent-encoded ranges, query parsing, `fields`) |
//! | `store.rs` | the one lock, atomic copy-and-commit writes, public helpers for Rust tests |
//! | `model.rs` | spreadsheets, sheets, sparse `Arc`-shared rows of cells |
//! | `a1.rs`, `ranges.rs` | A1 notation and `GridRange` resolution, grid-limit errors |
//! | `user_entered.rs` | `RAW` / `USER_ENTERED` input parsing, serial dates |
//! | `render.rs` | `valueRenderOption` / `dateTimeRenderOption`, number and date formats |
//! | `field_mask.rs` | `fields` masks for responses and update requests |
//! | `values.rs`, `values_write.rs`, `values_append.rs` | `spreadsheets.values.*` |
//! | `spreadsheets.rs` | `spreadsheets.create` / `get` / `getByDataFilter` |
//! | `batch_update.rs`, `batch_cells.rs`, `cells.rs` | `spreadsheets.batchUpdate` |
//! | `metadata.rs`, `developer_metadata.rs` | developer metadata, data filters, search |

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
