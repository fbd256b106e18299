//! Pieces of the convergence harness (`converge.rs`): the real `sheetsync run` process under
//! `kill -9`, an SQL writer that survives MariaDB restarts, the emulated person's random edits,
//! and the counters the final JSON summary is made of. Every loop stops at the shared deadline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use mysql_async::prelude::Queryable;
use serde_json::{json, Map, Value};
use sheets_emulator::person::{AddRow, Edit, RowSpan};
use sheets_emulator::EmulatorState;
use sheetsync::sync::json_key_text;

use crate::converge_profile::Profile;

/// The counters of one run, shared by the workload and fault tasks.
#[derive(Default)]
pub struct Counters {
    pub sql_transactions: AtomicU64,
    pub sql_statements: AtomicU64,
    pub sql_failed: AtomicU64,
    pub person_edits: AtomicU64,
    pub person_pastes: AtomicU64,
    pub person_added_rows: AtomicU64,
    pub person_deleted_rows: AtomicU64,
    pub person_refused: AtomicU64,
    pub conflicts_provoked: AtomicU64,
    pub max_lag_milliseconds: AtomicU64,
    pub peak_rss_kilobytes: AtomicU64,
    /// Keys the duplicate watcher saw on two rows at some moment (healed or not).
    pub keys_seen_twice: AtomicU64,
    pub faults: Mutex<BTreeMap<&'static str, u64>>,
    /// What each side did, timestamped like sheetsync's log (UTC), kept in
    /// `target/converge/forensics/` so a divergence can be traced to its cause.
    pub trace: Mutex<Vec<String>>,
}

impl Counters {
    pub fn fault(&self, kind: &'static str) {
        *self.faults.lock().expect("faults").entry(kind).or_default() += 1;
    }

    pub fn faults_json(&self) -> Value {
        json!(*self.faults.lock().expect("faults"))
    }

    pub fn lag(&self, milliseconds: u64) {
        self.max_lag_milliseconds
            .fetch_max(milliseconds, Ordering::Relaxed);
    }
}

/// The real `sheetsync run` process, restarted after each `kill -9`.
pub struct Service {
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Service {
    pub fn start(config: &Path, log: &Path) -> Service {
        let mut service = Service {
            config: config.to_path_buf(),
            log: log.to_path_buf(),
            child: None,
        };
        service.spawn();
        service
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
        for (name, _) in std::env::vars() {
            if name.starts_with("SHEETSYNC_") {
                command.env_remove(name);
            }
        }
        let child = command
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sheetsync");
        self.child = Some(child);
    }

    /// `kill -9`: no flush, no cleanup. Records the process's peak RSS first.
    pub fn kill(&mut self, counters: &Counters) {
        self.sample_peak_rss(counters);
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Alive (not exited by itself): a process that exits under a fault is a failure to report,
    /// not something a supervisor should hide.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// VmHWM of the running process (kB), folded into the counters' maximum.
    pub fn sample_peak_rss(&self, counters: &Counters) {
        let Some(child) = &self.child else { return };
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let peak = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0);
        counters
            .peak_rss_kilobytes
            .fetch_max(peak, Ordering::Relaxed);
    }

    pub fn log_tail(&self, characters: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let skip = text.chars().count().saturating_sub(characters);
        text.chars().skip(skip).collect()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs one transaction of `statements`; a failure (the server restarting) drops the
/// connection and counts, never panics: the table is the truth the tab is compared with.
pub async fn transaction(
    url: &str,
    connection: &mut Option<mysql_async::Conn>,
    statements: &[String],
    counters: &Counters,
) -> bool {
    if connection.is_none() {
        *connection = mysql_async::Conn::from_url(url).await.ok();
    }
    let Some(open) = connection.as_mut() else {
        counters.sql_failed.fetch_add(1, Ordering::Relaxed);
        return false;
    };
    let mut all = vec!["START TRANSACTION".to_string()];
    all.extend(statements.iter().cloned());
    all.push("COMMIT".to_string());
    for statement in &all {
        if open.query_drop(statement).await.is_err() {
            *connection = None;
            counters.sql_failed.fetch_add(1, Ordering::Relaxed);
            return false;
        }
    }
    counters.sql_transactions.fetch_add(1, Ordering::Relaxed);
    counters.note(format!("sql: {}", statements.join("; ")));
    counters
        .sql_statements
        .fetch_add(statements.len() as u64, Ordering::Relaxed);
    true
}

/// The ids currently in the table (empty when the server is down).
pub async fn table_ids(connection: &mut Option<mysql_async::Conn>, url: &str) -> Vec<i64> {
    if connection.is_none() {
        *connection = mysql_async::Conn::from_url(url).await.ok();
    }
    let Some(open) = connection.as_mut() else {
        return Vec::new();
    };
    match open.query::<i64, _>("SELECT id FROM items").await {
        Ok(ids) => ids,
        Err(_) => {
            *connection = None;
            Vec::new()
        }
    }
}

/// A random transaction of 1–20 inserts, updates and deletes over `ids`.
pub fn random_statements(random: &mut fastrand::Rng, ids: &[i64], round: u64) -> Vec<String> {
    let size = [1, 1, 2, 5, 20][random.usize(0..5)];
    (0..size)
        .map(|index| {
            let pick = ids.get(random.usize(0..ids.len().max(1))).copied();
            match (random.u8(0..10), pick) {
                (0..=3, _) | (_, None) => format!(
                    "INSERT INTO items (name, qty) VALUES ('db {round}.{index}', {})",
                    random.i32(0..1000)
                ),
                (4..=6, Some(id)) => {
                    format!("UPDATE items SET name = 'db {round}.{index}' WHERE id = {id}")
                }
                (7..=8, Some(id)) => format!(
                    "UPDATE items SET qty = {} WHERE id = {id}",
                    random.i32(0..1000)
                ),
                (_, Some(id)) => format!("DELETE FROM items WHERE id = {id}"),
            }
        })
        .collect()
}

/// Where the person may act: (1-based sheet row, key) of each keyed data row, and the 1-based
/// columns of `name` and `qty`.
pub struct TabView {
    pub rows: Vec<(u32, String)>,
    pub name_column: u32,
    pub qty_column: u32,
}

pub fn view(emulator: &EmulatorState, spreadsheet_id: &str, sheet: &str) -> Option<TabView> {
    let tab: Vec<Vec<String>> = emulator
        .store
        .sheet_values(spreadsheet_id, sheet)
        .unwrap_or_default()
        .iter()
        .map(|row| row.iter().map(json_key_text).collect())
        .collect();
    let header = tab.first()?;
    let column = |name: &str| header.iter().position(|cell| cell == name);
    let name_column = column("name")? as u32 + 1;
    let qty_column = column("qty")? as u32 + 1;
    let rows = tab
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(index, row)| {
            let key = row.first().filter(|key| !key.is_empty())?;
            Some((index as u32 + 1, key.clone()))
        })
        .collect();
    Some(TabView {
        rows,
        name_column,
        qty_column,
    })
}

/// One random action of the person, among those `profile` enables; `adding` says whether new
/// rows may be typed (only when the webhook answers: a new row's key comes back in the answer).
pub async fn person_action(
    emulator: &EmulatorState,
    spreadsheet_id: &str,
    sheet: &str,
    (round, random): (u64, &mut fastrand::Rng),
    (profile, adding): (&Profile, bool),
    counters: &Counters,
) {
    let person = emulator.person();
    let Some(tab) = view(emulator, spreadsheet_id, sheet) else {
        return;
    };
    // Weights: edits 5, pastes 2, adds 2, deletes 1, as people use a sheet.
    let mut kinds = Vec::new();
    for (kind, weight) in [("edit", 5), ("paste", 2), ("add", 2), ("delete", 1)] {
        if profile.acts(kind) && (kind != "add" || adding) {
            kinds.extend(std::iter::repeat_n(kind, weight));
        }
    }
    if kinds.is_empty() {
        return;
    }
    let kind = kinds[random.usize(0..kinds.len())];
    let row = tab.rows.get(random.usize(0..tab.rows.len().max(1)));
    let what = format!("{kind} at {row:?}");
    let result = match (kind, row) {
        ("edit", Some((row, _))) => {
            counters.person_edits.fetch_add(1, Ordering::Relaxed);
            let (column, value) = if random.bool() {
                (tab.name_column, json!(format!("sheet {round}")))
            } else {
                (tab.qty_column, json!(random.i32(0..1000)))
            };
            let edit = Edit {
                spreadsheet_id: spreadsheet_id.into(),
                sheet: sheet.into(),
                row: Some(*row),
                column: Some(column),
                value: Some(value),
                ..Edit::default()
            };
            person.edit(&edit).await
        }
        ("paste", Some((row, _))) => {
            counters.person_pastes.fetch_add(1, Ordering::Relaxed);
            // Within the keyed rows: a paste below the data adds rows, which is the `add`
            // action's business (so each can be switched on and off alone).
            let below = tab.rows.iter().filter(|(other, _)| other >= row).count() as u32;
            let height = random.u32(1..4).min(below.max(1));
            let values = (0..height)
                .map(|line| vec![json!(format!("paste {round}.{line}")), json!(line)])
                .collect();
            let edit = Edit {
                spreadsheet_id: spreadsheet_id.into(),
                sheet: sheet.into(),
                row: Some(*row),
                column: Some(tab.name_column),
                values: Some(values),
                ..Edit::default()
            };
            person.edit(&edit).await
        }
        ("delete", Some((row, _))) => {
            counters.person_deleted_rows.fetch_add(1, Ordering::Relaxed);
            let span = RowSpan {
                spreadsheet_id: spreadsheet_id.into(),
                sheet: sheet.into(),
                row: *row,
                count: 1,
                user: None,
            };
            person.delete_rows(&span).await
        }
        ("add", _) => {
            counters.person_added_rows.fetch_add(1, Ordering::Relaxed);
            // The grid the writer grows holds no blank row below the data: a person inserts
            // one first (`onChange` INSERT_ROW), or the typing would fall outside the grid.
            let used = emulator
                .store
                .sheet_values(spreadsheet_id, sheet)
                .map_or(0, |values| values.len() as u32);
            let grid = emulator
                .store
                .grid_size(spreadsheet_id, sheet)
                .map_or(0, |(rows, _)| rows);
            if used >= grid {
                let span = RowSpan {
                    spreadsheet_id: spreadsheet_id.into(),
                    sheet: sheet.into(),
                    row: grid + 1,
                    count: 1,
                    user: None,
                };
                let inserted = person.insert_rows(&span).await;
                counters.note_person(format!("insert row {} for a new row", grid + 1), &inserted);
            }
            let mut values = Map::new();
            values.insert("name".into(), json!(format!("new {round}")));
            values.insert("qty".into(), json!(random.i32(0..1000)));
            let add = AddRow {
                spreadsheet_id: spreadsheet_id.into(),
                sheet: sheet.into(),
                values,
                ..AddRow::default()
            };
            person.add_row(&add).await
        }
        _ => return,
    };
    counters.note_person(what, &result);
    if result.is_err() {
        counters.person_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// A conflict on purpose: the database changes a row's name and, before the change can reach
/// the sheet, the person types over the same cell (what they saw is stale).
pub async fn provoke_conflict(
    emulator: &EmulatorState,
    spreadsheet_id: &str,
    sheet: &str,
    url: &str,
    connection: &mut Option<mysql_async::Conn>,
    (round, random): (u64, &mut fastrand::Rng),
    counters: &Counters,
) {
    let Some(tab) = view(emulator, spreadsheet_id, sheet) else {
        return;
    };
    let Some((row, key)) = tab.rows.get(random.usize(0..tab.rows.len().max(1))) else {
        return;
    };
    let Ok(id) = key.parse::<i64>() else { return };
    let statement = format!("UPDATE items SET name = 'db conflict {round}' WHERE id = {id}");
    if !transaction(url, connection, &[statement], counters).await {
        return;
    }
    let edit = Edit {
        spreadsheet_id: spreadsheet_id.into(),
        sheet: sheet.into(),
        row: Some(*row),
        column: Some(tab.name_column),
        value: Some(json!(format!("sheet conflict {round}"))),
        ..Edit::default()
    };
    let result = emulator.person().edit(&edit).await;
    counters.note_person(format!("conflict edit at row {row} key {key}"), &result);
    if result.is_ok() {
        counters.conflicts_provoked.fetch_add(1, Ordering::Relaxed);
    }
}
