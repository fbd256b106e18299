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
        let mut text = format!(
            "[metrics]\nlisten = \"127.0.0.1:0\"\n[webhook]\nlisten = \"127.0.0.1:0\"\n[mysql]\nurl = \"{}\"\nserver_id = {}\n[google]\ncredentials_file = \"{}\"\napi_base = \"{}\"\n[sync]\n{sync_lines}\n",
            self.mysql_url,
            self.server_id,
            key_file(&self.emulator).display(),
            self.emulator.base_url,
        );
        for (table, sheet) in mappings {
            text.push_str(&format!(
                "[[mapping]]\ntable = \"{}.{table}\"\nspreadsheet_id = \"{}\"\nsheet = \"{sheet}\"\n",
                self.database.name, self.spreadsheet_id
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
    if let Err(message) = try_wait_for_tab_to_equal_table(bed, sheet, table, columns, limit).await {
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
    let deadline = Instant::now() + limit;
    loop {
        let expected = table_rows(&bed.database.url, table, columns).await;
        let actual = sorted_data_rows(&bed.tab(sheet));
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
