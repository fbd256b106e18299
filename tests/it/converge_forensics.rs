//! What a convergence run leaves behind for finding the cause of a divergence: a trace of both
//! sides' actions, stamped like sheetsync's log (UTC), and on [`keep_forensics`] sheetsync's log,
//! that trace and every Sheets write the emulator took, in `target/converge/forensics/`.

use std::path::Path;

use sheets_emulator::person::{Outcome, PersonError};
use sheets_emulator::EmulatorState;

use crate::converge_support::Counters;

impl Counters {
    /// One line of the trace, stamped with the UTC time of day.
    pub fn note(&self, text: String) {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let seconds = since_epoch.as_secs() % 86_400;
        let stamp = format!(
            "{:02}:{:02}:{:02}.{:03}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            since_epoch.subsec_millis()
        );
        self.trace
            .lock()
            .expect("trace")
            .push(format!("{stamp} {text}"));
    }

    /// The person's call and what it caused, for the trace.
    pub fn note_person(&self, what: String, result: &Result<Outcome, PersonError>) {
        match result {
            Ok(outcome) => {
                let deliveries: Vec<String> = outcome
                    .deliveries
                    .iter()
                    .map(|report| {
                        format!(
                            "  {} {} -> {} {}",
                            report.kind, report.request_body, report.status, report.body
                        )
                    })
                    .collect();
                self.note(format!(
                    "person {what}: keys {:?} log {:?}\n{}",
                    outcome.keys_written,
                    outcome.log,
                    deliveries.join("\n")
                ));
            }
            Err(error) => self.note(format!("person {what}: refused: {error}")),
        }
    }
}

/// Keeps what a run leaves behind in `target/converge/forensics/`: sheetsync's log, the trace of
/// both sides' actions, and every Sheets call the emulator logged (bodies included), so a
/// divergence, even one of the 30-minute run, can be traced after the temporary files are gone.
pub fn keep_forensics(
    emulator: &EmulatorState,
    (spreadsheet_id, sheet): (&str, &str),
    counters: &Counters,
    log: &Path,
) {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/converge/forensics");
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("forensics directory");
    let _ = std::fs::copy(log, directory.join("sheetsync.log"));
    let trace = counters.trace.lock().expect("trace").join("\n");
    std::fs::write(directory.join("trace.txt"), trace).expect("trace file");
    let requests: Vec<String> = emulator
        .control
        .requests(None)
        .into_iter()
        .filter(|entry| entry.method != "GET")
        .map(|entry| {
            format!(
                "#{} {} {}{} {} {} {}",
                entry.seq,
                entry.completed_unix_ms,
                entry.status,
                if entry
                    .fault
                    .as_deref()
                    .is_some_and(|fault| fault.contains("after"))
                {
                    "-applied"
                } else {
                    ""
                },
                entry.method,
                entry.path,
                entry.body
            )
        })
        .collect();
    std::fs::write(directory.join("requests.txt"), requests.join("\n")).expect("requests file");
    let tab: Vec<String> = emulator
        .store
        .sheet_values(spreadsheet_id, sheet)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, row)| format!("{} {}", index + 1, serde_json::Value::from(row.clone())))
        .collect();
    std::fs::write(directory.join("tab.txt"), tab.join("\n")).expect("tab file");
}

/// Watches the tab while a run goes on and notes in the trace the moment a key first shows on two
/// rows (a person never types a key, so no duplicate is legitimate, even for an instant), with
/// the emulator's last request number and, for the first few, the whole key column. This turns
/// "354 keys twice at the end" into "key 812 doubled right after request #4411".
pub fn watch_duplicates(
    emulator: std::sync::Arc<EmulatorState>,
    spreadsheet_id: String,
    sheet: &'static str,
    counters: std::sync::Arc<Counters>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut known = std::collections::BTreeSet::new();
        let mut dumps = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let seq = emulator.control.last_seq();
            let column = key_column(&emulator, &spreadsheet_id, sheet);
            let mut rows_by_key: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
            for (row, key) in &column {
                rows_by_key.entry(key.as_str()).or_default().push(*row);
            }
            let doubled: std::collections::BTreeSet<String> = rows_by_key
                .iter()
                .filter(|(_, rows)| rows.len() > 1)
                .map(|(key, _)| key.to_string())
                .collect();
            for key in doubled.difference(&known) {
                counters
                    .keys_seen_twice
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let rows = &rows_by_key[key.as_str()];
                counters.note(format!(
                    "DUPLICATE key {key} on rows {rows:?} after request #{seq}"
                ));
                if dumps < 5 {
                    dumps += 1;
                    counters.note(format!("DUPLICATE key column: {column:?}"));
                }
            }
            for key in known.difference(&doubled) {
                counters.note(format!("DUPLICATE gone: key {key} after request #{seq}"));
            }
            known = doubled;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
}

/// The tab's keyed rows as (row number, key), row 1 being the header.
fn key_column(emulator: &EmulatorState, spreadsheet_id: &str, sheet: &str) -> Vec<(usize, String)> {
    emulator
        .store
        .sheet_values(spreadsheet_id, sheet)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(index, row)| {
            let key = row.first()?;
            let text = match key {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            (!text.is_empty()).then_some((index + 1, text))
        })
        .collect()
}
