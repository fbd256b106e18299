//! The serialisable views of [`super::Status`]: `/status.json`'s body and the `/readyz` verdict.
//!
//! Consumes the locked state and the current time; produces plain data. Times are unix
//! milliseconds (what the status page's JavaScript `Date` takes); durations are seconds.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{seconds_between, MappingState, Role, Side, State, QUOTA_WINDOW};
use crate::config::ConflictPolicy;
use crate::metrics::QuotaKind;

#[derive(Debug, Clone, Serialize)]
pub struct StatusSnapshot {
    pub version: &'static str,
    pub generated_at_ms: u64,
    pub started_at_ms: u64,
    pub role: Role,
    pub ready: Readiness,
    pub binlog_connected: bool,
    /// Since when `binlog_connected` has had its current value.
    pub binlog_since_ms: u64,
    pub sheets_ready: bool,
    pub position: Option<String>,
    pub checkpoint_position: Option<String>,
    pub checkpoint_age_seconds: Option<f64>,
    /// See `sheetsync_binlog_retention_headroom_seconds`; `None` when binlogs are never purged.
    pub binlog_retention_headroom_seconds: Option<f64>,
    /// By kind (`read`, `write`).
    pub quota: BTreeMap<&'static str, QuotaView>,
    pub mappings: Vec<MappingView>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct QuotaView {
    pub available: u32,
    pub per_minute: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct MappingView {
    pub name: String,
    pub table: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    #[serde(flatten)]
    pub state: MappingState,
    pub lag_seconds: Option<f64>,
    pub last_flush: Option<FlushView>,
    pub pending_cells: u64,
    pub requests_last_minute: RequestCounts,
    /// Newest first.
    pub conflicts: Vec<ConflictView>,
    /// Newest first.
    pub errors: Vec<ErrorView>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct FlushView {
    pub at_ms: u64,
    pub cells: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RequestCounts {
    pub read: u32,
    pub write: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictView {
    pub at_ms: u64,
    pub key: String,
    pub column: String,
    pub policy: &'static str,
    pub winner: Side,
    pub sheet_value: String,
    pub database_value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub at_ms: u64,
    pub kind: &'static str,
    pub message: String,
}

/// `/readyz`'s body: ready or not, and each reason why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub role: Role,
    pub reasons: Vec<String>,
}

pub(super) fn policy_label(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::LastWriteWins => "last-write-wins",
        ConflictPolicy::DbWins => "db-wins",
        ConflictPolicy::SheetWins => "sheet-wins",
        ConflictPolicy::Max => "max",
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Seconds until the server may purge the oldest binlog event sheetsync still needs: that event
/// is the oldest change not yet flushed (committed `lag` ago), and a binlog file is purged no
/// earlier than `expiry` after its last write, which is no earlier than that commit. A lower
/// bound, so an alert on it never comes late. `None` when the server never purges.
pub(super) fn retention_headroom_seconds(state: &State, now: SystemTime) -> Option<f64> {
    let expiry = state.binlog_expiry?.as_secs_f64();
    let behind = state
        .mappings
        .values()
        .filter_map(|entry| entry.lag_seconds(now))
        .fold(0.0, f64::max);
    Some(expiry - behind)
}

pub(super) fn readiness(state: &State, now: SystemTime) -> Readiness {
    let mut reasons = Vec::new();
    match state.role {
        Role::Standby if state.policy.standby_ready => {}
        Role::Standby => reasons.push(
            "standby: another sheetsync process holds the lease; this one takes over if it dies"
                .to_string(),
        ),
        Role::Starting => reasons.push("starting: the lease is not acquired yet".to_string()),
        Role::Leader => {
            if !state.binlog_connected {
                reasons.push(format!(
                    "binlog not connected (for {:.0} s)",
                    seconds_between(state.binlog_since, now)
                ));
            }
            if !state.sheets_ready {
                reasons.push("no Google Sheets access token yet".to_string());
            }
            for (name, entry) in &state.mappings {
                if !matches!(entry.state, MappingState::Streaming) {
                    continue;
                }
                if let Some(lag) = entry.lag_seconds(now) {
                    if lag > state.policy.max_lag_seconds {
                        reasons.push(format!(
                            "mapping {name}: lag {lag:.1} s is over the {} s bound \
                             (sync.ready_max_lag_seconds)",
                            state.policy.max_lag_seconds
                        ));
                    }
                }
            }
        }
    }
    Readiness {
        ready: reasons.is_empty(),
        role: state.role,
        reasons,
    }
}

pub(super) fn build(state: &State, now: SystemTime) -> StatusSnapshot {
    let mappings = state
        .mappings
        .iter()
        .map(|(name, entry)| {
            let mut requests = RequestCounts::default();
            for (at, kind) in &entry.requests {
                if seconds_between(*at, now) <= QUOTA_WINDOW.as_secs_f64() {
                    match kind {
                        QuotaKind::Read => requests.read += 1,
                        QuotaKind::Write => requests.write += 1,
                    }
                }
            }
            MappingView {
                name: name.clone(),
                table: entry.table.clone(),
                spreadsheet_id: entry.spreadsheet_id.clone(),
                sheet: entry.sheet.clone(),
                state: entry.state.clone(),
                lag_seconds: entry.lag_seconds(now),
                last_flush: entry.last_flush.map(|(at, cells)| FlushView {
                    at_ms: unix_ms(at),
                    cells,
                }),
                pending_cells: entry.pending_cells,
                requests_last_minute: requests,
                conflicts: entry
                    .conflicts
                    .iter()
                    .rev()
                    .map(|conflict| ConflictView {
                        at_ms: unix_ms(conflict.at),
                        key: conflict.key.clone(),
                        column: conflict.column.clone(),
                        policy: policy_label(conflict.policy),
                        winner: conflict.winner,
                        sheet_value: conflict.sheet_value.clone(),
                        database_value: conflict.database_value.clone(),
                    })
                    .collect(),
                errors: entry
                    .errors
                    .iter()
                    .rev()
                    .map(|(at, kind, message)| ErrorView {
                        at_ms: unix_ms(*at),
                        kind: kind.label(),
                        message: message.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    StatusSnapshot {
        version: env!("CARGO_PKG_VERSION"),
        generated_at_ms: unix_ms(now),
        started_at_ms: unix_ms(state.started_at),
        role: state.role,
        ready: readiness(state, now),
        binlog_connected: state.binlog_connected,
        binlog_since_ms: unix_ms(state.binlog_since),
        sheets_ready: state.sheets_ready,
        position: state.position.clone(),
        checkpoint_position: state
            .checkpoint
            .as_ref()
            .map(|(position, _)| position.clone()),
        checkpoint_age_seconds: state
            .checkpoint
            .as_ref()
            .map(|(_, at)| seconds_between(*at, now)),
        binlog_retention_headroom_seconds: retention_headroom_seconds(state, now),
        quota: state
            .quota
            .iter()
            .map(|(kind, (available, per_minute))| {
                (
                    *kind,
                    QuotaView {
                        available: *available,
                        per_minute: *per_minute,
                    },
                )
            })
            .collect(),
        mappings,
    }
}
