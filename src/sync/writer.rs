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
//!   is exact because the sheet and its checkpoint changed together or not at all;
//! - a late request of an earlier process, applied over this writer's flushes, is noticed by
//!   reading the checkpoint back, and the pipeline restarts from it (`writer/fence.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::checkpoint::{Checkpoint, CheckpointError, StoredCheckpoint};
use super::coalesce::{
    decide_flush, Coalescer, FlushDecision, FlushInputs, FlushPolicy, FlushReason, RowUpdate,
};
use super::layout::{KeyHash, TabLayout};
use super::plan::TabSpec;
use super::router::WriterMessage;
use super::{RowKey, StructureNotifier};
use crate::channel;
use crate::metrics::FlushReason as MetricsFlushReason;
use crate::position::BinlogPosition;
use crate::sheets::responses::BatchUpdateResponse;
use crate::sheets::SheetsClient;
use crate::status::Status;

mod error;
mod fence;
mod flush;
mod overtaken;
pub mod placement;
mod report;
mod schema;

pub use error::WriterError;
use flush::FlushJob;
use placement::PlacementWait;

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

/// What a finished flush reports.
#[derive(Debug, Clone, Default)]
pub struct FlushReport {
    pub cells: usize,
    /// Cells per mapping name.
    pub cells_by_tab: std::collections::HashMap<String, usize>,
    pub rows_appended: usize,
    pub rows_deleted: usize,
    /// (tab, key, true: its row is in the sheet now, false: removed), when the webhook side
    /// tracks keys ([`StructureNotifier::track_written_keys`]).
    pub written_keys: Vec<(usize, RowKey, bool)>,
}

type FlushFuture = Pin<Box<dyn Future<Output = FlushOutcome> + Send>>;
type FenceFuture = Pin<Box<dyn Future<Output = Result<StoredCheckpoint, CheckpointError>> + Send>>;

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
    /// People's new rows: the next flush waits, then re-reads the key columns (`placement.rs`).
    placement: PlacementWait,
    /// Rows an older change may overwrite after a person typed (`overtaken.rs`).
    recent: overtaken::RecentKeys,
    status: Option<Status>,
    flush_reason: Option<FlushReason>,
    /// Commit time of the oldest change pending (for lag), and of the one in flight.
    oldest_commit: Option<u32>,
    in_flight_oldest_commit: Option<u32>,
    last_status_update: Option<Instant>,
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
            placement: PlacementWait::default(),
            recent: overtaken::RecentKeys::default(),
            status: None,
            flush_reason: None,
            oldest_commit: None,
            in_flight_oldest_commit: None,
            last_status_update: None,
        }
    }

    /// Without a webhook no echo comes: the keys of each flush need not be remembered.
    pub fn without_echoes(mut self) -> Self {
        self.recent = overtaken::RecentKeys::unused();
        self
    }

    /// Report to the status page and its metrics.
    pub fn with_status(mut self, status: Option<Status>) -> Self {
        self.status = status;
        self
    }

    /// Runs until the channel closes and everything received is flushed (graceful stop: cancel
    /// the router, which closes the channel), or until a flush fails. `hard_stop` aborts Sheets
    /// calls in progress (the bounded end of a graceful shutdown).
    pub async fn run(
        mut self,
        mut receiver: channel::Receiver<WriterMessage>,
        shutdown: CancellationToken,
        hard_stop: CancellationToken,
    ) -> Result<(), WriterError> {
        let mut in_flight: Option<FlushFuture> = None;
        // Read-backs of the stored checkpoint (`writer/fence.rs`), never beside a flush.
        let mut fence_due = fence::schedule(Instant::now());
        let mut fence_read: Option<FenceFuture> = None;
        let mut closed = false;
        loop {
            let now = Instant::now();
            if in_flight.is_none()
                && fence_read.is_none()
                && !closed
                && fence_due.front().is_some_and(|due| *due <= now)
            {
                fence_due.pop_front();
                fence_read = Some(self.start_fence_read(hard_stop.clone()));
            }
            let shutting_down = closed || shutdown.is_cancelled();
            let token_wait = self.client.quota().writes.time_until_available();
            let inputs = FlushInputs {
                now,
                oldest: self.coalescer.oldest(),
                newest: self.coalescer.newest(),
                pending_bytes: self.coalescer.estimated_bytes(),
                backlog: !receiver.is_empty(),
                in_flight: in_flight.is_some() || fence_read.is_some(),
                token_ready_at: (!token_wait.is_zero()).then(|| now + token_wait),
                position_unsaved_since: self.position_unsaved_since,
                shutting_down,
            };
            let mut wake = None;
            let placing = self.placement.holds_until(now).filter(|_| !shutting_down);
            match (decide_flush(&inputs, &self.policy), placing) {
                (FlushDecision::Now(_), Some(at)) => wake = Some(at),
                (FlushDecision::Now(reason), None) if in_flight.is_none() => {
                    in_flight = Some(self.start_flush(reason, hard_stop.clone()));
                }
                (FlushDecision::WaitUntil(at), _) => wake = Some(at),
                _ => {}
            }
            if fence_read.is_none() {
                if let Some(due) = fence_due.front() {
                    wake = Some(wake.map_or(*due, |at: Instant| at.min(*due)));
                }
            }
            if in_flight.is_none() && self.coalescer.is_empty() {
                // Everything received is in the sheet: give the burst's memory back.
                crate::memory::release_free_memory();
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
                read = async { match fence_read.as_mut() { Some(read) => read.await, None => std::future::pending().await } }, if fence_read.is_some() => {
                    fence_read = None;
                    self.finish_fence_read(read)?;
                }
                message = receiver.recv(), if accepting => match message {
                    Some(message) => self.absorb(message.into_inner()),
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
                commit_unix_seconds,
                echoes,
                partial,
            } => {
                if !changes.is_empty() && self.oldest_commit.is_none() {
                    self.oldest_commit = Some(commit_unix_seconds);
                }
                for tab in &mut self.tabs {
                    if !tab.caught_up {
                        let covered = tab
                            .position
                            .as_ref()
                            .is_some_and(|saved| saved.covers(gtid.as_ref(), &position));
                        tab.caught_up = !covered;
                    }
                }
                self.add_changes(changes, echoes, now);
                for (tab, change) in schema_changes {
                    if self.tabs.get(tab).is_some_and(|tab| tab.caught_up) {
                        self.schema_change(tab, change);
                    }
                }
                if !partial {
                    self.coalescer.set_position(position);
                    if self.position_unsaved_since.is_none() {
                        self.position_unsaved_since = Some(now);
                    }
                }
                self.report_pending();
            }
            WriterMessage::WriteBack {
                tab,
                key,
                cells,
                whole_row,
            } => {
                let update = if whole_row {
                    // Reconcile's row: placed like a binlog upsert (appended when missing).
                    let changed = cells.iter().map(|(name, _)| name.clone()).collect();
                    RowUpdate::Upsert { cells, changed }
                } else {
                    RowUpdate::Cells { cells }
                };
                self.coalescer.add(tab, key, update, now);
            }
            WriterMessage::KeyPlaced {
                tab,
                key,
                sheet_row,
            } => {
                tracing::debug!(tab, %key, sheet_row, "a person's new row was inserted; the next flush re-reads the key columns");
                self.placement.key_placed(now);
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
        self.flush_reason = Some(reason);
        self.in_flight_oldest_commit = self.oldest_commit.take();
        let layouts = &self.layouts;
        let batch = self
            .coalescer
            .take_at_most(self.policy.size_limit, |tab, key| {
                layouts.get(tab).and_then(|layout| layout.row_of(key))
            });
        self.recent
            .taken(batch.rows.keys().map(|(tab, key)| (*tab, KeyHash::of(key))));
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
            mappings: self.tabs.iter().map(|tab| tab.mapping.clone()).collect(),
            layouts: std::mem::take(&mut self.layouts),
            reload: self.placement.take_for_flush() || stale.iter().any(|stale| *stale),
            renames: std::mem::take(&mut self.renames),
            store: self.stored.store_request(&next),
            batch,
            next,
            collect_keys: self.notifier.tracks_written_keys(),
            notifier: self.notifier.clone(),
        };
        Box::pin(job.run(cancel))
    }

    fn finish_flush(&mut self, outcome: FlushOutcome) -> Result<(), WriterError> {
        self.layouts = outcome.layouts;
        self.recent.landed(Instant::now());
        let (response, report) = outcome.result?;
        let reason = match self.flush_reason.take() {
            Some(FlushReason::Size) => MetricsFlushReason::Payload,
            Some(FlushReason::Interval) => MetricsFlushReason::Interval,
            Some(FlushReason::Shutdown) => MetricsFlushReason::Shutdown,
            Some(FlushReason::Checkpoint) => MetricsFlushReason::Checkpoint,
            Some(FlushReason::Linger) | None => MetricsFlushReason::Linger,
        };
        crate::metrics::record_flush(reason, report.cells);
        self.report_flush(&report, &outcome.next);
        // One lock per tab, not per key: a flush may carry tens of thousands of rows.
        for (index, tab) in self.tabs.iter().enumerate() {
            let keys = report
                .written_keys
                .iter()
                .filter(|(written, _, _)| *written == index)
                .map(|(_, key, present)| (key.clone(), *present));
            self.notifier.written(&tab.mapping, keys);
        }
        for tab in &mut self.tabs {
            if let Some(position) = outcome.next.mappings.get(&tab.mapping) {
                tab.position = Some(position.clone());
            }
        }
        self.stored.stored(outcome.next, response.as_ref());
        self.report_pending();
        Ok(())
    }
}
