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
pub fn keep_forensics(emulator: &EmulatorState, counters: &Counters, log: &Path) {
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
}
