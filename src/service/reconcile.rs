//! Reconcile as the service runs it (DESIGN §3.7): once from the command line (`sheetsync
//! reconcile`), or every `sync.reconcile_interval_seconds` inside `sheetsync run`.
//!
//! Consumes the config; produces the printed diff ([`crate::apply::reconcile_report`]) and the
//! repairs. Guarantees — why reconcile never races the writer:
//! - a dry run only reads, so it runs anywhere, any time, next to a running service;
//! - a repair writes the sheet only through the writer of the lease holder (write-backs), so it
//!   shares that writer's row placement, quota and batching. Inside `sheetsync run` the lease
//!   holder's periodic task does this. From the command line, `reconcile` repairs only when it
//!   can take the lease itself: it then runs the pipeline for the duration (catching up from
//!   the stored checkpoints, exactly as `run` would), repairs through it, flushes, stores the
//!   checkpoint and releases the lease. When a running `sheetsync run` holds the lease the
//!   repair is refused (exit 3): that process's writer is the only one allowed to write, so
//!   repairs there come from its `sync.reconcile_interval_seconds`, or after stopping it.

use std::io::Write;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio_util::sync::CancellationToken;

use super::webhook::{self, Hooks};
use super::ServiceError;
use crate::apply::cells::SheetDisplay;
use crate::apply::reconcile::{reconcile, RepairTarget};
use crate::apply::reconcile_report::{render_diff, render_repair};
use crate::cell::CellOptions;
use crate::config::{Config, MappingConfig};
use crate::lease::{self, LeaseError};
use crate::sheets::{ClientOptions, SheetsClient};
use crate::status::Status;
use crate::sync::pipeline::{self, Extensions, RunOptions};

/// How long the command line waits for the lease once it looked free.
const LEASE_WAIT: Duration = Duration::from_secs(10);
/// How long repairs may wait in the write-back channel for the writers.
const DRAIN_WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(50);
/// How long the command line waits for its pipeline to catch up before comparing anyway (rows
/// still changing are then left to the stream, see `reconcile_repair`).
const CATCH_UP_WAIT: Duration = Duration::from_secs(300);
const CATCH_UP_POLL: Duration = Duration::from_millis(500);

/// What `sheetsync reconcile` found; [`Outcome::exit_code`] is the command's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Dry run: every tab equals its table.
    Clean,
    /// Dry run: drift found (listed).
    Drift,
    /// The repair ran (what it did is listed).
    Repaired,
    /// A mapping could not be read or repaired (the error is printed); the others were done.
    Failed,
    /// Another process holds the lease: no repair (a dry run always works).
    LeaseHeld,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean | Outcome::Repaired => 0,
            Outcome::Drift => 1,
            Outcome::LeaseHeld => 3,
            Outcome::Failed => 4,
        }
    }
}

/// `sheetsync reconcile`: `mappings` are the ones to look at (all by default). The report goes
/// to `report`; log lines go where logging was set up.
pub async fn command(
    config: &Config,
    mappings: &[MappingConfig],
    dry_run: bool,
    report: &mut (dyn Write + Send),
    shutdown: CancellationToken,
) -> Result<Outcome, ServiceError> {
    if dry_run {
        return dry_run_all(config, mappings, report).await;
    }
    let lease_name = lease::lease_name(config);
    if let Some(holder) = lease_holder(config, &lease_name).await? {
        let _ = writeln!(
            report,
            "reconcile: not repairing: a running sheetsync (MySQL connection {holder}) holds the \
             lease `{lease_name}`, and only its writer may write the sheets. Set \
             sync.reconcile_interval_seconds for that process to repair periodically, or stop \
             it and run this again; `reconcile --dry-run` lists the drift at any time."
        );
        return Ok(Outcome::LeaseHeld);
    }
    let status = Status::for_config(config);
    let give_up = shutdown.child_token();
    let timer = give_up.clone();
    let waiting = tokio::spawn(async move {
        tokio::time::sleep(LEASE_WAIT).await;
        timer.cancel();
    });
    let acquired = lease::acquire(&config.mysql.url, &lease_name, &give_up, &status).await;
    waiting.abort();
    let guard = match acquired {
        Ok(guard) => guard,
        Err(LeaseError::Cancelled) => {
            let _ = writeln!(
                report,
                "reconcile: not repairing: another sheetsync process took the lease `{lease_name}` first"
            );
            return Ok(Outcome::LeaseHeld);
        }
        Err(error) => return Err(error.into()),
    };
    let result = repair_holding_lease(config, mappings, report, &status, guard.writing()).await;
    guard.release().await;
    result
}

async fn dry_run_all(
    config: &Config,
    mappings: &[MappingConfig],
    report: &mut (dyn Write + Send),
) -> Result<Outcome, ServiceError> {
    let client = SheetsClient::new(&config.google, ClientOptions::from_config(&config.sync))
        .await
        .map_err(|error| ServiceError::Reconcile(format!("sheets client: {error}")))?;
    let cells = CellOptions::from_config(&config.sync)
        .map_err(|error| ServiceError::Reconcile(error.to_string()))?;
    let display = SheetDisplay::from_options(&cells);
    let pool = mysql_async::Pool::new(config.mysql.url.expose());
    let mut outcome = Outcome::Clean;
    for mapping in mappings {
        match crate::apply::reconcile::diff(&pool, &client, mapping, &display).await {
            Ok(diff) => {
                let _ = write!(report, "{}", render_diff(&diff));
                if !diff.drift.is_empty() && outcome == Outcome::Clean {
                    outcome = Outcome::Drift;
                }
            }
            Err(error) => {
                let _ = writeln!(
                    report,
                    "mapping {}: reconcile failed: {error}",
                    mapping.name
                );
                outcome = Outcome::Failed;
            }
        }
    }
    let _ = pool.disconnect().await;
    Ok(outcome)
}

/// The connection id holding the lease, if any.
async fn lease_holder(config: &Config, name: &str) -> Result<Option<u64>, ServiceError> {
    let lease_error = |error: mysql_async::Error| ServiceError::Lease(LeaseError::Database(error));
    let mut connection = mysql_async::Conn::from_url(config.mysql.url.expose())
        .await
        .map_err(lease_error)?;
    let holder: Option<Option<u64>> = connection
        .exec_first("SELECT IS_USED_LOCK(?)", (name,))
        .await
        .map_err(lease_error)?;
    let _ = connection.disconnect().await;
    Ok(holder.flatten())
}

/// Runs the pipeline while holding the lease, repairs through its writers, then stops it
/// gracefully (everything flushed, checkpoint stored).
async fn repair_holding_lease(
    config: &Config,
    mappings: &[MappingConfig],
    report: &mut (dyn Write + Send),
    status: &Status,
    writing: CancellationToken,
) -> Result<Outcome, ServiceError> {
    let mut extensions = Extensions {
        status: Some(status.clone()),
        ..Extensions::default()
    };
    let hooks = webhook::hooks(config, &mut extensions).await?;
    webhook::ensure_schema(&hooks.pool).await?;
    let pipeline_config = config.clone();
    let stop = writing.clone();
    let mut pipeline = tokio::spawn(async move {
        pipeline::run(&pipeline_config, RunOptions::default(), extensions, stop).await
    });
    // Repairs are compared against a tab the writer has caught up with: streaming, and
    // nothing pending in the writers on two samples in a row.
    let caught_up_deadline = tokio::time::Instant::now() + CATCH_UP_WAIT;
    let mut idle_samples = 0;
    while idle_samples < 2 && tokio::time::Instant::now() < caught_up_deadline {
        if pipeline.is_finished() || writing.is_cancelled() {
            writing.cancel();
            return match pipeline.await {
                Ok(Err(error)) => Err(error.into()),
                _ => Ok(Outcome::Failed),
            };
        }
        let snapshot = status.snapshot();
        let idle = snapshot.binlog_connected
            && snapshot
                .mappings
                .iter()
                .all(|mapping| mapping.pending_cells == 0);
        idle_samples = if idle { idle_samples + 1 } else { 0 };
        tokio::time::sleep(CATCH_UP_POLL).await;
    }
    let mut outcome = Outcome::Repaired;
    for mapping in mappings {
        if !run_one(&hooks, mapping, report).await {
            outcome = Outcome::Failed;
        }
    }
    drain(&hooks, &mut pipeline).await;
    writing.cancel();
    match pipeline.await {
        Ok(Ok(())) => Ok(outcome),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => Ok(Outcome::Failed),
    }
}

/// Waits (bounded) until the pipeline took every write-back off the channel: a graceful stop
/// flushes what the writers hold, not what is still queued in front of them.
async fn drain(
    hooks: &Hooks,
    pipeline: &mut tokio::task::JoinHandle<Result<(), pipeline::PipelineError>>,
) {
    let deadline = tokio::time::Instant::now() + DRAIN_WAIT;
    while hooks.write_back.capacity() < hooks.write_back.max_capacity()
        && !pipeline.is_finished()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(POLL).await;
    }
}

/// One mapping's repair, printed; false when it failed.
async fn run_one(hooks: &Hooks, mapping: &MappingConfig, report: &mut (dyn Write + Send)) -> bool {
    let target = RepairTarget {
        origin: &hooks.origin,
        write_back: &hooks.write_back,
        row_clock: Some(&hooks.row_clock),
    };
    let display = hooks.display();
    match reconcile(&hooks.pool, &hooks.client, mapping, &display, false, target).await {
        Ok((diff, summary)) => {
            let _ = write!(report, "{}{}", render_diff(&diff), render_repair(&summary));
            true
        }
        Err(error) => {
            let _ = writeln!(
                report,
                "mapping {}: reconcile failed: {error}",
                mapping.name
            );
            false
        }
    }
}

/// `sync.reconcile_interval_seconds` inside `sheetsync run`: every interval each mapping is
/// reconciled and repaired through the writers — only while the pipeline streams (`status`),
/// so never against a tab an initial load is still writing. Stops when `stop` fires. Results go
/// to the log and to `sheetsync_reconcile_differences_total`.
pub fn spawn_periodic(
    config: &Config,
    hooks: Hooks,
    status: Status,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let seconds = config.sync.reconcile_interval_seconds;
    if seconds == 0 {
        return None;
    }
    let mappings = config.mappings.clone();
    Some(tokio::spawn(async move {
        let interval = Duration::from_secs(seconds);
        // Sheet-wins repairs write rows with the echo marker, like an edit.
        if let Err(error) = webhook::ensure_schema(&hooks.pool).await {
            tracing::warn!(%error, "periodic reconcile off");
            return;
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            if !status.snapshot().binlog_connected {
                tracing::debug!("periodic reconcile skipped: not streaming yet");
                continue;
            }
            for mapping in &mappings {
                let run = periodic_one(&hooks, mapping);
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = run => {}
                }
            }
        }
    }))
}

async fn periodic_one(hooks: &Hooks, mapping: &MappingConfig) {
    let target = RepairTarget {
        origin: &hooks.origin,
        write_back: &hooks.write_back,
        row_clock: Some(&hooks.row_clock),
    };
    let display = hooks.display();
    metrics::counter!("sheetsync_reconcile_runs_total").increment(1);
    match reconcile(&hooks.pool, &hooks.client, mapping, &display, false, target).await {
        Ok((diff, summary)) => {
            metrics::counter!("sheetsync_reconcile_differences_total")
                .increment(diff.drift.len() as u64);
            let differences = diff.drift.len();
            if differences == 0 {
                tracing::info!(mapping = %mapping.name, rows = diff.rows_in_database, "reconcile: the tab equals the table");
            } else {
                tracing::warn!(
                    mapping = %mapping.name,
                    differences,
                    sheet_writes = summary.sheet_writes,
                    database_rows = summary.database_rows,
                    left = summary.left,
                    changed_meanwhile = summary.changed_meanwhile,
                    "reconcile: drift repaired"
                );
            }
        }
        Err(error) => tracing::warn!(mapping = %mapping.name, %error, "reconcile failed"),
    }
}
