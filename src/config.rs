//! The configuration: a TOML file, every key overridable by a `SHEETSYNC_…` environment variable.
//!
//! Consumes the file named by `--config` and the process environment; produces a validated
//! [`Config`]. Guarantees: every error names the key that is wrong and what would be right;
//! secrets (`mysql.url`'s password, `webhook.secret`) never appear in `Debug` output or errors.
//!
//! Environment variables map onto keys by section: `SHEETSYNC_MYSQL_URL` → `mysql.url`,
//! `SHEETSYNC_SYNC_FLUSH_INTERVAL_MS` → `sync.flush_interval_ms`. Mappings come from the file only.

mod secret;
mod validate;

pub use secret::{DatabaseUrl, Secret};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format as _, Toml};
use figment::Figment;
use serde::Deserialize;

/// Top-level sections an environment variable may address.
const SECTIONS: &[&str] = &["mysql", "google", "webhook", "metrics", "sync", "logging"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("config: {0}")]
    Parse(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mysql: MysqlConfig,
    #[serde(default)]
    pub google: GoogleConfig,
    #[serde(default)]
    pub webhook: WebhookConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub logging: LoggingConfig,
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<MappingConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlConfig {
    /// `mysql://user:password@host:port`; the password is a secret.
    pub url: DatabaseUrl,
    /// This reader's replica id: unique among the server's replicas, or one of them is kicked off.
    pub server_id: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoogleConfig {
    /// Service-account key file (JSON); its `token_uri` is honoured.
    pub credentials_file: Option<PathBuf>,
    /// Sheets API base URL: Google's, or an emulator's in tests and the demo.
    pub api_base: String,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        Self {
            credentials_file: None,
            api_base: "https://sheets.googleapis.com".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub listen: SocketAddr,
    /// The HMAC key shared with the Apps Script. Prefer `SHEETSYNC_WEBHOOK_SECRET` or `secret_file`.
    pub secret: Option<Secret>,
    /// A file holding the secret (e.g. a mounted Kubernetes secret); trailing newline ignored.
    pub secret_file: Option<PathBuf>,
    /// The secret being rotated out: still accepted until removed (docs/operations.md).
    pub previous_secret: Option<Secret>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            listen: ([0, 0, 0, 0], 8080).into(),
            secret: None,
            secret_file: None,
            previous_secret: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: ([0, 0, 0, 0], 9187).into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Upper bound on how long a change waits before its flush (DESIGN §2.3).
    pub flush_interval_ms: u64,
    /// Sheets write quota of the service account (Google's default: 60 per minute).
    pub write_requests_per_minute: u32,
    /// Sheets read quota of the service account (Google's default: 60 per minute).
    pub read_requests_per_minute: u32,
    /// Time zone TIMESTAMP columns are shown in (an IANA name or `UTC`).
    pub time_zone: String,
    /// What to do when the saved position was purged from the server's binlog.
    pub on_binlog_gone: OnBinlogGone,
    /// What binary columns become in the sheet: `"base64"` text or `"skip"` (left out).
    pub binary: crate::cell::BinaryMode,
    /// How long sheetsync may be stopped before the binlog it needs could be purged: `check`
    /// fails when the server keeps its binlog for less than this.
    pub retention_margin_hours: u32,
    /// `/readyz` answers 503 while any streaming mapping lags more than this many seconds.
    pub ready_max_lag_seconds: u64,
    /// Whether a standby (waiting for the lease) answers `/readyz` with 200; by default 503, so
    /// a load balancer sends webhooks to the leader only.
    pub standby_ready: bool,
    /// Every this many seconds the lease holder reconciles each tab with its table and repairs
    /// the drift (as `sheetsync reconcile` does); 0 turns it off (the default).
    pub reconcile_interval_seconds: u64,
    /// Decoded rows of one binlog transaction held before it is handed on in parts (KiB):
    /// bounds memory however large a transaction is; the checkpoint still moves only at its
    /// commit.
    pub transaction_buffer_kib: u32,
}

/// DESIGN §2.10: never skip silently; reload the mappings from a fresh snapshot, or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnBinlogGone {
    Resnapshot,
    Stop,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            flush_interval_ms: 250,
            write_requests_per_minute: 60,
            read_requests_per_minute: 60,
            time_zone: "UTC".into(),
            on_binlog_gone: OnBinlogGone::Resnapshot,
            binary: crate::cell::BinaryMode::Base64,
            retention_margin_hours: 24,
            ready_max_lag_seconds: 60,
            standby_ready: false,
            reconcile_interval_seconds: 0,
            transaction_buffer_kib: (crate::binlog::transaction::PART_BYTES / 1024) as u32,
        }
    }
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `text` or `json` (`SHEETSYNC_LOGGING_FORMAT`).
    pub format: LogFormat,
}

/// How a disagreement between an edit and the database is resolved (DESIGN §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    LastWriteWins,
    DbWins,
    SheetWins,
    /// Keep the larger number (counters edited on both sides); numeric columns only.
    Max,
}

/// One MySQL table ⇄ one tab of one spreadsheet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Used by `--mapping`; defaults to the table name.
    #[serde(default)]
    pub name: String,
    /// `database.table`.
    pub table: String,
    pub spreadsheet_id: String,
    /// The tab title.
    pub sheet: String,
    /// Synced columns; default all columns in table order.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    #[serde(default = "default_conflict")]
    pub conflict: ConflictPolicy,
    /// Per-column overrides of `conflict`.
    #[serde(default)]
    pub column_conflict: BTreeMap<String, ConflictPolicy>,
    /// Propagate row deletes both ways.
    #[serde(default = "default_true")]
    pub deletes: bool,
}

impl MappingConfig {
    /// `(database, table)` from `table` (validated to have exactly one dot).
    pub fn database_and_table(&self) -> (&str, &str) {
        self.table
            .split_once('.')
            .unwrap_or(("", self.table.as_str()))
    }
}

fn default_conflict() -> ConflictPolicy {
    ConflictPolicy::LastWriteWins
}

fn default_true() -> bool {
    true
}

impl Config {
    /// Read `path`, overlay the process environment, validate.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Unreadable {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        Self::from_figment(Figment::from(Toml::string(&text)).merge(environment()))
    }

    /// Parse TOML text without looking at the environment (tests, and `check` of a snippet).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|error| ConfigError::Parse(describe(&error)))?;
        validate::validate(&mut config)?;
        // An unknown time zone is a configuration error now, not a surprise at the first write.
        crate::cell::CellOptions::from_config(&config.sync).map_err(|error| {
            ConfigError::Invalid {
                key: "sync.time_zone".into(),
                message: match error {
                    crate::cell::CellError::UnknownTimeZone { name, message } => {
                        format!("unknown time zone `{name}` ({message}); use an IANA name such as `UTC` or `Europe/Berlin`")
                    }
                },
            }
        })?;
        Ok(config)
    }

    /// The webhook secret from `webhook.secret` or `webhook.secret_file`.
    pub fn webhook_secret(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(secret) = &self.webhook.secret {
            return Ok(Some(secret.clone()));
        }
        match &self.webhook.secret_file {
            None => Ok(None),
            Some(path) => std::fs::read_to_string(path)
                .map(|text| Some(Secret::new(text.trim_end_matches(['\r', '\n']).to_string())))
                .map_err(|error| ConfigError::Invalid {
                    key: "webhook.secret_file".into(),
                    message: format!("cannot read {}: {error}", path.display()),
                }),
        }
    }
}

/// `SHEETSYNC_<SECTION>_<KEY>` → `<section>.<key>`; other variables are ignored.
fn environment() -> Env {
    Env::prefixed("SHEETSYNC_")
        .filter(|key| section_key(key.as_str()).is_some())
        .map(|key| section_key(key.as_str()).unwrap_or_default().into())
}

fn section_key(variable: &str) -> Option<String> {
    let lower = variable.to_ascii_lowercase();
    let (section, key) = lower.split_once('_')?;
    (SECTIONS.contains(&section) && !key.is_empty()).then(|| format!("{section}.{key}"))
}

/// A figment error without values that could hold secrets: the path of the key and the kind.
fn describe(error: &figment::Error) -> String {
    let key = error.path.join(".");
    let kind = error.kind.to_string();
    if key.is_empty() {
        kind
    } else {
        format!("key `{key}`: {kind}")
    }
}

#[cfg(test)]
mod tests;
