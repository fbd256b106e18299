//! `sheetsync reconcile` as a person runs it, the real binary against MariaDB and the emulator:
//! after a load, dates, times, TIMESTAMPs (in `Europe/Berlin`) and decimals show no drift; edits
//! that never reached MySQL are listed by `--dry-run` (exit 1, nothing written), a repair is
//! refused (exit 3) while a `sheetsync run` holds the lease, and once it stopped the repair
//! puts the table's values back, appends the missing row, and a second dry run is clean.

use std::time::Duration;

use serde_json::json;

use crate::run_support::{free_port, wait_for_readyz, with_ports, Process};
use crate::support::{run_sheetsync, stderr_of, stdout_of, write_config};
use crate::sync_support::{tab_of, SyncBed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_drift_repair_needs_the_lease_and_fixes_it() {
    let bed = SyncBed::start(
        "reconcile_command",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), due DATE, seen DATETIME(3),
              stamp TIMESTAMP NULL, price DECIMAL(10,2), span TIME)",
            "INSERT INTO items VALUES
              (1, 'ant', '2024-02-29', '2024-02-29 12:00:00.250', '2024-07-01 10:00:00', 1.50, '-01:30:00'),
              (2, 'bee', '1999-12-31', NULL, '2024-10-27 00:30:00', 2.00, '838:59:59'),
              (3, 'cat', NULL, '2000-01-01 00:00:00', NULL, NULL, NULL)",
        ],
    )
    .await;
    let text = bed.config_text(&[("items", "Items")], "time_zone = \"Europe/Berlin\"");
    let metrics_port = free_port();
    let (directory, config) = write_config(&with_ports(&text, metrics_port, free_port(), ""));
    let log = directory.path().join("sheetsync.log");

    // Load the tab.
    let output = run_sheetsync(&["snapshot", "--mapping", "items"], &config);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let loaded = tab_of(&bed.emulator, &bed.spreadsheet_id, "Items");
    assert_eq!(loaded.len(), 4, "{loaded:?}");

    // Nothing drifts: every type compares as the writer wrote it.
    let output = run_sheetsync(&["reconcile", "--dry-run"], &config);
    let report = stdout_of(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{report}{}",
        stderr_of(&output)
    );
    assert!(
        report.contains("3 rows in the tab, 3 in the table, no differences"),
        "{report}"
    );

    // Edits that never reached MySQL: a changed name, a cleared price, a removed row, a new row.
    let store = &bed.emulator.state.store;
    store
        .set_values(
            &bed.spreadsheet_id,
            "Items!B2",
            vec![vec![json!("ANT")]],
            false,
        )
        .expect("edit");
    store
        .set_values(
            &bed.spreadsheet_id,
            "Items!F3",
            vec![vec![json!("")]],
            false,
        )
        .expect("clear");
    store
        .set_values(
            &bed.spreadsheet_id,
            "Items!A4:G4",
            vec![vec![json!(""); 7]],
            false,
        )
        .expect("remove row 3's cells");
    store
        .set_values(
            &bed.spreadsheet_id,
            "Items!A5:B5",
            vec![vec![json!(9), json!("stray")]],
            false,
        )
        .expect("a row only the tab has");
    let edited = tab_of(&bed.emulator, &bed.spreadsheet_id, "Items");

    let output = run_sheetsync(&["reconcile", "--dry-run", "--mapping", "items"], &config);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "drift found: {report}");
    for line in [
        "mapping items (",
        "3 rows in the tab, 3 in the table, 4 differences",
        "  only in the table: key 3",
        "  only in the tab:   key 9 (sheet row 5)",
        "  cell differs:      key 1, column name (sheet row 2): tab \"ANT\", table \"ant\"",
        "  cell differs:      key 2, column price (sheet row 3): tab empty, table 2",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
    assert_eq!(
        tab_of(&bed.emulator, &bed.spreadsheet_id, "Items"),
        edited,
        "a dry run writes nothing"
    );
    let output = run_sheetsync(&["reconcile", "--mapping", "nope"], &config);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("no mapping named `nope`"));
    // A service-account key that is not one: the configuration cannot work, exit 2.
    let garbage = directory.path().join("garbage-key.json");
    std::fs::write(&garbage, "{\"not\": \"a key\"}").expect("write");
    let key = crate::sheets_support::key_file(&bed.emulator);
    let (_garbage_directory, garbage_config) = write_config(
        &std::fs::read_to_string(&config)
            .expect("config")
            .replace(&key.display().to_string(), &garbage.display().to_string()),
    );
    let output = run_sheetsync(&["reconcile", "--dry-run"], &garbage_config);
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("reconcile: sheets client"),
        "{}",
        stderr_of(&output)
    );
    // A mapping whose table is gone: reported, exit 4, the other mappings still compared.
    let (_missing_directory, missing_config) = write_config(&with_ports(
        &bed.config_text(&[("items", "Items"), ("gone", "Gone")], ""),
        free_port(),
        free_port(),
        "",
    ));
    let output = run_sheetsync(&["reconcile", "--dry-run"], &missing_config);
    let report = stdout_of(&output);
    assert_eq!(
        output.status.code(),
        Some(4),
        "{report}{}",
        stderr_of(&output)
    );
    assert!(
        report.contains("mapping gone: reconcile failed:"),
        "{report}"
    );
    assert!(report.contains("mapping items ("), "{report}");

    // A running service holds the lease: the repair is refused, the tab untouched.
    let mut service = Process::run(&config, &log, metrics_port);
    wait_for_readyz(&service, 200, Duration::from_secs(60)).await;
    let output = run_sheetsync(&["reconcile"], &config);
    let report = stdout_of(&output);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{report}{}",
        stderr_of(&output)
    );
    assert!(report.contains("holds the lease"), "{report}");
    assert!(report.contains("reconcile_interval_seconds"), "{report}");
    service.terminate();
    let exit = service.wait_exit(Duration::from_secs(30)).await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");
    assert_eq!(tab_of(&bed.emulator, &bed.spreadsheet_id, "Items"), edited);

    // The repair: the table's values back, row 3 appended, row 9 reported and left.
    let output = run_sheetsync(&["reconcile"], &config);
    let report = stdout_of(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{report}{}",
        stderr_of(&output)
    );
    assert!(
        report.contains(
            "  repaired: 3 rows written to the sheet, 0 rows written to the table, 1 left as is"
        ),
        "{report}"
    );
    let output = run_sheetsync(&["reconcile", "--dry-run"], &config);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("4 rows in the tab, 3 in the table, 1 difference\n  only in the tab:   key 9 (sheet row 5)\n"),
        "only the stray row is left: {report}"
    );
    let rows =
        crate::sync_support::sorted_data_rows(&tab_of(&bed.emulator, &bed.spreadsheet_id, "Items"));
    assert_eq!(
        rows.iter().filter(|row| row[0] == "3").count(),
        1,
        "{rows:?}"
    );
    assert!(rows.iter().any(|row| row[..2] == ["1", "ant"]), "{rows:?}");
}
