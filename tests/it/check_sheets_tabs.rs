//! `sheetsync check` on mapped tabs (header, size), binlog retention, and the absence of every
//! secret from its output; the real binary against the Sheets emulator and MariaDB.

use serde_json::{json, Value};
use sheetsync_testbed::MariaDb;

use crate::check_sheets::{
    assert_contains, config_text, mapping_text, orders_database, run_check, shop,
};
use crate::sheets_support::{key_file, start_emulator};

#[tokio::test]
async fn a_header_without_the_synced_columns_lists_the_missing_ones() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let database = orders_database("check_sheets_header").await;
    let id = shop(&emulator, &["id", "name", "notes"]);
    let mapping = mapping_text("orders", &format!("{database}.orders"), &id, "Orders");
    let config = config_text(
        &MariaDb::shared().root_url(),
        Some((&key, &emulator.base_url)),
        &mapping,
    );
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            "FAIL  mapping orders: header: found row 1 of tab Orders lacks `customer`, `total`; needs a header cell named after each synced column (any order; extra columns are fine)",
            "fix: type the missing names into empty cells of row 1",
            "ok    mapping orders: size",
            "1 failed",
        ],
    );
}

#[tokio::test]
async fn a_table_too_big_for_a_spreadsheet_is_refused_with_the_numbers() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let server = MariaDb::shared();
    let database = server.create_database("check_sheets_size").await.name;
    let columns: String = (1..=1000)
        .map(|index| format!(", c{index} TINYINT NOT NULL DEFAULT 0"))
        .collect();
    server
        .execute(&format!(
            "CREATE TABLE `{database}`.wide (id INT PRIMARY KEY{columns}) ROW_FORMAT=DYNAMIC;
             SET SESSION max_recursive_iterations = 20000;
             INSERT INTO `{database}`.wide (id)
               WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < 10000)
               SELECT n FROM numbers"
        ))
        .await;
    let id = emulator.state.store.create_spreadsheet("Big", &["Wide"]);
    let mapping = mapping_text("wide", &format!("{database}.wide"), &id, "Wide");
    let config = config_text(
        &server.root_url(),
        Some((&key, &emulator.base_url)),
        &mapping,
    );
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            &format!("FAIL  mapping wide: size: found table {database}.wide needs 10,000 rows + header = 10,001 rows × 1001 synced columns = 10,011,001 cells; needs at most 10,000,000 cells in the spreadsheet"),
            "fix: sync fewer columns (the `columns` of mapping wide)",
            "ok    mapping wide: header: row 1 is empty",
        ],
    );
}

#[tokio::test]
async fn a_binlog_kept_shorter_than_the_margin_is_reported_with_its_fix() {
    let server = MariaDb::start_with(&["--binlog-expire-logs-seconds=3600"]).expect("start");
    let config = config_text(&server.root_url(), None, "");
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            "FAIL  binlog retention: found binlog kept 3600 s (1.0 h); needs at least 24 h (sync.retention_margin_hours)",
            "fix: SET GLOBAL binlog_expire_logs_seconds = 86400; and `binlog_expire_logs_seconds = 86400` under [mysqld] in my.cnf",
            "1 failed",
        ],
    );
    let config = config_text(
        &server.root_url(),
        None,
        "[sync]\nretention_margin_hours = 1\n",
    );
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_contains(
        &report,
        &["ok    binlog retention: 3600 s (1.0 h) kept, at least the 1 h"],
    );
}

#[tokio::test]
async fn secrets_never_appear_in_the_check_output() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let key_json: Value = serde_json::from_slice(&std::fs::read(&key).expect("key")).expect("json");
    let private_key = key_json["private_key"].as_str().expect("pem");
    // A distinctive piece of the key's body (the PEM header is not secret).
    let key_material: String = private_key
        .lines()
        .nth(5)
        .expect("pem line")
        .chars()
        .take(40)
        .collect();
    let database = orders_database("check_sheets_secrets").await;
    let server = MariaDb::shared();
    let port = server.port();
    let user = format!("secret_{}", database.len());
    server
        .execute(&format!(
            "CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY 'db-password-Zq9xK';
             GRANT SELECT ON `{database}`.* TO '{user}'@'%'"
        ))
        .await;
    let id = shop(&emulator, &["id", "nothing"]);
    let rest = format!(
        "[webhook]\nsecret = \"webhook-secret-Zq9xK\"\n{}{}",
        mapping_text("orders", &format!("{database}.orders"), &id, "Orders"),
        mapping_text("gone", &format!("{database}.orders"), "1Gone", "Orders"),
    );
    // A broken key whose "private key" is secret text that no error may quote.
    let mut broken = key_json.clone();
    broken["private_key"] =
        json!("-----BEGIN PRIVATE KEY-----\nbroken-key-secret-Zq9xK\n-----END PRIVATE KEY-----\n");
    let directory = tempfile::tempdir().expect("temp dir");
    let broken_path = directory.path().join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).expect("write");
    // Run 1 fails on the header and the unknown spreadsheet; run 2 on the password and the key.
    let runs = [
        (
            format!("mysql://{user}:db-password-Zq9xK@127.0.0.1:{port}"),
            key.clone(),
            "FAIL  spreadsheet 1Gone".to_string(),
        ),
        (
            format!("mysql://{user}:wrong-password-Zq9xK@127.0.0.1:{port}"),
            broken_path.clone(),
            format!(
                "FAIL  google.credentials_file: found service-account key file {}: unusable key",
                broken_path.display()
            ),
        ),
        (
            format!("mysql://{user}:wrong-password-Zq9xK@127.0.0.1:{port}"),
            key.clone(),
            "FAIL  mapping orders: header and size: found not checked: cannot connect to mysql://"
                .to_string(),
        ),
    ];
    for (url, key, expected) in runs {
        let config = config_text(&url, Some((&key, &emulator.base_url)), &rest);
        let (output, report) = run_check(&config).await;
        assert_eq!(output.status.code(), Some(1), "{report}");
        assert_contains(&report, &[&expected]);
        if key == broken_path {
            assert!(
                !report.contains("ok    google.credentials_file"),
                "{report}"
            );
        }
        for secret in ["Zq9xK", key_material.as_str()] {
            assert!(!report.contains(secret), "`{secret}` leaked:\n{report}");
        }
    }
}
