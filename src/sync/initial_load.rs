//! The initial load of one mapping into its tab (DESIGN §2.9): the snapshot's rows written in
//! payload-sized batches, then one last batch that removes rows whose keys the table no longer
//! has and stores the mapping's checkpoint at the snapshot's position.
//!
//! Consumes a [`Snapshot`], the tab's layout and the spreadsheet's stored checkpoint; produces
//! the layout after the load and the updated stored checkpoint. The tab ends with each of the
//! table's keys once: rows whose key the table lacks and later copies of a key are removed (a
//! re-snapshot also heals a tab a shifted write left with a key twice). Guarantees: until the last batch
//! lands the mapping has no checkpoint entry, so a crash anywhere in the load makes the next
//! start load it again — and that is safe, because rows are placed by key (a reload rewrites
//! rows in place; nothing is doubled). The sheet's own extra columns survive: only synced
//! columns are written, and rows are never cleared wholesale.

use std::collections::HashSet;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::checkpoint::{Checkpoint, CheckpointError, StoredCheckpoint};
use super::coalesce::{Coalescer, FlushPolicy};
use super::layout::{KeyHash, TabLayout};
use super::plan::guard::grid_guard;
use super::plan::row_guard::{follow, head_row, place_row_guard, placed_row, row_guard};
use super::plan::{plan_tab, plan_tab_deleting, TabSpec};
use super::router::Router;
use super::send::send_flush;
use super::snapshot::Snapshot;
use super::tabs::load_layouts;
use super::writer::WriterError;
use super::StructureNotifier;
use crate::sheets::{SheetsClient, SheetsError};

/// Rows read from MySQL per query.
mod failures;

use failures::Failures;
pub use failures::{after_failure, AfterFailure, Replan};

pub const CHUNK_ROWS: usize = 2_000;

pub struct LoadTarget<'a> {
    pub client: &'a SheetsClient,
    pub spreadsheet_id: &'a str,
    pub mapping: &'a str,
    pub route: usize,
    pub spec: &'a TabSpec,
    pub policy: FlushPolicy,
    pub run_id: &'a str,
    /// Marked by the webhook side when people change the tab's rows.
    pub notifier: &'a StructureNotifier,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Snapshot(#[from] super::snapshot::SnapshotError),
    #[error(transparent)]
    Writer(#[from] WriterError),
}

impl LoadError {
    pub fn is_transient(&self) -> bool {
        match self {
            LoadError::Snapshot(error) => error.is_transient(),
            LoadError::Writer(error) => error.is_transient(),
        }
    }
}

/// Loads the mapping; returns the tab's layout after the load. `stored` is updated.
pub async fn load(
    target: LoadTarget<'_>,
    router: &Router,
    mut snapshot: Snapshot,
    mut layout: TabLayout,
    stored: &mut StoredCheckpoint,
    cancel: &CancellationToken,
) -> Result<TabLayout, LoadError> {
    let started = Instant::now();
    let spreadsheet_id = target.spreadsheet_id.to_string();
    let writer_error = |source| WriterError::Sheets {
        spreadsheet_id: spreadsheet_id.clone(),
        source,
    };
    let plan_error = |source| WriterError::Plan {
        spreadsheet_id: spreadsheet_id.clone(),
        source,
    };
    let mut seen: HashSet<KeyHash> = HashSet::new();
    let mut pending = Coalescer::new();
    let mut rows_total = 0u64;
    let mut batches = 0u64;
    loop {
        let chunk = snapshot.reader.next_chunk().await?;
        let done = chunk.is_empty();
        for row in &chunk {
            let change = router.snapshot_change(target.route, row);
            seen.insert(KeyHash::of(&change.key));
            pending.add(0, change.key, change.update, Instant::now());
            rows_total += 1;
        }
        // Write full payloads as they fill up, and the rest once the table is read.
        while !pending.is_empty() && (done || pending.estimated_bytes() >= target.policy.size_limit)
        {
            let batch = pending.take_at_most(target.policy.size_limit, |_, key| layout.row_of(key));
            let mut failures = Failures::default();
            loop {
                // A person changed the tab's rows since it was read (the webhook side's report):
                // positions planned from the old read could land on other keys' rows.
                if target.notifier.take_stale(target.mapping) {
                    layout = reread(&target, cancel).await.map_err(writer_error)?;
                }
                // The guards name the grid as it is before this batch grows it.
                let mut requests: Vec<_> = grid_guard(&layout).into_iter().collect();
                requests.extend(row_guard(&layout));
                let guards = requests.len();
                let head = head_row(&layout);
                let mark = layout.begin_changes();
                let plan = match plan_tab(&mut layout, target.spec, batch.tab_rows(0)) {
                    Ok(plan) => plan,
                    Err(error) => {
                        layout.undo_changes(mark);
                        return Err(plan_error(error).into());
                    }
                };
                if plan.requests.is_empty() {
                    layout.keep_changes(mark);
                    break;
                }
                let marker = head.and_then(|row| follow(row, layout.sheet_id, &plan.requests));
                requests.extend(plan.requests);
                requests.extend(place_row_guard(marker, &layout));
                // Sent once: a batch whose answer was lost may have been applied, and sending
                // the same positions again after people moved rows would write keys onto other
                // rows. After a failure the batch is planned again (from a fresh read of the tab
                // when it may have landed), which places each key where it is by then.
                match target
                    .client
                    .batch_update_once(target.spreadsheet_id, &requests, cancel)
                    .await
                {
                    Ok(_) => {
                        layout.keep_changes(mark);
                        layout.row_guard = placed_row(&layout);
                        batches += 1;
                        break;
                    }
                    Err(error) => {
                        layout.undo_changes(mark);
                        if failures
                            .wait(&target, (error.into(), guards), cancel)
                            .await
                            .map_err(writer_error)?
                            == Replan::FromFreshRead
                        {
                            layout = reread(&target, cancel).await.map_err(writer_error)?;
                        }
                    }
                }
            }
        }
        if done {
            break;
        }
    }
    snapshot.reader.finish().await?;
    // Rows whose keys the table does not have (left from an earlier load, or edits made while
    // nothing synced) go, in the same batch that stores the checkpoint.
    let mut mappings = stored.checkpoint.mappings.clone();
    mappings.insert(target.mapping.to_string(), snapshot.position.clone());
    let next = Checkpoint {
        version: 1,
        flush: format!("{}-load-{}", target.run_id, target.mapping),
        mappings,
    };
    let mut failures = Failures::default();
    // Read fresh: the rows to remove are named by position, and the tab may have moved under
    // the batches (people, or a batch that landed shifted).
    target.notifier.take_stale(target.mapping);
    layout = reread(&target, cancel).await.map_err(writer_error)?;
    let (plan, response) = loop {
        if target.notifier.take_stale(target.mapping) {
            layout = reread(&target, cancel).await.map_err(writer_error)?;
        }
        // Keys the table lacks, and later copies of a key (the tab ends equal to the table,
        // each key once; writes went to the first copy).
        let mut leftover: Vec<u32> = layout
            .keys()
            .filter(|key| !seen.contains(key))
            .filter_map(|key| layout.row_of_hash(key))
            .collect();
        leftover.extend(layout.copy_rows());
        let mut requests: Vec<_> = grid_guard(&layout).into_iter().collect();
        requests.extend(row_guard(&layout));
        let guards = requests.len();
        let head = head_row(&layout);
        let mark = layout.begin_changes();
        let plan = match plan_tab_deleting(&mut layout, target.spec, std::iter::empty(), leftover) {
            Ok(plan) => plan,
            Err(error) => {
                layout.undo_changes(mark);
                return Err(plan_error(error).into());
            }
        };
        let marker = head.and_then(|row| follow(row, layout.sheet_id, &plan.requests));
        requests.extend(plan.requests.iter().cloned());
        requests.extend(place_row_guard(marker, &layout));
        // Last: `StoredCheckpoint::stored` takes a new entry's id from the last reply that
        // created metadata.
        requests.push(stored.store_request(&next));
        let structure_changed = || target.notifier.is_stale(target.mapping);
        match send_flush(
            target.client,
            target.spreadsheet_id,
            &requests,
            (&next.flush, &structure_changed),
            cancel,
        )
        .await
        {
            Ok(response) => {
                layout.keep_changes(mark);
                layout.row_guard = placed_row(&layout);
                break (plan, response);
            }
            Err(error) => {
                layout.undo_changes(mark);
                // `send_flush` already waited and knows the batch was not applied (it reads
                // the checkpoint back): plan again from a fresh read.
                failures
                    .count(&target, (error, guards))
                    .map_err(writer_error)?;
                layout = reread(&target, cancel).await.map_err(writer_error)?;
            }
        }
    };
    drop(seen);
    stored.stored(next, response.as_ref());
    tracing::info!(
        mapping = target.mapping,
        rows = rows_total,
        batches = batches + 1,
        removed = plan.rows_deleted,
        position = %snapshot.position,
        seconds = started.elapsed().as_secs_f64(),
        "initial load done"
    );
    Ok(layout)
}

/// The tab read again.
async fn reread(
    target: &LoadTarget<'_>,
    cancel: &CancellationToken,
) -> Result<TabLayout, CheckpointError> {
    let mut layouts = load_layouts(
        target.client,
        target.spreadsheet_id,
        std::slice::from_ref(target.spec),
        cancel,
    )
    .await
    .map_err(CheckpointError::from)?;
    layouts.pop().ok_or_else(|| {
        CheckpointError::Sheets(SheetsError::Decode(format!(
            "tab of mapping {} missing from a fresh read",
            target.mapping
        )))
    })
}
