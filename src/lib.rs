//! sheetsync keeps MySQL/MariaDB tables and Google Sheets tabs in two-way, real-time sync.
//!
//! # Data flow
//! ```text
//!             row-based binlog (pseudo-replica)                       one atomic spreadsheets.batchUpdate
//!  MySQL ───────────────────────────────────────► decode ─► coalesce ─────────────────────────────────────► Google Sheets
//!    ▲        transactions carrying the echo marker are dropped here        cells + checkpoint together          │
//!    │                                                                                                          │ Apps Script
//!    └──────── apply (one MySQL txn: compare-and-set + echo marker) ◄── signed webhook ◄────────────────────────┘ onEdit / onChange
//! ```
//!
//! # Invariants
//! - **Whole transactions only.** Row changes are released at commit; a rolled-back or partially
//!   read transaction never reaches a sheet. The one exception is a transaction over 8 MiB of
//!   decoded rows: it is released in parts as it is read so memory stays bounded, while the
//!   checkpoint still moves only at its commit (a crash replays it whole).
//! - **Schema of the event, not of today.** Column names, types and charsets come from the
//!   TABLE_MAP event's own metadata (`binlog_row_metadata=FULL`), never from `information_schema`.
//! - **Checkpoint with the data.** The binlog position is written in the same atomic
//!   `spreadsheets.batchUpdate` as the cells it covers, so sheet content and position never
//!   disagree and replay after a crash is exact (writes are keyed by primary key, so idempotent).
//! - **No echo.** Every transaction sheetsync writes to MySQL carries an echo-marker row; the
//!   binlog reader drops those changes (but not columns the database itself changed in them).
//!
//! # Modules
//! - [`config`]: the TOML config with `SHEETSYNC_…` environment overrides; secrets redacted.
//! - [`preflight`]: `sheetsync check`'s database-side checks, each failure with its fix.
//! - [`binlog`]: the replica connection and decoder: raw events → whole, typed [`binlog::Transaction`]s
//!   with the position after each, reconnecting from the last committed position.
//! - [`position`]: binlog positions (MariaDB GTID list, MySQL GTID set, file:offset).
//! - [`value`]: the typed value a binlog column decodes to.
//! - [`sheets`]: the Google Sheets API client: auth, calls, retries, quota, typed model.
//! - [`sync`]: MySQL → Sheets stages: route, coalesce, plan, write with the checkpoint.
//! - [`webhook`]: `POST /webhook` for sheet edits: HMAC-signed, validated, de-duplicated, then applied.
//! - [`apply`]: sheet edits applied to MySQL (compare-and-set, conflicts, echo marker) and the echo filter.

pub mod admin;
pub mod apply;
pub mod binlog;
pub mod cell;
pub mod channel;
pub mod config;
pub mod lease;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod position;
pub mod preflight;
pub mod service;
pub mod sheets;
pub mod status;
pub mod sync;
pub mod value;
pub mod webhook;
