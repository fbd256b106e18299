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

use super::checkpoint::{Checkpoint, StoredCheckpoint};
use super::coalesce::{Coalescer, FlushPolicy};
use super::layout::{KeyHash, TabLayout};
use super::plan::{plan_tab, plan_tab_deleting, TabSpec};
use super::router::Router;
use super::send::send_flush;
use super::snapshot::Snapshot;
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
            let plan = plan_tab(&mut layout, target.spec, batch.tab_rows(0)).map_err(plan_error)?;
            if !plan.requests.is_empty() {
                // Row writes at explicit positions and header cells: applying this twice (a
                // lost answer, then a retry) writes the same cells again, so the retrying call
                // is safe.
                target
                    .client
                    .batch_update(target.spreadsheet_id, &plan.requests, cancel)
                    .await
                    .map_err(|error| writer_error(error.into()))?;
                batches += 1;
            }
        }
        if done {
            break;
        }
    }
    snapshot.reader.finish().await?;
    // Rows whose keys the table does not have (left from an earlier load, or edits made while
    // nothing synced) go, in the same batch that stores the checkpoint.
    let leftover: Vec<u32> = layout
        .keys()
        .filter(|key| !seen.contains(key))
        .filter_map(|key| layout.row_of_hash(key))
        .collect();
    drop(seen);
    let plan = plan_tab_deleting(&mut layout, target.spec, std::iter::empty(), leftover)
        .map_err(plan_error)?;
    let mut mappings = stored.checkpoint.mappings.clone();
    mappings.insert(target.mapping.to_string(), snapshot.position.clone());
    let next = Checkpoint {
        version: 1,
        flush: format!("{}-load-{}", target.run_id, target.mapping),
        mappings,
    };
    let mut requests = plan.requests;
    requests.push(stored.store_request(&next));
    let response = send_flush(
        target.client,
        target.spreadsheet_id,
        &requests,
        &next.flush,
        cancel,
    )
    .await
    .map_err(writer_error)?;
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
