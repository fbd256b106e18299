//! Size estimate of a pending row: ≈ the JSON bytes it adds to a `spreadsheets.batchUpdate`,
//! so the writer can flush before the ~2 MB payload limit (DESIGN §2.3).
//!
//! Cells are measured exactly (serialized into a byte counter); the request around them is a
//! constant measured on typical requests (9-digit sheet id, 5-digit row index). Which request a
//! row becomes depends on the sheet (is the key there?), which the coalescer does not know, so
//! an upsert that changed every column is priced as a row appended with others (one shared
//! updateCells), any other upsert or write-back as its own updateCells.

use std::io;

use crate::sheets::model::CellData;

use super::RowUpdate;

/// `{"updateCells":{"rows":[{"values":[…]}],"fields":"…","start":{…}}},` around the cells.
const UPDATE_REQUEST_BYTES: usize = 163;
/// `{"values":[…]},` inside an updateCells shared by consecutive appended rows.
const APPENDED_ROW_BYTES: usize = 14;
/// `{"deleteDimension":{"range":{…}}},`
const DELETE_REQUEST_BYTES: usize = 108;
/// Extra mask text (`,note`) when a cell carries a note.
const NOTE_MASK_BYTES: usize = 5;

pub(super) fn estimate(update: &RowUpdate) -> usize {
    match update {
        RowUpdate::Delete => DELETE_REQUEST_BYTES,
        RowUpdate::Cells { cells } => {
            UPDATE_REQUEST_BYTES + cells_bytes(cells.iter().map(|(_, cell)| cell))
        }
        RowUpdate::Upsert { cells, changed } => {
            let whole_row = cells.iter().all(|(name, _)| changed.contains(name));
            if whole_row {
                APPENDED_ROW_BYTES + cells_bytes(cells.iter().map(|(_, cell)| cell))
            } else {
                let written = cells
                    .iter()
                    .filter(|(name, _)| changed.contains(name))
                    .map(|(_, cell)| cell);
                UPDATE_REQUEST_BYTES + cells_bytes(written)
            }
        }
    }
}

fn cells_bytes<'a>(cells: impl Iterator<Item = &'a CellData>) -> usize {
    let mut counter = ByteCounter(0);
    let mut separators: usize = 0;
    let mut notes = false;
    for cell in cells {
        // Serializing these types cannot fail (no maps with non-string keys); an error would
        // only make the estimate smaller, never stop the stream.
        let _ = serde_json::to_writer(&mut counter, cell);
        separators += 1;
        notes |= cell.note.is_some();
    }
    counter.0 + separators.saturating_sub(1) + if notes { NOTE_MASK_BYTES } else { 0 }
}

/// Counts what is written, keeps nothing.
struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.0 += buffer.len();
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
