//! The test bed of one benchmark: its own MariaDB (`sheetsync_testbed::MariaDb::start`), an
//! in-process Sheets emulator with Google's default quota, a spreadsheet, and the release
//! `sheetsync run` binary as a child process with a generated config.
//!
//! Consumes a benchmark's name and tab shapes; produces a [`Bed`] with helpers to run SQL, read
//! the binlog position, watch sheetsync's checkpoint and compare a tab with its table.
//! Guarantees: every wait is bounded and says what it waited for; a sheetsync that exits early
//! is reported with its log's tail; the server and the emulator end with the bed.

use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use mysql_async::prelude::Queryable as _;
use serde_json::json;
use sheets_emulator::control::{LoggedRequest, QuotaSettings};
use sheets_emulator::{EmulatorConfig, RunningEmulator};
use sheetsync::position::BinlogPosition;
use sheetsync::sync::checkpoint::{Checkpoint, CHECKPOINT_KEY};
use sheetsync::sync::json_key_text;
use sheetsync_testbed::MariaDb;

use crate::process::ChildProcess;

/// Google's default per-user quota: a sheetsync that overran it would collect 429s.
pub const GOOGLE_REQUESTS_PER_MINUTE: u32 = 60;

/// Where sheetsync's logs are kept after a run (`target/bench/logs/`); the bed's temporary
/// directory when unset.
pub static LOG_DIRECTORY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

pub struct Bed {
    name: String,
    pub server: MariaDb,
    pub database: String,
    /// `mysql://root@127.0.0.1:PORT/DATABASE`.
    pub url: String,
    pub emulator: RunningEmulator,
    pub spreadsheet_id: String,
    pub directory: tempfile::TempDir,
    server_id: u32,
}

/// A tab the spreadsheet starts with: title and column count (a tab as wide as the table keeps
/// a million-row tab under Google's 10-million-cell limit, as a person would size it).
pub struct TabShape<'a> {
    pub title: &'a str,
    pub columns: u32,
}

impl Bed {
    pub async fn start(name: &str, tabs: &[TabShape<'_>]) -> anyhow::Result<Bed> {
        let server = tokio::task::block_in_place(MariaDb::start)
            .context("start MariaDB (is mariadb-server installed? ./tests/run.sh installs it)")?;
        let database = server.create_database(name).await;
        let emulator = sheets_emulator::start(
            "127.0.0.1:0".parse().context("address")?,
            EmulatorConfig::default(),
        )
        .await
        .context("start the Sheets emulator")?;
        emulator.state.control.set_quota(QuotaSettings {
            read_requests_per_minute: Some(GOOGLE_REQUESTS_PER_MINUTE),
            write_requests_per_minute: Some(GOOGLE_REQUESTS_PER_MINUTE),
            window_ms: 60_000,
        });
        let sheets: Vec<serde_json::Value> = tabs
            .iter()
            .map(|tab| {
                json!({"properties": {"title": tab.title,
                    "gridProperties": {"rowCount": 1000, "columnCount": tab.columns}}})
            })
            .collect();
        let created = emulator
            .state
            .store
            .create_from_json(&json!({"properties": {"title": name}, "sheets": sheets}))
            .map_err(|error| anyhow::anyhow!("create the spreadsheet: {error:?}"))?;
        let spreadsheet_id = created["spreadsheetId"]
            .as_str()
            .context("the created spreadsheet has no id")?
            .to_string();
        Ok(Bed {
            name: name.into(),
            url: database.url.clone(),
            database: database.name,
            server,
            emulator,
            spreadsheet_id,
            directory: tempfile::tempdir().context("temp dir")?,
            server_id: next_replica_id(),
        })
    }

    /// A config for `mappings` (`table`, `sheet`) with extra `[sync]` lines.
    pub fn config_text(&self, mappings: &[(&str, &str)], sync_lines: &str) -> String {
        let key_file = self
            .emulator
            .key_file
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        let mut text = format!(
            "[mysql]\nurl = \"{}\"\nserver_id = {}\n[google]\ncredentials_file = \"{key_file}\"\napi_base = \"{}\"\n[sync]\n{sync_lines}\n",
            self.server.root_url(),
            self.server_id,
            self.emulator.base_url,
        );
        for (table, sheet) in mappings {
            text.push_str(&format!(
                "[[mapping]]\ntable = \"{}.{table}\"\nspreadsheet_id = \"{}\"\nsheet = \"{sheet}\"\n",
                self.database, self.spreadsheet_id
            ));
        }
        text
    }

    /// `sheetsync run` (release, beside this binary) with `config_text`, logging to the bed's
    /// directory.
    pub fn start_sheetsync(&self, config_text: &str) -> anyhow::Result<ChildProcess> {
        let config = self.directory.path().join("sheetsync.toml");
        std::fs::write(&config, config_text).context("write the sheetsync config")?;
        // Diagnostics: BENCH_SHEETSYNC_PREFIX="heaptrack -o /tmp/sheetsync" runs sheetsync under a
        // profiler (the memory figures then describe the wrapper, not sheetsync).
        let prefix: Vec<String> = std::env::var("BENCH_SHEETSYNC_PREFIX")
            .map(|text| text.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let mut command = match prefix.split_first() {
            Some((program, arguments)) => {
                let mut command = Command::new(program);
                command.args(arguments).arg(sheetsync_binary()?);
                command
            }
            None => Command::new(sheetsync_binary()?),
        };
        for (name, _) in std::env::vars() {
            if name.starts_with("SHEETSYNC_") {
                command.env_remove(name);
            }
        }
        command
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info");
        let log = match LOG_DIRECTORY.get() {
            Some(directory) => {
                std::fs::create_dir_all(directory)
                    .with_context(|| format!("create {}", directory.display()))?;
                directory.join(format!("{}-sheetsync.log", self.name))
            }
            None => self.directory.path().join("sheetsync.log"),
        };
        // A fresh log per run: the file is opened for appending.
        std::fs::write(&log, "").with_context(|| format!("create {}", log.display()))?;
        ChildProcess::spawn("sheetsync", command, &log)
    }

    pub async fn connect(&self) -> anyhow::Result<mysql_async::Conn> {
        mysql_async::Conn::from_url(self.url.as_str())
            .await
            .context("connect to the benchmark database")
    }

    pub async fn execute(&self, statements: &[&str]) -> anyhow::Result<()> {
        let mut connection = self.connect().await?;
        for statement in statements {
            connection
                .query_drop(*statement)
                .await
                .with_context(|| statement.to_string())?;
        }
        let _ = connection.disconnect().await;
        Ok(())
    }

    /// The sequence number of the last committed GTID (the test bed uses domain 0 only).
    pub async fn committed_sequence(&self) -> anyhow::Result<u64> {
        let mut connection = self.connect().await?;
        let position: String = connection
            .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
            .await?
            .context("no gtid_binlog_pos")?;
        let _ = connection.disconnect().await;
        let parsed = BinlogPosition::from_str(&position)
            .map_err(|error| anyhow::anyhow!("gtid_binlog_pos {position:?}: {error}"))?;
        sequence_of(&parsed).with_context(|| format!("no MariaDB GTID in {position:?}"))
    }

    /// The checkpoint sheetsync stored in the spreadsheet, if any.
    pub fn checkpoint(&self) -> anyhow::Result<Option<Checkpoint>> {
        let metadata = self
            .emulator
            .state
            .store
            .developer_metadata(&self.spreadsheet_id)
            .unwrap_or_default();
        let Some(entry) = metadata
            .iter()
            .find(|entry| entry["metadataKey"] == CHECKPOINT_KEY)
        else {
            return Ok(None);
        };
        let value = entry["metadataValue"].as_str().unwrap_or_default();
        let checkpoint = serde_json::from_str(value)
            .with_context(|| format!("the stored checkpoint is unreadable: {value}"))?;
        Ok(Some(checkpoint))
    }

    /// The GTID sequence the mapping's tab is complete up to.
    pub fn checkpoint_sequence(&self, mapping: &str) -> anyhow::Result<Option<u64>> {
        Ok(self
            .checkpoint()?
            .and_then(|checkpoint| checkpoint.mappings.get(mapping).and_then(sequence_of)))
    }

    /// Polls (every `every`) until the mapping's checkpoint covers `sequence`; the instant it
    /// was first seen. The checkpoint is written in the same atomic batch as the cells, so this
    /// is the moment the tab holds every change up to `sequence`.
    pub async fn wait_for_checkpoint(
        &self,
        mapping: &str,
        sequence: u64,
        limit: Duration,
        every: Duration,
        sheetsync: &mut ChildProcess,
    ) -> anyhow::Result<Instant> {
        let started = Instant::now();
        let mut checked_child = Instant::now();
        loop {
            if self
                .checkpoint_sequence(mapping)?
                .is_some_and(|saved| saved >= sequence)
            {
                return Ok(Instant::now());
            }
            if checked_child.elapsed() > Duration::from_millis(200) {
                sheetsync.check_running()?;
                checked_child = Instant::now();
            }
            if started.elapsed() > limit {
                bail!(
                    "the checkpoint of mapping `{mapping}` did not reach GTID sequence {sequence} within {limit:?} (it is at {:?}); sheetsync log tail:\n{}",
                    self.checkpoint_sequence(mapping)?,
                    sheetsync.log_tail(2000)
                );
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The tab's data rows as canonical text, sorted (header left out, trailing blanks trimmed).
    pub fn tab_rows(&self, sheet: &str) -> Vec<Vec<String>> {
        let values = self
            .emulator
            .state
            .store
            .sheet_values(&self.spreadsheet_id, sheet)
            .unwrap_or_default();
        let mut rows: Vec<Vec<String>> = values
            .iter()
            .skip(1)
            .map(|row| trimmed(row.iter().map(json_key_text).collect()))
            .filter(|row| !row.is_empty())
            .collect();
        rows.sort();
        rows
    }

    /// The table's rows as text (NULL as ""), sorted, like [`Bed::tab_rows`].
    pub async fn table_rows(&self, table: &str, columns: &str) -> anyhow::Result<Vec<Vec<String>>> {
        let mut connection = self.connect().await?;
        let rows: Vec<mysql_async::Row> = connection
            .query(format!("SELECT {columns} FROM {table}"))
            .await?;
        let _ = connection.disconnect().await;
        let mut rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| {
                trimmed(
                    (0..row.len())
                        .map(|index| match row.as_ref(index) {
                            Some(mysql_async::Value::NULL) | None => String::new(),
                            Some(mysql_async::Value::Bytes(bytes)) => {
                                String::from_utf8_lossy(bytes).into_owned()
                            }
                            Some(other) => other.as_sql(true).trim_matches('\'').to_string(),
                        })
                        .collect(),
                )
            })
            .collect();
        rows.sort();
        Ok(rows)
    }

    /// `None` when the tab equals the table; otherwise what differs first.
    pub async fn tab_difference(
        &self,
        sheet: &str,
        table: &str,
        columns: &str,
    ) -> anyhow::Result<Option<String>> {
        let expected = self.table_rows(table, columns).await?;
        let actual = self.tab_rows(sheet);
        if expected == actual {
            return Ok(None);
        }
        let first = expected
            .iter()
            .zip(&actual)
            .position(|(table_row, tab_row)| table_row != tab_row);
        Ok(Some(match first {
            Some(index) => format!(
                "{} table rows, {} tab rows; first difference at sorted row {index}: table {:?}, tab {:?}",
                expected.len(),
                actual.len(),
                expected[index],
                actual[index]
            ),
            None => format!("{} table rows, {} tab rows", expected.len(), actual.len()),
        }))
    }

    /// Write calls (every attempt, whatever its status) logged after `since`.
    pub fn writes_since(&self, since: u64) -> Vec<LoggedRequest> {
        self.emulator
            .state
            .control
            .requests(Some(since))
            .into_iter()
            .filter(|entry| entry.class == sheets_emulator::control::RequestClass::Write)
            .collect()
    }

    pub fn last_request(&self) -> u64 {
        self.emulator.state.control.last_seq()
    }

    /// `mariadbd`'s pid (for its memory).
    pub fn server_pid(&self) -> anyhow::Result<u32> {
        crate::process::pid_from_file(&self.server.directory().join("mariadbd.pid"))
    }

    /// Waits (bounded) until the mapping has a checkpoint: its initial load is complete.
    pub async fn wait_until_loaded(
        &self,
        mapping: &str,
        limit: Duration,
        sheetsync: &mut ChildProcess,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.wait_for_checkpoint(mapping, 0, limit, Duration::from_millis(20), sheetsync)
            .await?;
        Ok(started.elapsed())
    }
}

fn trimmed(mut row: Vec<String>) -> Vec<String> {
    // Google leaves trailing empty cells out of a row; compare like with like.
    while row.last().is_some_and(String::is_empty) {
        row.pop();
    }
    row
}

/// The highest MariaDB GTID sequence in a position.
pub fn sequence_of(position: &BinlogPosition) -> Option<u64> {
    match position {
        BinlogPosition::MariaDbGtids(gtids) => gtids.values().map(|gtid| gtid.sequence).max(),
        _ => None,
    }
}

fn next_replica_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    5_000_000 + (std::process::id() % 100_000) * 16 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The release `sheetsync` next to this runner (`target/release/`).
pub fn sheetsync_binary() -> anyhow::Result<PathBuf> {
    let runner = std::env::current_exe().context("locate the runner")?;
    let binary = runner
        .parent()
        .context("the runner has no directory")?
        .join("sheetsync");
    if !binary.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p sheetsync` (./bench/run.sh does)",
            binary.display()
        );
    }
    Ok(binary)
}
