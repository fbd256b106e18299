//! Rows a person added, placed where they are now, not where they were.
//!
//! The webhook side inserts a table row for a keyless sheet row and names the sheet row the
//! person typed it in ([`WriterMessage::KeyPlaced`](crate::sync::router::WriterMessage)). The
//! binlog echo of that insert still reaches the writer (the person's cells and the database's
//! defaults) and must land on the person's row: appended, it would be in the tab twice once the
//! script writes the key into the person's row. But the row number is the one the person saw
//! while typing. Rows deleted, inserted or sorted above it before the delivery was applied (a
//! delivery queued through an outage, a person quicker than the network) moved the row, and the
//! writer may not know yet: the structure report is behind the edit in the script's queue.
//! Written by that number, the row lands one row off, over another row or below the data.
//!
//! So a placement is never taken on trust. Consumes the placements not yet seen in the sheet
//! and a fresh read of the tab (key column, and the columns the person typed); produces, for
//! each, where it goes. Guarantees:
//! - a key the sheet already shows is not placed again (the script wrote it: done);
//! - otherwise it goes to the keyless row holding every typed cell nearest to the row the
//!   message named (the upper one on a tie) — the rule the script follows in
//!   `relocatedRow_` to write the key, so both pick the same row;
//! - with nothing to compare (no typed cell the tab shows) or no row holding the typed cells
//!   (the person changed them since, or a value reads back differently), the named row if it is
//!   keyless, else nowhere: the insert is then appended like any row the tab lacks.
//!
//! Costs: the writer re-reads the tab before the first flush after a placement, plus one
//! `values.batchGet` of the typed columns; rows are added by hand, so this is rare.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::sheets::a1::{column_letters, quote_sheet_title};
use crate::sheets::{SheetsClient, SheetsError};
use crate::sync::layout::{TabLayout, HEADER_ROWS};
use crate::sync::{json_key_text, RowKey};

/// How long a placement not yet seen in the sheet is kept (re-checked after every re-read).
pub(super) const PLACEMENT_TTL: Duration = Duration::from_secs(10 * 60);
/// Placements kept at most (the oldest go first); people add rows by hand.
pub(super) const MAX_PLACEMENTS: usize = 10_000;

/// A row the webhook side inserted for a keyless sheet row.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub tab: usize,
    pub key: RowKey,
    /// 1-based, as the message named it.
    pub sheet_row: u32,
    /// The cells the person typed: column name and canonical cell text.
    pub typed: Vec<(Arc<str>, String)>,
    pub received: Instant,
}

/// A tab's typed columns as read: column name → canonical text of each data row (index 0 is
/// sheet row 2; rows past the end are empty).
pub type TypedColumns = HashMap<Arc<str>, Vec<String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementDecision {
    /// The sheet shows the key already: nothing to place, and the placement is done.
    InSheet,
    /// The key goes on this grid row (0-based; the header is row 0).
    At(u32),
    /// No row fits: the insert is appended like any row the tab lacks.
    Nowhere,
}

/// See the module documentation.
pub fn decide(
    layout: &TabLayout,
    placement: &Placement,
    typed_columns: &TypedColumns,
) -> PlacementDecision {
    if layout.row_of(&placement.key).is_some() {
        return PlacementDecision::InSheet;
    }
    let named = placement.sheet_row.saturating_sub(1);
    if named < HEADER_ROWS {
        return PlacementDecision::Nowhere;
    }
    let columns: Option<Vec<(&Vec<String>, &str)>> = placement
        .typed
        .iter()
        .map(|(column, text)| {
            typed_columns
                .get(column)
                .map(|cells| (cells, text.as_str()))
        })
        .collect();
    if let Some(columns) = columns.filter(|columns| !columns.is_empty()) {
        let rows = columns
            .iter()
            .map(|(cells, _)| cells.len())
            .max()
            .unwrap_or(0);
        let mut best: Option<u32> = None;
        for index in 0..rows {
            let grid_row = HEADER_ROWS.saturating_add(u32::try_from(index).unwrap_or(u32::MAX));
            let holds = columns.iter().all(|(cells, text)| {
                cells.get(index).map(String::as_str).unwrap_or_default() == *text
            });
            let nearer = best.is_none_or(|best| grid_row.abs_diff(named) < best.abs_diff(named));
            if holds && nearer && layout.key_at(grid_row).is_none() {
                best = Some(grid_row);
            }
        }
        if let Some(grid_row) = best {
            return PlacementDecision::At(grid_row);
        }
    }
    if layout.key_at(named).is_none() {
        PlacementDecision::At(named)
    } else {
        PlacementDecision::Nowhere
    }
}

/// Reads, in one `values.batchGet`, the columns the placements' people typed, per tab (tabs
/// without a placement, and columns the tab lacks, are left out).
pub(super) async fn read_typed_columns(
    client: &SheetsClient,
    spreadsheet_id: &str,
    layouts: &[TabLayout],
    titles: &[String],
    placements: &[Placement],
    cancel: &CancellationToken,
) -> Result<Vec<TypedColumns>, SheetsError> {
    let mut wanted: Vec<(usize, Arc<str>)> = Vec::new();
    for placement in placements {
        for (column, _) in &placement.typed {
            if !wanted
                .iter()
                .any(|(tab, name)| *tab == placement.tab && name == column)
            {
                wanted.push((placement.tab, column.clone()));
            }
        }
    }
    let mut ranges = Vec::new();
    let mut targets = Vec::new();
    for (tab, name) in wanted {
        let (Some(layout), Some(title)) = (layouts.get(tab), titles.get(tab)) else {
            continue;
        };
        if let Some(column) = layout.column(&name) {
            let letters = column_letters(column);
            ranges.push(format!("{}!{letters}2:{letters}", quote_sheet_title(title)));
            targets.push((tab, name));
        }
    }
    let mut columns = vec![TypedColumns::new(); layouts.len()];
    if ranges.is_empty() {
        return Ok(columns);
    }
    let read = client
        .batch_get_values(spreadsheet_id, &ranges, cancel)
        .await?;
    for ((tab, name), range) in targets.into_iter().zip(read) {
        let texts = range
            .values
            .iter()
            .map(|row| {
                row.first()
                    .map(|cell| json_key_text(&serde_json::to_value(cell).unwrap_or_default()))
                    .unwrap_or_default()
            })
            .collect();
        columns[tab].insert(name, texts);
    }
    Ok(columns)
}

/// Drops placements past their time and the oldest beyond the cap.
pub(super) fn expire(placements: &mut Vec<Placement>, now: Instant) {
    placements
        .retain(|placement| now.saturating_duration_since(placement.received) < PLACEMENT_TTL);
    let excess = placements.len().saturating_sub(MAX_PLACEMENTS);
    placements.drain(..excess);
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
