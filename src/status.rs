//! What the running process is doing, shared between the pipeline (which reports) and the admin
//! listener (which shows it on `/status.json`, `/`, `/readyz` and the time-dependent gauges).
//!
//! Consumes reports from the pipeline through methods named for what happened
//! ([`Status::record_flush`], [`Status::set_pending`], [`Status::record_conflict`], …);
//! produces a serialisable [`StatusSnapshot`] and a [`Readiness`] verdict.
//! Guarantees: updating is cheap (one short uncontended lock, no I/O, no allocation beyond the
//! record itself) and never fails; memory is bounded (conflicts and errors keep the last
//! [`RECENT_LIMIT`], request timestamps only the last minute); a mapping the pipeline names
//! that the config did not is added on the fly rather than dropped.
//!
//! Metrics: methods that report a *state* set the matching gauge (lag, binlog connected, lease
//! held, stalled mappings, quota tokens), and the two that report *events that happen exactly
//! once* count them (`record_conflict` → `sheetsync_conflicts_total`, `record_error` →
//! `sheetsync_definite_errors_total`). Flushes and Sheets requests are counted where they happen
//! (`metrics::record_flush`, `metrics::record_sheets_request`): a flush covers several mappings.

mod snapshot;

pub use snapshot::{
    ConflictView, ErrorView, FlushView, MappingView, QuotaView, Readiness, RequestCounts,
    StatusSnapshot,
};

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::config::{Config, ConflictPolicy};
use crate::metrics::{self, DefiniteErrorKind, QuotaKind};

/// How many recent conflicts and errors each mapping keeps for the status page.
pub const RECENT_LIMIT: usize = 20;
/// Request timestamps are kept for this long: the quota is per rolling minute.
const QUOTA_WINDOW: Duration = Duration::from_secs(60);
/// A bound on kept request timestamps even under a raised quota.
const REQUEST_HISTORY_LIMIT: usize = 10_000;

/// This process's part in high availability (see `lease`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Not yet holding or waiting for the lease.
    Starting,
    /// Another process holds the lease; this one waits to take over.
    Standby,
    /// This process holds the lease and is the one writer.
    Leader,
}

/// What a mapping is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MappingState {
    /// Configured, not started (the process is starting or on standby).
    Waiting,
    /// The initial load: `rows` rows written so far.
    Snapshotting {
        rows: u64,
    },
    Streaming,
    /// Stopped by a definite error until an operator acts.
    Stalled {
        reason: String,
    },
}

/// Which side's value a conflict resolution kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Sheet,
    Database,
}

/// One conflict as the status page shows it (DESIGN §3.5).
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRecord {
    /// The row's key as the sheet shows it.
    pub key: String,
    pub column: String,
    pub policy: ConflictPolicy,
    pub winner: Side,
    pub sheet_value: String,
    pub database_value: String,
    pub at: SystemTime,
}

/// When `/readyz` answers 200 (DESIGN §4, documented in `docs/operations.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadinessPolicy {
    /// A leader whose lag exceeds this many seconds on any streaming mapping is not ready.
    pub max_lag_seconds: f64,
    /// Whether a healthy standby answers 200 (for probes that only ask "is this process fine")
    /// or 503 (so a load balancer sends webhooks to the leader only; the default).
    pub standby_ready: bool,
}

impl Default for ReadinessPolicy {
    fn default() -> Self {
        Self {
            max_lag_seconds: 60.0,
            standby_ready: false,
        }
    }
}

/// The shared status; clones are cheap and all see the same state.
#[derive(Debug, Clone)]
pub struct Status {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    policy: ReadinessPolicy,
    started_at: SystemTime,
    role: Role,
    binlog_connected: bool,
    binlog_since: SystemTime,
    sheets_ready: bool,
    position: Option<String>,
    checkpoint: Option<(String, SystemTime)>,
    binlog_expiry: Option<Duration>,
    quota: BTreeMap<&'static str, (u32, u32)>,
    mappings: BTreeMap<String, MappingEntry>,
}

#[derive(Debug)]
struct MappingEntry {
    table: String,
    spreadsheet_id: String,
    sheet: String,
    state: MappingState,
    flush_lag_seconds: Option<f64>,
    last_flush: Option<(SystemTime, u64)>,
    pending_cells: u64,
    oldest_pending_commit: Option<SystemTime>,
    requests: VecDeque<(SystemTime, QuotaKind)>,
    conflicts: VecDeque<ConflictRecord>,
    errors: VecDeque<(SystemTime, DefiniteErrorKind, String)>,
}

impl MappingEntry {
    fn new(table: &str, spreadsheet_id: &str, sheet: &str) -> Self {
        Self {
            table: table.into(),
            spreadsheet_id: spreadsheet_id.into(),
            sheet: sheet.into(),
            state: MappingState::Waiting,
            flush_lag_seconds: None,
            last_flush: None,
            pending_cells: 0,
            oldest_pending_commit: None,
            requests: VecDeque::new(),
            conflicts: VecDeque::new(),
            errors: VecDeque::new(),
        }
    }

    /// Seconds behind at `now`: since the oldest pending commit while changes wait, otherwise
    /// what the last flush measured (commit → flush).
    fn lag_seconds(&self, now: SystemTime) -> Option<f64> {
        match self.oldest_pending_commit {
            Some(commit) if self.pending_cells > 0 => Some(seconds_between(commit, now)),
            _ => self.flush_lag_seconds,
        }
    }
}

fn seconds_between(earlier: SystemTime, later: SystemTime) -> f64 {
    later
        .duration_since(earlier)
        .map(|duration| duration.as_secs_f64())
        .unwrap_or(0.0)
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) {
    if queue.len() == limit {
        queue.pop_front();
    }
    queue.push_back(item);
}

impl Status {
    pub fn new(policy: ReadinessPolicy) -> Self {
        let now = SystemTime::now();
        Self {
            inner: Arc::new(Mutex::new(State {
                policy,
                started_at: now,
                role: Role::Starting,
                binlog_connected: false,
                binlog_since: now,
                sheets_ready: false,
                position: None,
                checkpoint: None,
                binlog_expiry: None,
                quota: BTreeMap::new(),
                mappings: BTreeMap::new(),
            })),
        }
    }

    /// A status with the config's readiness bounds and every mapping listed as waiting.
    pub fn for_config(config: &Config) -> Self {
        let status = Self::new(ReadinessPolicy {
            max_lag_seconds: config.sync.ready_max_lag_seconds as f64,
            standby_ready: config.sync.standby_ready,
        });
        for mapping in &config.mappings {
            status.add_mapping(
                &mapping.name,
                &mapping.table,
                &mapping.spreadsheet_id,
                &mapping.sheet,
            );
        }
        status
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind, still worth showing.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_mapping(&self, name: &str, update: impl FnOnce(&mut MappingEntry)) {
        let mut state = self.lock();
        let entry = state
            .mappings
            .entry(name.to_string())
            .or_insert_with(|| MappingEntry::new("", "", ""));
        update(entry);
    }

    pub fn add_mapping(&self, name: &str, table: &str, spreadsheet_id: &str, sheet: &str) {
        self.lock().mappings.insert(
            name.to_string(),
            MappingEntry::new(table, spreadsheet_id, sheet),
        );
    }

    pub fn set_state(&self, mapping: &str, new_state: MappingState) {
        let mut state = self.lock();
        let entry = state
            .mappings
            .entry(mapping.to_string())
            .or_insert_with(|| MappingEntry::new("", "", ""));
        entry.state = new_state;
        let stalled = state
            .mappings
            .values()
            .filter(|entry| matches!(entry.state, MappingState::Stalled { .. }))
            .count();
        ::metrics::gauge!(metrics::MAPPINGS_STALLED).set(stalled as f64);
    }

    /// The lag a flush measured: seconds from the oldest flushed change's commit to the flush.
    pub fn set_lag(&self, mapping: &str, seconds: f64) {
        self.with_mapping(mapping, |entry| {
            entry.flush_lag_seconds = Some(seconds.max(0.0))
        });
        ::metrics::gauge!(metrics::REPLICATION_LAG_SECONDS, "mapping" => mapping.to_string())
            .set(seconds.max(0.0));
    }

    /// A flush wrote `cells` cells of this mapping at `at`.
    pub fn record_flush(&self, mapping: &str, cells: u64, at: SystemTime) {
        self.with_mapping(mapping, |entry| entry.last_flush = Some((at, cells)));
    }

    /// Cells waiting for a flush, and the commit time of the oldest change among them (`None`
    /// when nothing waits): while changes wait, lag grows with the clock even if no flush comes.
    pub fn set_pending(&self, mapping: &str, cells: u64, oldest_commit: Option<SystemTime>) {
        self.with_mapping(mapping, |entry| {
            entry.pending_cells = cells;
            entry.oldest_pending_commit = oldest_commit;
        });
    }

    /// One Sheets request made for this mapping (counts toward "requests used of the quota").
    pub fn record_request(&self, mapping: &str, kind: QuotaKind, at: SystemTime) {
        self.with_mapping(mapping, |entry| {
            while entry
                .requests
                .front()
                .is_some_and(|(time, _)| seconds_between(*time, at) > QUOTA_WINDOW.as_secs_f64())
            {
                entry.requests.pop_front();
            }
            push_bounded(&mut entry.requests, (at, kind), REQUEST_HISTORY_LIMIT);
        });
    }

    /// The service account's quota: requests still allowed this rolling minute, of `per_minute`.
    pub fn set_quota(&self, kind: QuotaKind, available: u32, per_minute: u32) {
        self.lock()
            .quota
            .insert(kind.label(), (available, per_minute));
        ::metrics::gauge!(metrics::QUOTA_TOKENS_AVAILABLE, "kind" => kind.label())
            .set(f64::from(available));
    }

    /// A definite error of this mapping: kept for the page and counted.
    pub fn record_error(&self, mapping: &str, kind: DefiniteErrorKind, message: impl Into<String>) {
        let message = message.into();
        self.with_mapping(mapping, |entry| {
            push_bounded(
                &mut entry.errors,
                (SystemTime::now(), kind, message),
                RECENT_LIMIT,
            );
        });
        ::metrics::counter!(metrics::DEFINITE_ERRORS_TOTAL, "kind" => kind.label()).increment(1);
    }

    /// A resolved conflict of this mapping: kept for the page and counted by policy.
    pub fn record_conflict(&self, mapping: &str, conflict: ConflictRecord) {
        let policy = snapshot::policy_label(conflict.policy);
        self.with_mapping(mapping, |entry| {
            push_bounded(&mut entry.conflicts, conflict, RECENT_LIMIT);
        });
        ::metrics::counter!(metrics::CONFLICTS_TOTAL, "policy" => policy).increment(1);
    }

    pub fn set_binlog_connected(&self, connected: bool) {
        let mut state = self.lock();
        if state.binlog_connected != connected {
            state.binlog_connected = connected;
            state.binlog_since = SystemTime::now();
        }
        ::metrics::gauge!(metrics::BINLOG_CONNECTED).set(if connected { 1.0 } else { 0.0 });
    }

    /// Whether an access token for the Sheets API was obtained (and the last refresh worked).
    pub fn set_sheets_ready(&self, ready: bool) {
        self.lock().sheets_ready = ready;
    }

    /// The binlog position the reader has reached.
    pub fn set_position(&self, position: impl Into<String>) {
        self.lock().position = Some(position.into());
    }

    /// A checkpoint (the position saved in the sheets) was written at `at`.
    pub fn record_checkpoint(&self, position: impl Into<String>, at: SystemTime) {
        self.lock().checkpoint = Some((position.into(), at));
    }

    /// How long the server keeps binlogs (`None`: never purged); read once at start with
    /// `admin::retention::binlog_expiry`. Enables the retention headroom.
    pub fn set_binlog_expiry(&self, expiry: Option<Duration>) {
        self.lock().binlog_expiry = expiry;
    }

    pub fn set_role(&self, role: Role) {
        self.lock().role = role;
        ::metrics::gauge!(metrics::LEASE_HELD).set(if role == Role::Leader { 1.0 } else { 0.0 });
    }

    pub fn role(&self) -> Role {
        self.lock().role
    }

    /// Everything, as of now.
    pub fn snapshot(&self) -> StatusSnapshot {
        snapshot::build(&self.lock(), SystemTime::now())
    }

    /// The `/readyz` verdict, as of now.
    pub fn readiness(&self) -> Readiness {
        snapshot::readiness(&self.lock(), SystemTime::now())
    }

    /// Set the gauges that change with the clock alone (lag while changes wait, checkpoint
    /// age); the admin listener calls this before rendering `/metrics`.
    pub fn export_time_gauges(&self) {
        let state = self.lock();
        let now = SystemTime::now();
        for (name, entry) in &state.mappings {
            if let Some(lag) = entry.lag_seconds(now) {
                ::metrics::gauge!(metrics::REPLICATION_LAG_SECONDS, "mapping" => name.clone())
                    .set(lag);
            }
        }
        if let Some(headroom) = snapshot::retention_headroom_seconds(&state, now) {
            ::metrics::gauge!(metrics::BINLOG_RETENTION_HEADROOM_SECONDS).set(headroom);
        }
        if let Some((_, at)) = &state.checkpoint {
            ::metrics::gauge!(metrics::CHECKPOINT_POSITION_AGE_SECONDS)
                .set(seconds_between(*at, now));
        }
    }
}

#[cfg(test)]
mod tests;
