//! The grid guard: the first request of a flush, refused by Sheets when the tab's grid has fewer
//! rows than the writer believes.
//!
//! Why: the writer places changes by row number, and a person who deletes a row moves every row
//! below it up by one before the `onChange` report reaches the writer (seconds, minutes when the
//! script's delivery is queued, never when the script is not installed). A flush planned
//! against the old rows would write each change onto the row below its key's, and delete the
//! row below the one it meant. Sheets has no conditional write, but a batch is atomic and any
//! request naming a cell outside the grid fails it whole; a deleted row always shortens the
//! grid. So the guard names the last grid row the writer knows of, and a flush planned before a
//! person deleted rows changes nothing; the writer restarts from its checkpoint and re-reads the
//! tab (`SheetsError::is_sheet_changed`). Inserted rows lengthen the grid and are not caught;
//! sorts change no size: those rely on the structure report alone.
//!
//! The guard pastes the last row's first cell onto itself: valid, it changes nothing. (Assumed
//! from how Sheets validates every `GridRange`; the emulator models it so. Google's own
//! `exceeds grid limits` text is not needed to recognise the refusal: a 400 naming `copyPaste`
//! can only be the guard.)

use crate::sheets::model::{CopyPasteRequest, GridRange, Request};
use crate::sync::layout::TabLayout;

/// The guard for one tab, or `None` for a tab without rows (nothing to place by number).
pub fn grid_guard(layout: &TabLayout) -> Option<Request> {
    let last_row = layout.grid_rows.checked_sub(1)?;
    let cell = GridRange {
        sheet_id: layout.sheet_id,
        start_row_index: Some(last_row),
        end_row_index: Some(last_row + 1),
        start_column_index: Some(0),
        end_column_index: Some(1),
    };
    Some(Request::CopyPaste(CopyPasteRequest {
        source: cell.clone(),
        destination: cell,
        paste_type: "PASTE_NORMAL".into(),
        paste_orientation: "NORMAL".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_names_the_last_grid_row_the_writer_knows_of() {
        let layout = TabLayout::empty(7, "People", 12, 3);
        let Some(Request::CopyPaste(guard)) = grid_guard(&layout) else {
            panic!("a guard for a tab with rows");
        };
        assert_eq!(guard.source, guard.destination, "pasted onto itself");
        assert_eq!(
            (
                guard.source.sheet_id,
                guard.source.start_row_index,
                guard.source.end_row_index,
                guard.source.start_column_index,
                guard.source.end_column_index
            ),
            (7, Some(11), Some(12), Some(0), Some(1))
        );
        let json = serde_json::to_value(Request::CopyPaste(guard)).expect("json");
        assert_eq!(json["copyPaste"]["pasteType"], "PASTE_NORMAL", "{json}");
        assert_eq!(json["copyPaste"]["source"]["startRowIndex"], 11, "{json}");
    }

    #[test]
    fn a_tab_without_rows_has_no_guard() {
        assert_eq!(grid_guard(&TabLayout::empty(7, "People", 0, 3)), None);
    }
}
