//! The pipeline: wires binlog source → router → one writer per spreadsheet, loads mappings
//! that have no checkpoint, and supervises (DESIGN §2).
//!
//! Consumes the config; produces a running sync until `shutdown` fires. Guarantees:
//! - every start (the first, and each restart after a transient failure) begins from the
//!   checkpoints stored in the spreadsheets, never from memory, so a restart is exact;
//! - one stream serves every spreadsheet, starting at the earliest of their checkpoints;
//! - a purged binlog is reported plainly and counted, then the mappings are loaded again from
//!   a fresh snapshot (or the run stops, by `sync.on_binlog_gone`);
//! - graceful shutdown: the stream stops, writers flush what they hold and store the position,
//!   bounded by `shutdown_timeout`, then Sheets calls still running are cancelled.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::Pool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::checkpoint::StoredCheckpoint;
use super::coalesce::FlushPolicy;
use super::initial_load::{self, LoadError, LoadTarget};
use super::plan::TabSpec;
use super::router::{Router, WriterMessage};
use super::snapshot::Snapshot;
use super::tabs::load_layouts;
use super::writer::Writer;
use super::{KeyPlaced, WriteBack};
use crate::binlog::{BinlogSource, SourceOptions};
use crate::cell::CellOptions;
use crate::channel;
use crate::config::{Config, OnBinlogGone};
use crate::metrics::{DefiniteErrorKind, RowOperation};
use crate::position::BinlogPosition;
use crate::sheets::{ClientOptions, SheetsClient};
use crate::status::MappingState;

mod error;
mod options;
mod setup;

pub use error::PipelineError;
pub use options::{EchoFilter, Extensions, RowClockHook, RunOptions, TabRewriteHook};

/// Runs until `shutdown`, restarting from the checkpoints after transient failures.
pub async fn run(
    config: &Config,
    mut options: RunOptions,
    mut extensions: Extensions,
    shutdown: CancellationToken,
) -> Result<(), PipelineError> {
    let client = match extensions.client.clone() {
        Some(client) => client,
        None => Arc::new(
            SheetsClient::new(&config.google, ClientOptions::from_config(&config.sync)).await?,
        ),
    };
    let pool = Pool::new(config.mysql.url.expose());
    let mut failures = 0u32;
    loop {
        let started = std::time::Instant::now();
        let result = run_once(
            config,
            &mut options,
            &mut extensions,
            &client,
            &pool,
            &shutdown,
        )
        .await;
        if started.elapsed() > Duration::from_secs(60) {
            // A run that streamed for a while was healthy: the next failure starts the backoff over.
            failures = 0;
        }
        if let Some(status) = &extensions.status {
            status.set_binlog_connected(false);
        }
        match result {
            Ok(()) => {
                let _ = pool.disconnect().await;
                return Ok(());
            }
            Err(error) if error.resnapshot_mappings(config).is_some() => {
                let mappings = error.resnapshot_mappings(config).unwrap_or_default();
                let kind = error.resnapshot_kind();
                tracing::error!(%error, ?mappings, "re-snapshot needed");
                for mapping in &mappings {
                    match &extensions.status {
                        Some(status) => status.record_error(mapping, kind, error.to_string()),
                        None => metrics::counter!(crate::metrics::DEFINITE_ERRORS_TOTAL, "kind" => kind.label()).increment(1),
                    }
                }
                if kind == DefiniteErrorKind::PositionPurged
                    && config.sync.on_binlog_gone == OnBinlogGone::Stop
                {
                    return Err(error);
                }
                options.snapshot = mappings;
            }
            Err(error) if error.is_transient() && !shutdown.is_cancelled() => {
                failures = failures.saturating_add(1);
                let wait = Duration::from_millis(500u64.saturating_mul(1 << failures.min(6)));
                tracing::warn!(%error, wait_ms = wait.as_millis() as u64, "sync failed; restarting from the stored checkpoints");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Err(error) => {
                if shutdown.is_cancelled() && error.is_transient() {
                    return Ok(());
                }
                metrics::counter!(crate::metrics::DEFINITE_ERRORS_TOTAL, "kind" => error.definite_kind().label())
                    .increment(1);
                return Err(error);
            }
        }
    }
}

async fn run_once(
    config: &Config,
    options: &mut RunOptions,
    extensions: &mut Extensions,
    client: &Arc<SheetsClient>,
    pool: &Pool,
    shutdown: &CancellationToken,
) -> Result<(), PipelineError> {
    let run_id = format!("{:x}", fastrand::u64(..));
    let cell_options = CellOptions::from_config(&config.sync)
        .map_err(|error| PipelineError::Config(error.to_string()))?;
    // Which spreadsheet (writer) and tab each mapping goes to, in config order.
    let (spreadsheets, routes) = setup::plan_spreadsheets(config, pool).await?;
    let mut router = Router::new(routes, spreadsheets.len(), cell_options);
    let policy = FlushPolicy {
        interval: Duration::from_millis(config.sync.flush_interval_ms),
        ..FlushPolicy::default()
    };

    // Read each spreadsheet's tabs and checkpoint; load mappings without one.
    let mut writers = Vec::new();
    for plan in spreadsheets {
        let specs: Vec<TabSpec> = plan.tabs.iter().map(|tab| tab.spec.clone()).collect();
        let mut layouts = load_layouts(client, &plan.spreadsheet_id, &specs, shutdown).await?;
        let mut stored = StoredCheckpoint::load(client, &plan.spreadsheet_id, shutdown).await?;
        let mut tabs = plan.tabs;
        for (tab_index, tab) in tabs.iter_mut().enumerate() {
            let forced = options.snapshot.contains(&tab.mapping);
            if forced || !stored.checkpoint.mappings.contains_key(&tab.mapping) {
                let route = plan.routes[tab_index];
                let (database, table) = (
                    router.routes()[route].table.database.clone(),
                    router.routes()[route].table.name.clone(),
                );
                let columns: Vec<String> = tab
                    .spec
                    .columns
                    .iter()
                    .map(|column| column.to_string())
                    .collect();
                let snapshot = Snapshot::begin(
                    pool,
                    &database,
                    &table,
                    Some(&columns),
                    initial_load::CHUNK_ROWS,
                )
                .await
                .map_err(LoadError::from)?;
                let target = LoadTarget {
                    client,
                    spreadsheet_id: &plan.spreadsheet_id,
                    mapping: &tab.mapping,
                    route,
                    spec: &tab.spec,
                    policy,
                    run_id: &run_id,
                    notifier: &extensions.notifier,
                };
                if let Some(status) = &extensions.status {
                    status.set_state(&tab.mapping, MappingState::Snapshotting { rows: 0 });
                }
                let layout = std::mem::replace(
                    &mut layouts[tab_index],
                    super::layout::TabLayout::empty(0, "", 0, 0),
                );
                if let Some(hook) = &extensions.tab_rewrite {
                    hook(&tab.mapping, None);
                }
                let loaded =
                    initial_load::load(target, &router, snapshot, layout, &mut stored, shutdown)
                        .await;
                if let Some(hook) = &extensions.tab_rewrite {
                    // A failed load may have written part of the tab: it ends now too.
                    hook(&tab.mapping, Some(unix_milliseconds_now()));
                }
                layouts[tab_index] = match loaded {
                    Ok(layout) => layout,
                    // Stopped mid-load: a clean stop. Without its checkpoint the mapping is
                    // loaded again at the next start.
                    Err(_) if shutdown.is_cancelled() => return Ok(()),
                    Err(error) => return Err(error.into()),
                };
            }
            tab.position = stored.checkpoint.mappings.get(&tab.mapping).cloned();
            if let Some(status) = &extensions.status {
                status.set_state(&tab.mapping, MappingState::Streaming);
            }
        }
        writers.push((plan.spreadsheet_id, tabs, layouts, stored));
    }
    // The forced loads are done; a later restart resumes from their checkpoints.
    options.snapshot.clear();
    if options.load_only {
        return Ok(());
    }
    let positions: Vec<BinlogPosition> = writers
        .iter()
        .flat_map(|(_, tabs, _, _)| tabs.iter().filter_map(|tab| tab.position.clone()))
        .collect();
    let start = BinlogPosition::earliest(&positions).ok_or_else(|| {
        PipelineError::MixedPositions(
            positions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut source_options = SourceOptions::new(config.mysql.url.expose(), config.mysql.server_id);
    source_options.start = Some(start.clone());
    source_options.heartbeat = options.heartbeat;
    source_options.part_bytes = config.sync.transaction_buffer_kib as usize * 1024;
    let mut source = BinlogSource::start(source_options).await?;
    if let Some(status) = &extensions.status {
        status.set_binlog_connected(true);
        status.set_sheets_ready(true);
        status.set_position(start.to_string());
    }
    tracing::info!(position = %start, spreadsheets = writers.len(), "streaming");

    let hard_stop = CancellationToken::new();
    let writer_shutdown = CancellationToken::new();
    let mut senders = Vec::new();
    let mut tasks = JoinSet::new();
    let mut mapping_targets: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (index, (spreadsheet_id, tabs, layouts, stored)) in writers.into_iter().enumerate() {
        for (tab_index, tab) in tabs.iter().enumerate() {
            mapping_targets.insert(tab.mapping.clone(), (index, tab_index));
        }
        let (sender, receiver) = channel::channel(64, WRITER_CHANNEL_BYTES);
        senders.push(sender);
        let mut writer = Writer::new(
            spreadsheet_id,
            client.clone(),
            tabs,
            layouts,
            stored,
            policy,
            extensions.notifier.clone(),
            run_id.clone(),
        );
        if extensions.echo_origin.is_none() {
            // Echoes come only from the webhook side's filter.
            writer = writer.without_echoes();
        }
        let (shutdown, hard_stop) = (writer_shutdown.clone(), hard_stop.clone());
        tasks.spawn(async move { writer.run(receiver, shutdown, hard_stop).await });
    }

    let result: Result<(), PipelineError> = loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break Ok(()),
            finished = tasks.join_next() => {
                break match finished {
                    Some(Ok(Err(error))) => Err(error.into()),
                    _ => Err(PipelineError::Config("a writer stopped unexpectedly".into())),
                };
            }
            write_back = async { match extensions.write_back.as_mut() { Some(receiver) => receiver.recv().await, None => std::future::pending().await } } => {
                if let Some(WriteBack { mapping, key, cells, whole_row }) = write_back {
                    if let Some(&(writer, tab)) = mapping_targets.get(&mapping) {
                        if !deliver(&senders[writer], WriterMessage::WriteBack { tab, key, cells, whole_row }).await {
                            continue;
                        }
                    }
                }
            }
            placed = async { match extensions.key_placed.as_mut() { Some(receiver) => receiver.recv().await, None => std::future::pending().await } } => {
                if let Some(KeyPlaced { mapping, key, sheet_row }) = placed {
                    if let Some(&(writer, tab)) = mapping_targets.get(&mapping) {
                        deliver(&senders[writer], WriterMessage::KeyPlaced { tab, key, sheet_row }).await;
                    }
                }
            }
            item = source.next() => {
                let transaction = match item {
                    None => break Err(PipelineError::Config("the binlog stream ended".into())),
                    Some(Err(error)) => break Err(error.into()),
                    Some(Ok(transaction)) => transaction,
                };
                if !transaction.partial {
                    metrics::counter!(crate::metrics::BINLOG_EVENTS_TOTAL).increment(1);
                }
                let mut transaction = match &extensions.echo_filter {
                    Some(filter) => filter(transaction),
                    None => transaction,
                };
                let mut echoes = Vec::new();
                if let Some(origin) = &extensions.echo_origin {
                    let filtered = crate::apply::echo::filter_echo(&transaction, origin);
                    metrics::counter!(crate::metrics::ECHOES_SUPPRESSED_TOTAL).increment(filtered.suppressed as u64);
                    for inserted in &filtered.inserted_rows {
                        for (writer, message) in router.key_placed(&inserted.table, &inserted.key, inserted.sheet_row) {
                            deliver(&senders[writer], message).await;
                        }
                    }
                    transaction.changes = filtered.changes;
                    echoes = filtered.echoes;
                }
                let (mut messages, counts) = router.route(&transaction);
                router.route_echoes(&echoes, &mut messages);
                for (operation, count) in [(RowOperation::Insert, counts.inserts), (RowOperation::Update, counts.updates), (RowOperation::Delete, counts.deletes)] {
                    metrics::counter!(crate::metrics::ROW_CHANGES_TOTAL, "op" => operation.label()).increment(count);
                }
                metrics::counter!(crate::metrics::CELLS_TRUNCATED_TOTAL).increment(counts.truncated_cells);
                if let Some(clock) = &extensions.row_clock {
                    for message in &messages {
                        if let WriterMessage::Transaction { changes, .. } = message {
                            for change in changes {
                                let mapping = router.routes().iter().find(|route| route.tab == change.tab).map(|route| route.mapping.as_str()).unwrap_or_default();
                                clock(mapping, &change.key, transaction.commit_unix_seconds);
                            }
                        }
                    }
                }
                let mut failed = false;
                for (writer, message) in messages.into_iter().enumerate() {
                    // Awaiting a full channel is the backpressure that keeps memory bounded.
                    if !deliver(&senders[writer], message).await {
                        failed = true;
                    }
                }
                if failed {
                    continue;
                }
            }
        }
    };
    source.stop().await;
    // Graceful: close the channels, let the writers flush and save, within the bound.
    drop(senders);
    writer_shutdown.cancel();
    let drained = tokio::time::timeout(options.shutdown_timeout, async {
        let mut first_error = None;
        while let Some(finished) = tasks.join_next().await {
            if let Ok(Err(error)) = finished {
                first_error.get_or_insert(error);
            }
        }
        first_error
    })
    .await;
    hard_stop.cancel();
    tasks.shutdown().await;
    match (result, drained) {
        (Err(error), _) => Err(error),
        (Ok(()), Ok(Some(error))) => Err(error.into()),
        (Ok(()), Ok(None)) => Ok(()),
        (Ok(()), Err(_)) => {
            tracing::warn!("shutdown timeout reached before every flush finished; the next start replays from the stored checkpoints");
            Ok(())
        }
    }
}

/// Decoded bytes queued for one writer: its share of the memory bound (DESIGN §2.3).
const WRITER_CHANNEL_BYTES: usize = 16 * 1024 * 1024;

/// Sends to a writer, waiting for room in its byte budget; false when the writer is gone.
async fn deliver(sender: &channel::Sender<WriterMessage>, message: WriterMessage) -> bool {
    let bytes = message.memory_bytes();
    sender.send(message, bytes).await.is_ok()
}

fn unix_milliseconds_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
