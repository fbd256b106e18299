//! Writer: one task per spreadsheet. Coalesces the changes the router sends, decides when to
//! flush, plans each flush against its knowledge of the tabs, and sends it with the checkpoint.
//!
//! Consumes [`WriterMessage`]s from a bounded channel; produces one `spreadsheets.batchUpdate`
//! per flush (DESIGN §2.3–2.4). Guarantees:
//! - changes keep coalescing while a flush is in flight or the quota is spent, so a hot row
//!   costs one cell write per flush, and memory is bounded: past the size limit the writer stops
//!   reading its channel and the router (and so the binlog reader) waits;
//! - the checkpoint in a flush names, per tab, a position whose every change is in that flush or
//!   an earlier one; a tab replaying transactions its checkpoint already covers skips them;
//! - a flush that fails is not retried from memory beyond [`send_flush`]'s rules: the writer
//!   returns the error and the pipeline restarts every stage from the stored checkpoints, which
//!   is exact because the sheet and its checkpoint changed together or not at all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{Checkpoint, CheckpointError, StoredCheckpoint};
use super::coalesce::{
    decide_flush, Coalescer, FlushDecision, FlushInputs, FlushPolicy, FlushReason, PendingBatch,
    RowUpdate,
};
use super::ddl::SchemaChange;
use super::layout::TabLayout;
use super::plan::{plan_tab, PlanError, TabSpec};
use super::router::WriterMessage;
use super::send::send_flush;
use super::tabs::load_layouts;
use super::StructureNotifier;
use crate::position::BinlogPosition;
use crate::sheets::responses::BatchUpdateResponse;
use crate::sheets::{SheetsClient, SheetsError};

/// One mapping's tab as the writer tracks it.
#[derive(Debug, Clone)]
pub struct TabState {
    pub mapping: String,
    pub spec: TabSpec,
    /// The tab's stored checkpoint position.
    pub position: Option<BinlogPosition>,
    /// True once the stream passed the tab's checkpoint (its changes are no longer skipped).
    pub caught_up: bool,
    /// Why the tab no longer syncs (table dropped or truncated, too large).
    pub stalled: Option<String>,
}

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
}

impl WriterError {
    pub fn is_transient(&self) -> bool {
        match self {
            WriterError::Sheets { source, .. } => source.is_transient(),
            WriterError::Plan { source, .. } => source.is_transient(),
        }
    }
}

/// What a finished flush reports.
#[derive(Debug, Clone, Default)]
pub struct FlushReport {
    pub cells: usize,
    pub rows_appended: usize,
    pub rows_deleted: usize,
}

type FlushFuture = Pin<Box<dyn Future<Output = FlushOutcome> + Send>>;

struct FlushOutcome {
    layouts: Vec<TabLayout>,
    next: Checkpoint,
    result: Result<(Option<BatchUpdateResponse>, FlushReport), WriterError>,
}

pub struct Writer {
    spreadsheet_id: String,
    client: Arc<SheetsClient>,
    tabs: Vec<TabState>,
    layouts: Vec<TabLayout>,
    stored: StoredCheckpoint,
    coalescer: Coalescer,
    policy: FlushPolicy,
    notifier: StructureNotifier,
    run_id: String,
    sequence: u64,
    position_unsaved_since: Option<Instant>,
    /// Header renames waiting for the next flush: (tab, from, to).
    renames: Vec<(usize, String, String)>,
}

impl Writer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spreadsheet_id: String,
        client: Arc<SheetsClient>,
        tabs: Vec<TabState>,
        layouts: Vec<TabLayout>,
        stored: StoredCheckpoint,
        policy: FlushPolicy,
        notifier: StructureNotifier,
        run_id: String,
    ) -> Self {
        Self {
            spreadsheet_id,
            client,
            tabs,
            layouts,
            stored,
            coalescer: Coalescer::new(),
            policy,
            notifier,
            run_id,
            sequence: 0,
            position_unsaved_since: None,
            renames: Vec::new(),
        }
    }

    /// Runs until the channel closes and everything received is flushed (graceful stop: cancel
    /// the router, which closes the channel), or until a flush fails. `hard_stop` aborts Sheets
    /// calls in progress (the bounded end of a graceful shutdown).
    pub async fn run(
        mut self,
        mut receiver: mpsc::Receiver<WriterMessage>,
        shutdown: CancellationToken,
        hard_stop: CancellationToken,
    ) -> Result<(), WriterError> {
        let mut in_flight: Option<FlushFuture> = None;
        let mut closed = false;
        loop {
            let now = Instant::now();
            let shutting_down = closed || shutdown.is_cancelled();
            let token_wait = self.client.quota().writes.time_until_available();
            let inputs = FlushInputs {
                now,
                oldest: self.coalescer.oldest(),
                newest: self.coalescer.newest(),
                pending_bytes: self.coalescer.estimated_bytes(),
                in_flight: in_flight.is_some(),
                token_ready_at: (!token_wait.is_zero()).then(|| now + token_wait),
                position_unsaved_since: self.position_unsaved_since,
                shutting_down,
            };
            let mut wake = None;
            match decide_flush(&inputs, &self.policy) {
                FlushDecision::Now(reason) if in_flight.is_none() => {
                    in_flight = Some(self.start_flush(reason, hard_stop.clone()));
                }
                FlushDecision::WaitUntil(at) => wake = Some(at),
                _ => {}
            }
            if closed
                && in_flight.is_none()
                && self.coalescer.is_empty()
                && self.position_unsaved_since.is_none()
            {
                return Ok(());
            }
            let accepting = !closed && self.coalescer.estimated_bytes() < self.policy.size_limit;
            let wake_at = wake.map(tokio::time::Instant::from_std);
            tokio::select! {
                outcome = async { match in_flight.as_mut() { Some(flush) => flush.await, None => std::future::pending().await } }, if in_flight.is_some() => {
                    in_flight = None;
                    self.finish_flush(outcome)?;
                }
                message = receiver.recv(), if accepting => match message {
                    Some(message) => self.absorb(message),
                    None => closed = true,
                },
                _ = async { match wake_at { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } }, if wake_at.is_some() => {}
                _ = shutdown.cancelled(), if !shutting_down => {}
                _ = hard_stop.cancelled() => return Ok(()),
            }
        }
    }

    fn absorb(&mut self, message: WriterMessage) {
        let now = Instant::now();
        match message {
            WriterMessage::Transaction {
                gtid,
                position,
                changes,
                schema_changes,
                ..
            } => {
                for tab in &mut self.tabs {
                    if !tab.caught_up {
                        let covered = tab
                            .position
                            .as_ref()
                            .is_some_and(|saved| saved.covers(gtid.as_ref(), &position));
                        tab.caught_up = !covered;
                    }
                }
                for change in changes {
                    let Some(tab) = self.tabs.get(change.tab) else {
                        continue;
                    };
                    if tab.caught_up && tab.stalled.is_none() {
                        self.coalescer
                            .add(change.tab, change.key, change.update, now);
                    }
                }
                for (tab, change) in schema_changes {
                    if self.tabs.get(tab).is_some_and(|tab| tab.caught_up) {
                        self.schema_change(tab, change);
                    }
                }
                self.coalescer.set_position(position);
                if self.position_unsaved_since.is_none() {
                    self.position_unsaved_since = Some(now);
                }
            }
            WriterMessage::WriteBack { tab, key, cells } => {
                self.coalescer
                    .add(tab, key, RowUpdate::Cells { cells }, now);
            }
        }
    }

    fn schema_change(&mut self, tab: usize, change: SchemaChange) {
        let Some(state) = self.tabs.get_mut(tab) else {
            return;
        };
        let stall = |reason: String| {
            tracing::error!(mapping = %state.mapping, %reason, "mapping stopped");
            metrics::counter!("sheetsync_definite_errors_total", "kind" => "schema").increment(1);
            reason
        };
        match change {
            SchemaChange::RenameColumn { from, to } => {
                for column in &mut state.spec.columns {
                    if column.as_ref() == from {
                        *column = Arc::from(to.as_str());
                    }
                }
                for column in &mut state.spec.key_columns {
                    if column.as_ref() == from {
                        *column = Arc::from(to.as_str());
                    }
                }
                self.renames.push((tab, from, to));
            }
            SchemaChange::AddColumn(name) => {
                // The router passes ADD COLUMN only for mappings of every column. The planner
                // writes the spec's columns only, so the new one joins the spec: it gets a
                // header cell at the right at the next flush, and its values from then on.
                if !state
                    .spec
                    .columns
                    .iter()
                    .any(|column| column.as_ref() == name)
                {
                    state.spec.columns.push(Arc::from(name.as_str()));
                }
            }
            SchemaChange::DropColumn(_) => {
                // Its values simply stop arriving; the sheet column stays (DESIGN §2.8).
            }
            SchemaChange::Truncate => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was truncated; run `sheetsync snapshot --mapping {}` to reload the tab",
                    state.mapping, state.mapping
                )));
            }
            SchemaChange::DropTable => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was dropped",
                    state.mapping
                )));
            }
            SchemaChange::RenameTable { to } => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was renamed to {to}; update the mapping's `table`",
                    state.mapping
                )));
            }
        }
    }

    /// The checkpoint this flush stores: caught-up tabs move to the batch's position.
    fn next_checkpoint(&mut self, batch_position: Option<&BinlogPosition>) -> Checkpoint {
        self.sequence += 1;
        let mut mappings = self.stored.checkpoint.mappings.clone();
        for tab in &self.tabs {
            let position = match (tab.caught_up && tab.stalled.is_none(), batch_position) {
                (true, Some(position)) => Some(position.clone()),
                _ => tab.position.clone(),
            };
            if let Some(position) = position {
                mappings.insert(tab.mapping.clone(), position);
            }
        }
        Checkpoint {
            version: 1,
            flush: format!("{}-{}", self.run_id, self.sequence),
            mappings,
        }
    }

    fn start_flush(&mut self, reason: FlushReason, cancel: CancellationToken) -> FlushFuture {
        metrics::counter!("sheetsync_flushes_total", "reason" => reason.as_str()).increment(1);
        let batch = self.coalescer.take();
        let next = self.next_checkpoint(batch.position.as_ref());
        self.position_unsaved_since = None;
        let stale: Vec<bool> = self
            .tabs
            .iter()
            .map(|tab| self.notifier.take_stale(&tab.mapping))
            .collect();
        let job = FlushJob {
            client: self.client.clone(),
            spreadsheet_id: self.spreadsheet_id.clone(),
            specs: self.tabs.iter().map(|tab| tab.spec.clone()).collect(),
            layouts: std::mem::take(&mut self.layouts),
            reload: stale.iter().any(|stale| *stale),
            renames: std::mem::take(&mut self.renames),
            store: self.stored.store_request(&next),
            batch,
            next,
        };
        Box::pin(job.run(cancel))
    }

    fn finish_flush(&mut self, outcome: FlushOutcome) -> Result<(), WriterError> {
        self.layouts = outcome.layouts;
        let (response, report) = outcome.result?;
        metrics::histogram!("sheetsync_cells_per_flush").record(report.cells as f64);
        for tab in &mut self.tabs {
            if let Some(position) = outcome.next.mappings.get(&tab.mapping) {
                tab.position = Some(position.clone());
            }
        }
        self.stored.stored(outcome.next, response.as_ref());
        Ok(())
    }
}

struct FlushJob {
    client: Arc<SheetsClient>,
    spreadsheet_id: String,
    specs: Vec<TabSpec>,
    layouts: Vec<TabLayout>,
    reload: bool,
    renames: Vec<(usize, String, String)>,
    store: crate::sheets::model::Request,
    batch: PendingBatch,
    next: Checkpoint,
}

impl FlushJob {
    async fn run(mut self, cancel: CancellationToken) -> FlushOutcome {
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
        let spreadsheet_id = self.spreadsheet_id.clone();
        let sheets = |source: SheetsError| WriterError::Sheets {
            spreadsheet_id: spreadsheet_id.clone(),
            source: source.into(),
        };
        if self.reload {
            self.layouts = load_layouts(&self.client, &self.spreadsheet_id, &self.specs, cancel)
                .await
                .map_err(sheets)?;
        }
        let mut requests = Vec::new();
        for (tab, from, to) in &self.renames {
            if let Some(layout) = self.layouts.get_mut(*tab) {
                requests.extend(layout.rename_column(from, to));
            }
        }
        let mut report = FlushReport::default();
        let mut layouts_after = self.layouts.clone();
        for (tab, spec) in self.specs.iter().enumerate() {
            let Some(layout) = self.layouts.get(tab) else {
                continue;
            };
            let mut rows = self.batch.tab_rows(tab).peekable();
            if rows.peek().is_none() {
                continue;
            }
            let plan = plan_tab(layout, spec, rows).map_err(|source| WriterError::Plan {
                spreadsheet_id: self.spreadsheet_id.clone(),
                source,
            })?;
            report.cells += plan.cells_written;
            report.rows_appended += plan.rows_appended;
            report.rows_deleted += plan.rows_deleted;
            requests.extend(plan.requests);
            layouts_after[tab] = plan.layout_after;
        }
        requests.push(self.store.clone());
        let response = send_flush(
            &self.client,
            &self.spreadsheet_id,
            &requests,
            &self.next.flush,
            cancel,
        )
        .await
        .map_err(|source| WriterError::Sheets {
            spreadsheet_id: self.spreadsheet_id.clone(),
            source,
        })?;
        self.layouts = layouts_after;
        Ok((response, report))
    }
}
