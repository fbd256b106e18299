//! The Prometheus metrics sheetsync exports: their names, help texts, label values and the
//! process-wide recorder.
//!
//! Consumes nothing; produces a [`PrometheusHandle`] whose `render()` is the text served on the
//! admin listener's `/metrics` (we serve it ourselves: the exporter's own HTTP listener is not
//! compiled in). Guarantees: every metric is described once, with help text, before the first
//! scrape; names follow Prometheus conventions (`sheetsync_` prefix, base units, `_total` for
//! counters); every label takes values from a closed set (an enum here, a mapping name from the
//! config, or an HTTP status from [`sheets_status_label`]), so series never grow without bound.
//! [`ALL`] is the authoritative list: `docs/metrics.md`, the alert rules and the dashboard are
//! tested against it.
//!
//! Anything may record metrics through the `metrics` crate macros with these name constants; with
//! no recorder installed (unit tests) they are no-ops.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

pub const REPLICATION_LAG_SECONDS: &str = "sheetsync_replication_lag_seconds";
pub const BINLOG_CONNECTED: &str = "sheetsync_binlog_connected";
pub const BINLOG_EVENTS_TOTAL: &str = "sheetsync_binlog_events_total";
pub const ROW_CHANGES_TOTAL: &str = "sheetsync_row_changes_total";
pub const ECHOES_SUPPRESSED_TOTAL: &str = "sheetsync_echoes_suppressed_total";
pub const FLUSHES_TOTAL: &str = "sheetsync_flushes_total";
pub const CELLS_PER_FLUSH: &str = "sheetsync_cells_per_flush";
pub const SHEETS_REQUESTS_TOTAL: &str = "sheetsync_sheets_requests_total";
pub const SHEETS_RETRIES_TOTAL: &str = "sheetsync_sheets_retries_total";
pub const QUOTA_TOKENS_AVAILABLE: &str = "sheetsync_quota_tokens_available";
pub const WEBHOOK_REQUESTS_TOTAL: &str = "sheetsync_webhook_requests_total";
pub const CONFLICTS_TOTAL: &str = "sheetsync_conflicts_total";
pub const CHECKPOINT_POSITION_AGE_SECONDS: &str = "sheetsync_checkpoint_position_age_seconds";
pub const BINLOG_RETENTION_HEADROOM_SECONDS: &str = "sheetsync_binlog_retention_headroom_seconds";
pub const CELLS_TRUNCATED_TOTAL: &str = "sheetsync_cells_truncated_total";
pub const DEFINITE_ERRORS_TOTAL: &str = "sheetsync_definite_errors_total";
pub const MAPPINGS_STALLED: &str = "sheetsync_mappings_stalled";
pub const LEASE_HELD: &str = "sheetsync_lease_held";

/// What kind of series a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported metric: its name, kind, labels (by name) and help text.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

/// Every metric sheetsync exports.
pub const ALL: &[Metric] = &[
    Metric { name: REPLICATION_LAG_SECONDS, kind: Kind::Gauge, labels: &["mapping"],
        help: "Seconds between a change's commit in MySQL and its flush to the sheet, as of the last flush (0 when nothing is pending)." },
    Metric { name: BINLOG_CONNECTED, kind: Kind::Gauge, labels: &[],
        help: "1 while the binlog replica connection is up, else 0." },
    Metric { name: BINLOG_EVENTS_TOTAL, kind: Kind::Counter, labels: &[],
        help: "Binlog transactions received from the server (a transaction handed on in parts counts once)." },
    Metric { name: ROW_CHANGES_TOTAL, kind: Kind::Counter, labels: &["op"],
        help: "Row changes of mapped tables read from the binlog, by operation (insert, update, delete)." },
    Metric { name: ECHOES_SUPPRESSED_TOTAL, kind: Kind::Counter, labels: &[],
        help: "Row changes dropped because sheetsync itself wrote them for a sheet edit (echo marker)." },
    Metric { name: FLUSHES_TOTAL, kind: Kind::Counter, labels: &["reason"],
        help: "Flushes to Google Sheets, by what triggered them (linger, interval, payload, token, shutdown, snapshot)." },
    Metric { name: CELLS_PER_FLUSH, kind: Kind::Histogram, labels: &[],
        help: "Cells written by one flush (one spreadsheets.batchUpdate)." },
    Metric { name: SHEETS_REQUESTS_TOTAL, kind: Kind::Counter, labels: &["status"],
        help: "Google Sheets API requests, by HTTP status (or `transport` when no answer came)." },
    Metric { name: SHEETS_RETRIES_TOTAL, kind: Kind::Counter, labels: &[],
        help: "Google Sheets API requests retried after a retryable failure (408, 429, 5xx, transport)." },
    Metric { name: QUOTA_TOKENS_AVAILABLE, kind: Kind::Gauge, labels: &["kind"],
        help: "Sheets requests still allowed in the current rolling minute, by kind (read, write)." },
    Metric { name: WEBHOOK_REQUESTS_TOTAL, kind: Kind::Counter, labels: &["outcome"],
        help: "Webhook requests from the Apps Script, by outcome (applied, replayed, bad_signature, stale_timestamp, malformed, too_large, unknown_target, unavailable, apply_failed)." },
    Metric { name: CONFLICTS_TOTAL, kind: Kind::Counter, labels: &["policy"],
        help: "Sheet edits whose old value no longer matched the database, by the policy that resolved them." },
    Metric { name: CHECKPOINT_POSITION_AGE_SECONDS, kind: Kind::Gauge, labels: &[],
        help: "Seconds since the binlog position saved in the sheets last advanced." },
    Metric { name: BINLOG_RETENTION_HEADROOM_SECONDS, kind: Kind::Gauge, labels: &[],
        help: "Seconds until the server would purge the oldest binlog sheetsync still needs (negative: already purged)." },
    Metric { name: CELLS_TRUNCATED_TOTAL, kind: Kind::Counter, labels: &[],
        help: "Cell values cut to Google's 50,000-character limit." },
    Metric { name: DEFINITE_ERRORS_TOTAL, kind: Kind::Counter, labels: &["kind"],
        help: "Errors no retry can fix, recorded and surfaced, by kind (sheets, binlog, position_purged, apply, schema, size)." },
    Metric { name: MAPPINGS_STALLED, kind: Kind::Gauge, labels: &[],
        help: "Mappings stopped by a definite error and not syncing." },
    Metric { name: LEASE_HELD, kind: Kind::Gauge, labels: &[],
        help: "1 while this process holds the high-availability lease (is the leader), else 0." },
];

/// Why a flush happened (DESIGN §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlushReason {
    /// A quota token was free: flushed after the short linger.
    Linger,
    /// The oldest pending change reached `flush_interval_ms`.
    Interval,
    /// The batch neared the payload limit.
    Payload,
    /// A quota token freed up while changes were waiting.
    Token,
    Shutdown,
    /// The initial load of a mapping.
    Snapshot,
    /// No rows to write, but the position moved: the checkpoint alone is saved.
    Checkpoint,
}

impl FlushReason {
    pub const ALL: [FlushReason; 7] = [
        FlushReason::Linger,
        FlushReason::Interval,
        FlushReason::Payload,
        FlushReason::Token,
        FlushReason::Shutdown,
        FlushReason::Snapshot,
        FlushReason::Checkpoint,
    ];
    pub fn label(self) -> &'static str {
        match self {
            FlushReason::Linger => "linger",
            FlushReason::Interval => "interval",
            FlushReason::Payload => "payload",
            FlushReason::Token => "token",
            FlushReason::Shutdown => "shutdown",
            FlushReason::Snapshot => "snapshot",
            FlushReason::Checkpoint => "checkpoint",
        }
    }
}

/// A row change's operation, for `sheetsync_row_changes_total{op}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOperation {
    Insert,
    Update,
    Delete,
}

impl RowOperation {
    pub fn label(self) -> &'static str {
        match self {
            RowOperation::Insert => "insert",
            RowOperation::Update => "update",
            RowOperation::Delete => "delete",
        }
    }
}

/// Which Sheets quota, for `sheetsync_quota_tokens_available{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    Read,
    Write,
}

impl QuotaKind {
    pub fn label(self) -> &'static str {
        match self {
            QuotaKind::Read => "read",
            QuotaKind::Write => "write",
        }
    }
}

/// The `status` label of a Sheets request: the HTTP status when it is one Google documents for
/// the API, `other_4xx`/`other_5xx`/`other` otherwise, `transport` when no answer came.
pub fn sheets_status_label(status: Option<u16>) -> &'static str {
    match status {
        None => "transport",
        Some(200) => "200",
        Some(400) => "400",
        Some(401) => "401",
        Some(403) => "403",
        Some(404) => "404",
        Some(408) => "408",
        Some(413) => "413",
        Some(429) => "429",
        Some(500) => "500",
        Some(502) => "502",
        Some(503) => "503",
        Some(504) => "504",
        Some(code) if (400..500).contains(&code) => "other_4xx",
        Some(code) if (500..600).contains(&code) => "other_5xx",
        Some(_) => "other",
    }
}

/// Count one Sheets request and, when it will be retried, the retry.
pub fn record_sheets_request(status: Option<u16>, retried: bool) {
    metrics::counter!(SHEETS_REQUESTS_TOTAL, "status" => sheets_status_label(status)).increment(1);
    if retried {
        metrics::counter!(SHEETS_RETRIES_TOTAL).increment(1);
    }
}

pub fn record_row_change(operation: RowOperation) {
    metrics::counter!(ROW_CHANGES_TOTAL, "op" => operation.label()).increment(1);
}

pub fn set_retention_headroom(seconds: f64) {
    metrics::gauge!(BINLOG_RETENTION_HEADROOM_SECONDS).set(seconds);
}

/// The kind of a definite error, for `sheetsync_definite_errors_total{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefiniteErrorKind {
    /// Sheets refused a request (a non-retryable 4xx).
    Sheets,
    /// The binlog cannot be read or decoded.
    Binlog,
    /// The saved binlog position was purged from the server.
    PositionPurged,
    /// A sheet edit could not be applied to MySQL.
    Apply,
    /// A table was dropped, truncated or changed so the mapping cannot continue.
    Schema,
    /// A tab (or a spreadsheet's synced tabs together) would exceed Google's 10 million
    /// cell limit.
    Size,
    /// The configuration cannot work with this database (a mapped table missing, …).
    Config,
}

impl DefiniteErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            DefiniteErrorKind::Sheets => "sheets",
            DefiniteErrorKind::Binlog => "binlog",
            DefiniteErrorKind::PositionPurged => "position_purged",
            DefiniteErrorKind::Apply => "apply",
            DefiniteErrorKind::Schema => "schema",
            DefiniteErrorKind::Size => "size",
            DefiniteErrorKind::Config => "config",
        }
    }
}

/// Count one flush (one `spreadsheets.batchUpdate`, whatever number of tabs it covers).
pub fn record_flush(reason: FlushReason, cells: usize) {
    metrics::counter!(FLUSHES_TOTAL, "reason" => reason.label()).increment(1);
    metrics::histogram!(CELLS_PER_FLUSH).record(cells as f64);
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Definite: another recorder was installed in this process by something else.
    #[error("cannot install the Prometheus recorder: {0}")]
    Install(String),
}

/// Cells-per-flush buckets: one cell up to a full 2 MB payload (~50,000 cells).
const CELL_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0,
];

/// Install the process-wide recorder (once; later calls return the same handle) and describe
/// every metric. Counters with a closed label set start at 0 so rates and alerts work from the
/// first scrape.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    let installed = HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(CELLS_PER_FLUSH.into()), CELL_BUCKETS)
            .map_err(|error| error.to_string())?;
        let handle = builder
            .install_recorder()
            .map_err(|error| error.to_string())?;
        describe_all();
        initialise_counters();
        Ok(handle)
    });
    installed.clone().map_err(MetricsError::Install)
}

fn describe_all() {
    for metric in ALL {
        let unit = unit_of(metric.name);
        match (metric.kind, unit) {
            (Kind::Counter, Some(unit)) => describe_counter!(metric.name, unit, metric.help),
            (Kind::Counter, None) => describe_counter!(metric.name, metric.help),
            (Kind::Gauge, Some(unit)) => describe_gauge!(metric.name, unit, metric.help),
            (Kind::Gauge, None) => describe_gauge!(metric.name, metric.help),
            (Kind::Histogram, Some(unit)) => describe_histogram!(metric.name, unit, metric.help),
            (Kind::Histogram, None) => describe_histogram!(metric.name, metric.help),
        }
    }
}

fn unit_of(name: &str) -> Option<Unit> {
    name.ends_with("_seconds").then_some(Unit::Seconds)
}

fn initialise_counters() {
    for name in [
        BINLOG_EVENTS_TOTAL,
        ECHOES_SUPPRESSED_TOTAL,
        SHEETS_RETRIES_TOTAL,
        CELLS_TRUNCATED_TOTAL,
    ] {
        metrics::counter!(name).absolute(0);
    }
    for operation in [
        RowOperation::Insert,
        RowOperation::Update,
        RowOperation::Delete,
    ] {
        metrics::counter!(ROW_CHANGES_TOTAL, "op" => operation.label()).absolute(0);
    }
    for reason in FlushReason::ALL {
        metrics::counter!(FLUSHES_TOTAL, "reason" => reason.label()).absolute(0);
    }
    metrics::gauge!(MAPPINGS_STALLED).set(0.0);
    metrics::gauge!(BINLOG_CONNECTED).set(0.0);
    metrics::gauge!(LEASE_HELD).set(0.0);
}

/// Keep the recorder's histograms bounded: run its upkeep every few seconds until `cancel`.
pub async fn run_upkeep(handle: PrometheusHandle, cancel: CancellationToken) {
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => handle.run_upkeep(),
        }
    }
}

#[cfg(test)]
mod tests;
