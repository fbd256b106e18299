//! One flush, run as a future while the writer keeps coalescing: reload stale layouts, plan
//! every tab in place behind its grid guard (`plan/guard.rs`) and row guard
//! (`plan/row_guard.rs`), place each written tab's row guard marker on its new last row, append
//! the checkpoint request, send it exactly once (see [`send_flush`]).
//! Guarantees: the layouts come back changed only when the sheet took the batch; a batch refused
//! by a guard changed nothing and comes back as [`WriterError::RowsMoved`] (transient: the
//! pipeline restarts from the checkpoint and reads the tabs again).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{FlushOutcome, FlushReport, WriterError};
use crate::sheets::responses::BatchUpdateResponse;
use crate::sheets::SheetsClient;
use crate::sync::checkpoint::Checkpoint;
use crate::sync::checkpoint::CheckpointError;
use crate::sync::coalesce::{PendingBatch, RowUpdate};
use crate::sync::layout::{Mark, TabLayout};
use crate::sync::plan::guard::grid_guard;
use crate::sync::plan::row_guard::{
    follow, head_row, place_row_guard, placed_row, refused_by_guard, row_guard,
};
use crate::sync::plan::{check_spreadsheet_cells, plan_tab, TabSpec};
use crate::sync::send::send_flush;
use crate::sync::tabs::load_layouts;
use crate::sync::StructureNotifier;

pub(super) struct FlushJob {
    pub(super) client: Arc<SheetsClient>,
    pub(super) spreadsheet_id: String,
    pub(super) specs: Vec<TabSpec>,
    pub(super) mappings: Vec<String>,
    pub(super) layouts: Vec<TabLayout>,
    pub(super) reload: bool,
    pub(super) renames: Vec<(usize, String, String)>,
    pub(super) store: crate::sheets::model::Request,
    pub(super) batch: PendingBatch,
    pub(super) next: Checkpoint,
    /// Report which keys the flush wrote or removed ([`FlushReport::written_keys`]).
    pub(super) collect_keys: bool,
    /// Asked before a resend: people moved rows since the plan (see [`send_flush`]).
    pub(super) notifier: StructureNotifier,
}

impl FlushJob {
    pub(super) async fn run(mut self, cancel: CancellationToken) -> FlushOutcome {
        let result = self.execute(&cancel).await;
        FlushOutcome {
            layouts: self.layouts,
            next: self.next,
            result,
        }
    }

    async fn execute(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(Option<BatchUpdateResponse>, FlushReport), WriterError> {
        if self.reload {
            self.layouts = load_layouts(&self.client, &self.spreadsheet_id, &self.specs, cancel)
                .await
                .map_err(|source| WriterError::Sheets {
                    spreadsheet_id: self.spreadsheet_id.clone(),
                    source: source.into(),
                })?;
        }
        // Planning changes the layouts in place; they keep the changes only once the sheet took
        // the requests, and are exactly as before otherwise (the writer then stops and the
        // pipeline restarts from the stored checkpoint, so a batch that failed but was applied
        // is never planned against this memory again).
        let marks: Vec<Mark> = self
            .layouts
            .iter_mut()
            .map(TabLayout::begin_changes)
            .collect();
        let result = self.plan_and_send(cancel).await;
        for (layout, mark) in self.layouts.iter_mut().zip(marks) {
            if result.is_ok() {
                layout.keep_changes(mark);
            } else {
                layout.undo_changes(mark);
            }
        }
        result
    }

    async fn plan_and_send(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(Option<BatchUpdateResponse>, FlushReport), WriterError> {
        // Guards first: a flush planned before a person deleted or inserted rows is refused whole.
        let written: Vec<usize> = (0..self.specs.len())
            .filter(|tab| self.batch.tab_rows(*tab).next().is_some())
            .collect();
        let mut requests: Vec<_> = written
            .iter()
            .filter_map(|tab| self.layouts.get(*tab).and_then(grid_guard))
            .collect();
        for tab in &written {
            if let Some(layout) = self.layouts.get(*tab) {
                requests.extend(row_guard(layout));
            }
        }
        let guards = requests.len();
        // Where each tab's marker is once the guards ran.
        let heads: Vec<Option<u32>> = self.layouts.iter().map(head_row).collect();
        for (tab, from, to) in &self.renames {
            if let Some(layout) = self.layouts.get_mut(*tab) {
                requests.extend(layout.rename_column(from, to));
            }
        }
        let mut report = FlushReport::default();
        let plan_error = |source| WriterError::Plan {
            spreadsheet_id: self.spreadsheet_id.clone(),
            source,
        };
        let mut tab_cells = Vec::with_capacity(self.specs.len());
        for (tab, spec) in self.specs.iter().enumerate() {
            let Some(layout) = self.layouts.get_mut(tab) else {
                continue;
            };
            let mut rows = self.batch.tab_rows(tab).peekable();
            if rows.peek().is_none() {
                tab_cells.push(u64::from(layout.grid_rows) * u64::from(layout.grid_columns));
                continue;
            }
            let plan = plan_tab(layout, spec, rows).map_err(plan_error)?;
            tab_cells.push(plan.peak_cells);
            report.cells += plan.cells_written;
            *report
                .cells_by_tab
                .entry(self.mappings[tab].clone())
                .or_default() += plan.cells_written;
            report.rows_appended += plan.rows_appended;
            report.rows_deleted += plan.rows_deleted;
            let marker = heads
                .get(tab)
                .copied()
                .flatten()
                .and_then(|row| follow(row, layout.sheet_id, &plan.requests));
            requests.extend(plan.requests);
            requests.extend(place_row_guard(marker, layout));
        }
        check_spreadsheet_cells(tab_cells).map_err(plan_error)?;
        // Last: `StoredCheckpoint::stored` takes a new entry's id from the last reply that
        // created metadata.
        requests.push(self.store.clone());
        let structure_changed = || {
            self.mappings
                .iter()
                .any(|mapping| self.notifier.is_stale(mapping))
        };
        let response = send_flush(
            &self.client,
            &self.spreadsheet_id,
            &requests,
            (&self.next.flush, &structure_changed),
            cancel,
        )
        .await
        .map_err(|source| match source {
            CheckpointError::Sheets(error) if refused_by_guard(&error, guards) => {
                WriterError::RowsMoved {
                    spreadsheet_id: self.spreadsheet_id.clone(),
                    source: error,
                }
            }
            source => WriterError::Sheets {
                spreadsheet_id: self.spreadsheet_id.clone(),
                source,
            },
        })?;
        for tab in &written {
            if let Some(layout) = self.layouts.get_mut(*tab) {
                layout.row_guard = placed_row(layout);
            }
        }
        if self.collect_keys {
            for tab in 0..self.specs.len() {
                for (key, row) in self.batch.tab_rows(tab) {
                    let present = match row.update {
                        RowUpdate::Upsert { .. } => true,
                        RowUpdate::Delete => false,
                        // Cells only: written where the key already is, or dropped.
                        RowUpdate::Cells { .. } => continue,
                    };
                    report.written_keys.push((tab, key.clone(), present));
                }
            }
        }
        Ok((response, report))
    }
}
