//! Helpers for the MySQL → Sheets scenarios: a database on the shared MariaDB, an emulator with
//! a spreadsheet, a config pointing sheetsync at both, the pipeline running in-process, and
//! bounded waits until the tab equals the table.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use sheets_emulator::RunningEmulator;
use sheetsync::config::Config;
use sheetsync::sync::json_key_text;
use sheetsync::sync::pipeline::{self, Extensions, PipelineError, RunOptions};
use sheetsync_testbed::{MariaDb, TestDatabase};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::binlog_support::replica_server_id;
use crate::sheets_support::{key_file, start_emulator};

pub struct SyncBed {
    pub database: TestDatabase,
    pub emulator: RunningEmulator,
    pub spreadsheet_id: String,
    pub server_id: u32,
    pub mysql_url: String,
}

impl SyncBed {
    /// A fresh database with `statements` run in it, an emulator, and an empty spreadsheet
    /// with one tab, `Sheet1` (sheetsync creates the mapped tabs itself).
    pub async fn start(prefix: &str, statements: &[&str]) -> SyncBed {
        Self::start_on(MariaDb::shared(), prefix, statements).await
    }

    pub async fn start_on(server: &MariaDb, prefix: &str, statements: &[&str]) -> SyncBed {
        let database = server.create_database(prefix).await;
        execute(&database.url, statements).await;
        let emulator = start_emulator().await;
        let spreadsheet_id = emulator.state.store.create_spreadsheet(prefix, &["Sheet1"]);
        SyncBed {
            mysql_url: server.root_url(),
            database,
            emulator,
            spreadsheet_id,
            server_id: replica_server_id(),
        }
    }

    /// Config text with the given `[[mapping]]` tables (`table`, `sheet` pairs) and extra
    /// `[sync]` lines.
    pub fn config_text(&self, mappings: &[(&str, &str)], sync_lines: &str) -> String {
        let mappings: Vec<(&str, &str, &str)> = mappings
            .iter()
            .map(|(table, sheet)| (*table, self.spreadsheet_id.as_str(), *sheet))
            .collect();
        self.config_text_with(&mappings, sync_lines)
    }

    /// Config text with `[[mapping]]` tables given as (`table`, `spreadsheet_id`, `sheet`).
    pub fn config_text_with(&self, mappings: &[(&str, &str, &str)], sync_lines: &str) -> String {
        let mut text = format!(
            "[metrics]\nlisten = \"127.0.0.1:0\"\n[webhook]\nlisten = \"127.0.0.1:0\"\n[mysql]\nurl = \"{}\"\nserver_id = {}\n[google]\ncredentials_file = \"{}\"\napi_base = \"{}\"\n[sync]\n{sync_lines}\n",
            self.mysql_url,
            self.server_id,
            key_file(&self.emulator).display(),
            self.emulator.base_url,
        );
        for (table, spreadsheet_id, sheet) in mappings {
            text.push_str(&format!(
                "[[mapping]]\ntable = \"{}.{table}\"\nspreadsheet_id = \"{spreadsheet_id}\"\nsheet = \"{sheet}\"\n",
                self.database.name
            ));
        }
        text
    }

    pub fn config(&self, mappings: &[(&str, &str)]) -> Config {
        Config::from_toml(&self.config_text(mappings, "")).expect("config")
    }

    /// The tab as text rows (header first), each cell by its canonical key text.
    pub fn tab(&self, sheet: &str) -> Vec<Vec<String>> {
        tab_of(&self.emulator, &self.spreadsheet_id, sheet)
    }
}

pub fn tab_of(emulator: &RunningEmulator, spreadsheet_id: &str, sheet: &str) -> Vec<Vec<String>> {
    emulator
        .state
        .store
        .sheet_values(spreadsheet_id, sheet)
        .unwrap_or_default()
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row.iter().map(json_key_text).collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .collect()
}

/// The data rows of a tab, sorted (row order in the sheet is not part of the contract).
pub fn sorted_data_rows(tab: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = tab
        .iter()
        .skip(1)
        .filter(|row| !row.is_empty())
        .cloned()
        .collect();
    rows.sort();
    rows
}

/// The table's rows as text, every column in `columns` order, NULL as "".
pub async fn table_rows(url: &str, table: &str, columns: &str) -> Vec<Vec<String>> {
    let mut conn = mysql_async::Conn::from_url(url).await.expect("connect");
    let rows: Vec<mysql_async::Row> = conn
        .query(format!("SELECT {columns} FROM {table}"))
        .await
        .expect("select");
    let _ = conn.disconnect().await;
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            (0..row.len())
                .map(|index| match row.as_ref(index) {
                    Some(mysql_async::Value::NULL) | None => String::new(),
                    Some(mysql_async::Value::Bytes(bytes)) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    Some(other) => other.as_sql(true).trim_matches('\'').to_string(),
                })
                .collect::<Vec<String>>()
        })
        .map(|mut row| {
            // Google leaves trailing empty cells out of a row; compare like with like.
            while row.last().is_some_and(String::is_empty) {
                row.pop();
            }
            row
        })
        .collect();
    rows.sort();
    rows
}

/// Polls `check` until it returns true, at most `limit`; panics with `what` otherwise.
pub async fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls until the tab's sorted data rows equal the table's (as text).
pub async fn wait_for_tab_to_equal_table(
    bed: &SyncBed,
    sheet: &str,
    table: &str,
    columns: &str,
    limit: Duration,
) {
    wait_for_tab_in(bed, &bed.spreadsheet_id, sheet, table, columns, limit).await
}

/// Like [`wait_for_tab_to_equal_table`], for a tab of another spreadsheet of the emulator.
pub async fn wait_for_tab_in(
    bed: &SyncBed,
    spreadsheet_id: &str,
    sheet: &str,
    table: &str,
    columns: &str,
    limit: Duration,
) {
    if let Err(message) =
        try_wait_for_tab_in(bed, spreadsheet_id, sheet, table, columns, limit).await
    {
        panic!("{message}");
    }
}

/// Like [`wait_for_tab_to_equal_table`], but says why instead of panicking.
pub async fn try_wait_for_tab_to_equal_table(
    bed: &SyncBed,
    sheet: &str,
    table: &str,
    columns: &str,
    limit: Duration,
) -> Result<(), String> {
    try_wait_for_tab_in(bed, &bed.spreadsheet_id, sheet, table, columns, limit).await
}

async fn try_wait_for_tab_in(
    bed: &SyncBed,
    spreadsheet_id: &str,
    sheet: &str,
    table: &str,
    columns: &str,
    limit: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let expected = table_rows(&bed.database.url, table, columns).await;
        let actual = sorted_data_rows(&tab_of(&bed.emulator, spreadsheet_id, sheet));
        if expected == actual {
            return Ok(());
        }
        if Instant::now() > deadline {
            let shorten = |rows: &[Vec<String>]| {
                let text = format!("{} rows: {:?}", rows.len(), rows);
                text.chars().take(600).collect::<String>()
            };
            return Err(format!(
                "tab {sheet} did not converge to table {table} within {limit:?}\n table: {}\n tab:   {}",
                shorten(&expected),
                shorten(&actual)
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The pipeline running in-process until [`RunningSync::stop`].
pub struct RunningSync {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), PipelineError>>,
}

impl RunningSync {
    pub fn start(config: Config) -> RunningSync {
        Self::start_with(
            config,
            RunOptions {
                heartbeat: Duration::from_secs(1),
                ..RunOptions::default()
            },
            Extensions::default(),
        )
    }

    pub fn start_with(config: Config, options: RunOptions, extensions: Extensions) -> RunningSync {
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task =
            tokio::spawn(async move { pipeline::run(&config, options, extensions, token).await });
        RunningSync { shutdown, task }
    }

    /// Graceful stop; returns the pipeline's result.
    pub async fn stop(self) -> Result<(), PipelineError> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("pipeline stops within 30 s")
            .expect("pipeline task")
    }
}

pub async fn execute(url: &str, statements: &[&str]) {
    crate::binlog_support::execute(url, statements).await
}

/// The cell (the emulator's `CellData` JSON) on the row whose first column holds `key`, in the
/// column headed `column`; panics when either is missing.
pub fn cell_by_key(
    emulator: &RunningEmulator,
    spreadsheet_id: &str,
    sheet: &str,
    key: &str,
    column: &str,
) -> serde_json::Value {
    let tab = tab_of(emulator, spreadsheet_id, sheet);
    let header = tab.first().expect("a header row");
    let column_index = header
        .iter()
        .position(|name| name == column)
        .unwrap_or_else(|| panic!("no column `{column}` in {header:?}"));
    let row_index = tab
        .iter()
        .position(|row| row.first().map(String::as_str) == Some(key))
        .unwrap_or_else(|| panic!("no row with key `{key}` in tab {sheet}"));
    emulator
        .state
        .store
        .cell_data(spreadsheet_id, sheet, row_index as u32, column_index as u32)
        .expect("cell")
}

/// The keys in the first column of a tab's data rows, in sheet order (blank rows left out).
pub fn tab_keys(tab: &[Vec<String>]) -> Vec<String> {
    tab.iter()
        .skip(1)
        .filter_map(|row| row.first().cloned())
        .filter(|key| !key.is_empty())
        .collect()
}

/// Panics when a key appears on more than one row of the tab.
pub fn assert_no_key_twice(tab: &[Vec<String>]) {
    let keys = tab_keys(tab);
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "a key appears twice: {keys:?}");
}

/// Waits until the initial load stored its checkpoint: its last batch (rows removed, the
/// checkpoint) comes after a fresh read of the tab, after the rows are already all there.
pub async fn wait_for_initial_load(bed: &SyncBed) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).is_none() {
        assert!(
            Instant::now() < deadline,
            "the initial load never stored its checkpoint"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The checkpoint stored in a spreadsheet's developer metadata (`sheetsync.checkpoint`), if any.
pub fn stored_checkpoint(
    emulator: &RunningEmulator,
    spreadsheet_id: &str,
) -> Option<sheetsync::sync::checkpoint::Checkpoint> {
    use sheetsync::sync::checkpoint::{Checkpoint, CHECKPOINT_KEY};
    let entries = emulator.state.store.developer_metadata(spreadsheet_id)?;
    let entry = entries
        .iter()
        .find(|entry| entry["metadataKey"] == CHECKPOINT_KEY)?;
    let value = entry["metadataValue"].as_str()?;
    Some(Checkpoint::decode(spreadsheet_id, value).expect("a readable checkpoint"))
}

/// Runs `statements` on one connection and returns that session's `@@last_gtid` (MariaDB):
/// the GTID of the last transaction it committed.
pub async fn execute_returning_gtid(url: &str, statements: &[&str]) -> sheetsync::position::Gtid {
    let mut connection = mysql_async::Conn::from_url(url).await.expect("connect");
    for statement in statements {
        connection
            .query_drop(*statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    let text: String = connection
        .query_first("SELECT @@last_gtid")
        .await
        .expect("@@last_gtid")
        .expect("a row");
    let _ = connection.disconnect().await;
    let position: sheetsync::position::BinlogPosition = text.parse().expect("a MariaDB GTID");
    match position {
        sheetsync::position::BinlogPosition::MariaDbGtids(domains) => {
            let gtid = domains.into_values().next().expect("one GTID");
            sheetsync::position::Gtid::MariaDb(gtid)
        }
        other => panic!("not a MariaDB GTID: {other}"),
    }
}

/// Sends sheetsync's log (info and up) to the test's captured output, shown when it fails.
pub fn log_to_test_output() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_test_writer()
        .try_init();
}

/// The tab's data rows projected onto the columns headed `columns` (a missing header reads as
/// empty cells), trailing empty cells trimmed, sorted: comparable with [`table_rows`].
pub fn tab_columns(tab: &[Vec<String>], columns: &[&str]) -> Vec<Vec<String>> {
    let Some(header) = tab.first() else {
        return Vec::new();
    };
    let indexes: Vec<Option<usize>> = columns
        .iter()
        .map(|name| header.iter().position(|cell| cell == name))
        .collect();
    let mut rows: Vec<Vec<String>> = tab
        .iter()
        .skip(1)
        .filter(|row| !row.is_empty())
        .map(|row| {
            let mut cells: Vec<String> = indexes
                .iter()
                .map(|index| {
                    index
                        .and_then(|index| row.get(index))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .collect();
    rows.sort();
    rows
}

/// sheetsync's log lines (info and up), captured for the current thread: with the default
/// current-thread test runtime that is everything the pipeline logs.
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

struct CapturedWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// Captures until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let buffer = self.0.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || CapturedWriter(buffer.clone()))
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Waits out the allowance after a tab load during which a person's edit is written back to
/// the sheet once instead of being dropped as an echo (`apply::clock`): tests that count echo
/// writes make their edit after it, as a person editing a loaded tab would.
pub async fn wait_past_the_load_allowance() {
    let allowance = sheetsync::apply::clock::REWRITE_CLOCK_ALLOWANCE_MILLISECONDS as u64;
    tokio::time::sleep(Duration::from_millis(allowance + 250)).await;
}

/// Makes the emulator's writes wait `milliseconds` before they apply (reads stay fast); `0`
/// makes them fast again.
pub fn slow_writes(emulator: &RunningEmulator, milliseconds: u64) {
    emulator
        .state
        .control
        .set_latency(sheets_emulator::control::LatencySettings {
            write_ms: (milliseconds > 0).then_some(milliseconds),
            ..sheets_emulator::control::LatencySettings::default()
        });
}
