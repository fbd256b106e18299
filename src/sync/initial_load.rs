//! The initial load of one mapping into its tab (DESIGN §2.9): the snapshot's rows written in
//! payload-sized batches, then one last batch that removes rows whose keys the table no longer
//! has and stores the mapping's checkpoint at the snapshot's position.
//!
//! Consumes a [`Snapshot`], the tab's layout and the spreadsheet's stored checkpoint; produces
//! the layout after the load and the updated stored checkpoint. Guarantees: until the last batch
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
use super::plan::{plan_tab, plan_tab_deleting, TabSpec};
use super::router::Router;
use super::send::send_flush;
use super::snapshot::Snapshot;
use super::tabs::load_layouts;
use super::writer::WriterError;
use crate::sheets::SheetsClient;

/// Rows read from MySQL per query.
pub const CHUNK_ROWS: usize = 2_000;

pub struct LoadTarget<'a> {
    pub client: &'a SheetsClient,
    pub spreadsheet_id: &'a str,
    pub mapping: &'a str,
    pub route: usize,
    pub spec: &'a TabSpec,
    pub policy: FlushPolicy,
    pub run_id: &'a str,
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
            let mut attempt = 0;
            loop {
                // The guard names the grid as it is before this batch grows it.
                let guard = grid_guard(&layout);
                let plan =
                    plan_tab(&mut layout, target.spec, batch.tab_rows(0)).map_err(plan_error)?;
                if plan.requests.is_empty() {
                    break;
                }
                // Row writes at explicit positions and header cells: applying this twice (a
                // lost answer, then a retry) writes the same cells again, so the retrying call
                // is safe. The grid guard first: see `reload_when_shortened`.
                let mut requests: Vec<_> = guard.into_iter().collect();
                requests.extend(plan.requests);
                match target
                    .client
                    .batch_update(target.spreadsheet_id, &requests, cancel)
                    .await
                {
                    Ok(_) => {
                        batches += 1;
                        break;
                    }
                    Err(error) => {
                        layout = reload_when_shortened(&target, error.into(), &mut attempt, cancel)
                            .await
                            .map_err(writer_error)?;
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
    let mut attempt = 0;
    let (plan, response) = loop {
        let leftover: Vec<u32> = layout
            .keys()
            .filter(|key| !seen.contains(key))
            .filter_map(|key| layout.row_of_hash(key))
            .collect();
        let guard = grid_guard(&layout);
        let plan = plan_tab_deleting(&mut layout, target.spec, std::iter::empty(), leftover)
            .map_err(plan_error)?;
        let mut requests: Vec<_> = guard.into_iter().collect();
        requests.extend(plan.requests.iter().cloned());
        requests.push(stored.store_request(&next));
        match send_flush(
            target.client,
            target.spreadsheet_id,
            &requests,
            &next.flush,
            cancel,
        )
        .await
        {
            Ok(response) => break (plan, response),
            Err(error) => {
                layout = reload_when_shortened(&target, error, &mut attempt, cancel)
                    .await
                    .map_err(writer_error)?;
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

/// How often one load batch is planned again after people shortened the grid under it.
const SHORTENED_ATTEMPTS: u32 = 5;

/// A load batch failed. When its grid guard refused it (people deleted rows while the load ran,
/// so every position below moved; nothing of the batch was applied), the tab is read again
/// and the caller plans the same rows anew, up to [`SHORTENED_ATTEMPTS`] times — restarting
/// the whole load instead could repeat forever while people keep deleting rows. Any other
/// failure is returned.
async fn reload_when_shortened(
    target: &LoadTarget<'_>,
    error: CheckpointError,
    attempt: &mut u32,
    cancel: &CancellationToken,
) -> Result<TabLayout, CheckpointError> {
    *attempt += 1;
    if !error.is_sheet_changed() || *attempt > SHORTENED_ATTEMPTS {
        return Err(error);
    }
    tracing::info!(mapping = target.mapping, %error, "rows were removed from the tab during the load; reading it again");
    let mut layouts = load_layouts(
        target.client,
        target.spreadsheet_id,
        std::slice::from_ref(target.spec),
        cancel,
    )
    .await
    .map_err(CheckpointError::from)?;
    layouts.pop().ok_or(error)
}
