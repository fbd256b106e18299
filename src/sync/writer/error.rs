//! The writer's error: every failure classified transient (the pipeline restarts from the
//! stored checkpoint) or definite.

use crate::sync::checkpoint::CheckpointError;
use crate::sync::plan::PlanError;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("spreadsheet {spreadsheet_id}: {source}")]
    Sheets {
        spreadsheet_id: String,
        source: CheckpointError,
    },
    #[error("spreadsheet {spreadsheet_id}: {source}")]
    Plan {
        spreadsheet_id: String,
        source: PlanError,
    },
    /// The row guard refused the flush (`plan/row_guard.rs`): nothing was applied.
    #[error("spreadsheet {spreadsheet_id}: people inserted or deleted rows of a synced tab since it was read; the flush was refused whole and is planned again from a fresh read ({source})")]
    RowsMoved {
        spreadsheet_id: String,
        source: crate::sheets::SheetsError,
    },
}

impl WriterError {
    /// Transient: retry from the checkpoint. A flush refused because people changed the grid's
    /// shape (rows or the tab deleted before their `onChange` report reached the writer) is one:
    /// nothing was applied, and the restart re-reads the tab before planning again.
    pub fn is_transient(&self) -> bool {
        match self {
            WriterError::Sheets { source, .. } => {
                source.is_transient() || source.is_sheet_changed()
            }
            WriterError::Plan { source, .. } => source.is_transient(),
            WriterError::RowsMoved { .. } => true,
        }
    }
}
