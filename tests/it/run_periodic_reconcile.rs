//! `sync.reconcile_interval_seconds` in the real `sheetsync run`: drift the stream cannot see (a
//! person's edit whose webhook was lost, a row's cells cleared in the sheet) is repaired by the
//! lease holder on its own — the edited cell gets the table's value back and the cleared row
//! is written again — while streaming goes on, and the reconcile counters show on `/metrics`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::run_support::{free_port, wait_for_readyz, Process};
use crate::support::write_config;
use crate::sync_support::{assert_no_key_twice, execute, tab_columns, table_rows, SyncBed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_holder_repairs_drift_periodically() {
    let bed = SyncBed::start(
        "run_periodic_reconcile",
        &[
            "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40), due DATE)",
            "INSERT INTO notes VALUES (1, 'one', '2024-01-01'), (2, 'two', NULL), (3, 'three', '2024-03-03')",
        ],
    )
    .await;
    let text = bed.config_text(&[("notes", "Notes")], "reconcile_interval_seconds = 1");
    let (directory, config) = write_config(&text);
    let port = free_port();
    let service = Process::run(&config, &directory.path().join("sheetsync.log"), port);
    wait_for_readyz(&service, 200, Duration::from_secs(60)).await;
    let notes = format!("{}.notes", bed.database.name);
    wait_for_id_and_body(&bed, &notes, &service).await;

    // Drift: an edit whose webhook never came, and row 3's cells cleared.
    let store = &bed.emulator.state.store;
    store
        .set_values(
            &bed.spreadsheet_id,
            "Notes!B2",
            vec![vec![json!("ONE?")]],
            false,
        )
        .expect("edit");
    store
        .set_values(
            &bed.spreadsheet_id,
            "Notes!A4:C4",
            vec![vec![json!(""), json!(""), json!("")]],
            false,
        )
        .expect("clear");
    // Streaming goes on meanwhile.
    execute(
        &bed.database.url,
        &["INSERT INTO notes VALUES (4, 'four', NULL)"],
    )
    .await;

    wait_for_id_and_body(&bed, &notes, &service).await;
    let (_, metrics) = service.get("/metrics").await.expect("metrics");
    let differences: f64 = metrics
        .lines()
        .find(|line| line.starts_with("sheetsync_reconcile_differences_total"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no reconcile counter in:\n{metrics}"));
    assert!(differences >= 2.0, "{differences}");
    assert!(service.log_text().contains("reconcile: drift repaired"));
    service.terminate();
}

/// Waits until the tab's id and body columns equal the table's, no key twice.
async fn wait_for_id_and_body(bed: &SyncBed, notes: &str, service: &Process) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let expected = table_rows(&bed.database.url, notes, "id, body").await;
        let tab = bed.tab("Notes");
        if tab_columns(&tab, &["id", "body"]) == expected {
            assert_no_key_twice(&tab);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never equal: tab {tab:?}, table {expected:?}\n{}",
            service.log_tail(4000)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
