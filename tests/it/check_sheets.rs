//! `sheetsync check`'s Google side and binlog retention, running the real binary against the
//! Sheets emulator and MariaDB: one scenario per failure mode, asserting the report's text and
//! the exit code, plus a scenario proving no secret reaches the output.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use sheets_emulator::RunningEmulator;
use sheetsync_testbed::MariaDb;

use crate::sheets_support::{key_file, start_emulator};
use crate::support::{run_sheetsync, stderr_of, stdout_of, write_config};

/// `[mysql]` + `[google]` + mappings; `google` is (key file, API base).
pub fn config_text(mysql_url: &str, google: Option<(&Path, &str)>, rest: &str) -> String {
    let google = google
        .map(|(key, base)| {
            format!(
                "[google]\ncredentials_file = \"{}\"\napi_base = \"{base}\"\n",
                key.display()
            )
        })
        .unwrap_or_default();
    format!("[mysql]\nurl = \"{mysql_url}\"\nserver_id = 7101\n{google}{rest}")
}

pub fn mapping_text(name: &str, table: &str, spreadsheet_id: &str, sheet: &str) -> String {
    format!("\n[[mapping]]\nname = \"{name}\"\ntable = \"{table}\"\nspreadsheet_id = \"{spreadsheet_id}\"\nsheet = \"{sheet}\"\n")
}

/// Run `sheetsync check` off the async runtime, so the in-process emulator keeps serving.
pub async fn run_check(config: &str) -> (Output, String) {
    let (directory, path) = write_config(config);
    let output = tokio::task::spawn_blocking(move || run_sheetsync(&["check"], &path))
        .await
        .expect("run check");
    drop(directory);
    let report = format!("{}{}", stdout_of(&output), stderr_of(&output));
    (output, report)
}

fn assert_contains(report: &str, expected: &[&str]) {
    for line in expected {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
}

fn client_email(key: &Path) -> String {
    let key: Value = serde_json::from_slice(&std::fs::read(key).expect("key")).expect("json");
    key["client_email"].as_str().expect("email").to_string()
}

/// A database with `orders(id, customer, total)` holding three rows.
async fn orders_database(prefix: &str) -> String {
    let server = MariaDb::shared();
    let database = server.create_database(prefix).await;
    let name = database.name;
    server
        .execute(&format!(
            "CREATE TABLE `{name}`.orders (id INT PRIMARY KEY, customer VARCHAR(40), total DECIMAL(10,2));
             INSERT INTO `{name}`.orders VALUES (1, 'a', 1.50), (2, 'b', 2.00), (3, '=c', 3.25)"
        ))
        .await;
    name
}

/// A spreadsheet titled "Shop" with tab "Orders" whose row 1 is `header`.
fn shop(emulator: &RunningEmulator, header: &[&str]) -> String {
    let id = emulator.state.store.create_spreadsheet("Shop", &["Orders"]);
    let row: Vec<Value> = header.iter().map(|name| json!(name)).collect();
    emulator
        .state
        .store
        .set_values(&id, "'Orders'!A1", vec![row], false)
        .expect("header");
    id
}

#[tokio::test]
async fn a_shared_spreadsheet_with_a_matching_header_passes() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let email = client_email(&key);
    let database = orders_database("check_sheets_ok").await;
    MariaDb::shared()
        .execute(&format!(
            "CREATE TABLE `{database}`.archive (id INT PRIMARY KEY)"
        ))
        .await;
    let id = shop(&emulator, &["total", "id", "notes", "customer"]);
    let mappings = [
        mapping_text("orders", &format!("{database}.orders"), &id, "Orders"),
        mapping_text("archive", &format!("{database}.archive"), &id, "Archive"),
    ]
    .concat();
    let config = config_text(
        &MariaDb::shared().root_url(),
        Some((&key, &emulator.base_url)),
        &mappings,
    );
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_contains(
        &report,
        &[
            &format!("ok    google.credentials_file: {}, service account {email}", key.display()),
            &format!("ok    google token: access token obtained for {email}"),
            &format!("ok    spreadsheet {id}: \"Shop\", readable by {email}"),
            "ok    mapping orders: tab Orders: exists, 1000 rows × 26 columns",
            "ok    mapping orders: header: all 3 synced columns present, plus 1 of your own (`notes`)",
            "ok    mapping orders: size: 3 rows + header = 4 rows × 3 synced columns = 12 cells",
            "ok    mapping archive: tab Archive: missing; sheetsync will create it",
            "ok    binlog retention: never purged by age",
            ", 0 failed",
        ],
    );
}

#[tokio::test]
async fn key_file_problems_name_the_path_and_never_the_contents() {
    let emulator = start_emulator().await;
    let database = orders_database("check_sheets_key").await;
    let mapping = mapping_text("orders", &format!("{database}.orders"), "any", "Orders");
    let url = MariaDb::shared().root_url();
    let directory = tempfile::tempdir().expect("temp dir");
    let missing = directory.path().join("absent.json");
    let user_credential = directory.path().join("user.json");
    std::fs::write(
        &user_credential,
        r#"{"type":"authorized_user","client_id":"x","client_secret":"user-secret-4711","refresh_token":"r"}"#,
    )
    .expect("write");
    let not_json = directory.path().join("broken.json");
    std::fs::write(&not_json, "-----BEGIN PRIVATE KEY-----\npem-secret-4711\n").expect("write");
    let cases: Vec<(Option<PathBuf>, String)> = vec![
        (None, "FAIL  google.credentials_file: found not set".into()),
        (
            Some(missing.clone()),
            format!("FAIL  google.credentials_file: found {} does not exist", missing.display()),
        ),
        (
            Some(user_credential.clone()),
            format!(
                "FAIL  google.credentials_file: found {} holds a `authorized_user` credential, not a service-account key",
                user_credential.display()
            ),
        ),
        (
            Some(not_json.clone()),
            format!("FAIL  google.credentials_file: found {} is not JSON (error at line 1, column 2)", not_json.display()),
        ),
    ];
    for (path, expected) in cases {
        let google = path
            .as_deref()
            .map(|path| (path, emulator.base_url.as_str()));
        let (output, report) = run_check(&config_text(&url, google, &mapping)).await;
        assert_eq!(output.status.code(), Some(1), "{report}");
        assert_contains(&report, &[&expected, "fix: create a JSON key for"]);
        assert!(!report.contains("4711"), "{report}");
        assert!(
            !report.contains("google token"),
            "no token without a key:\n{report}"
        );
    }
}

#[tokio::test]
async fn a_key_the_token_endpoint_refuses_is_a_token_failure() {
    let emulator = start_emulator().await;
    let other = start_emulator().await;
    let database = orders_database("check_sheets_token").await;
    // This emulator's key, sent to the other emulator's token endpoint, which does not trust it.
    let mut key: Value =
        serde_json::from_slice(&std::fs::read(key_file(&emulator)).expect("key")).expect("json");
    key["token_uri"] = json!(format!("{}/token", other.base_url));
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("revoked.json");
    std::fs::write(&path, key.to_string()).expect("write");
    let email = key["client_email"].as_str().expect("email").to_string();
    let mapping = mapping_text("orders", &format!("{database}.orders"), "any", "Orders");
    let config = config_text(
        &MariaDb::shared().root_url(),
        Some((&path, &emulator.base_url)),
        &mapping,
    );
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            &format!("FAIL  google token: found no token for {email}"),
            "invalid_grant",
            &format!("create a new JSON key for {email}"),
            "check this machine's clock",
        ],
    );
    assert!(
        !report.contains("spreadsheet any"),
        "no spreadsheet call without a token:\n{report}"
    );

    // A token endpoint nobody answers at is an outage, not a refused key: a different fix.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address");
    key["token_uri"] = json!(format!("http://{closed}/token"));
    std::fs::write(&path, key.to_string()).expect("write");
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            &format!("FAIL  google token: found no token for {email}"),
            "fix: check that this machine reaches the key's token_uri",
        ],
    );
}

#[tokio::test]
async fn an_unknown_spreadsheet_names_the_account_to_share_it_with() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let email = client_email(&key);
    let database = orders_database("check_sheets_404").await;
    let mapping = mapping_text(
        "orders",
        &format!("{database}.orders"),
        "1NoSuchSheet",
        "Orders",
    );
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
            &format!("FAIL  spreadsheet 1NoSuchSheet: found not found, or not shared with {email} (sheets api answered 404 NOT_FOUND"),
            "check spreadsheet_id of mapping orders",
            &format!("the service account is {email}: share the spreadsheet with it as Editor"),
        ],
    );
    assert!(!report.contains("mapping orders: header"), "{report}");
}

#[tokio::test]
async fn a_failing_google_is_reported_after_a_few_retries() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let database = orders_database("check_sheets_503").await;
    let id = shop(&emulator, &["id", "customer", "total"]);
    emulator
        .state
        .control
        .add_fault(sheets_emulator::control::FaultSpec {
            status: 503,
            stage: sheets_emulator::control::FaultStage::Before,
            applies_to: sheets_emulator::control::ClassFilter::Read,
            count: Some(3),
            probability: None,
            seed: 0,
        })
        .expect("fault");
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
            &format!("FAIL  spreadsheet {id}: found not reachable: sheets api answered 503"),
            "fix: Google or the network is failing",
        ],
    );
    let reads = emulator.state.control.requests(None).len();
    assert_eq!(reads, 3, "one call and two retries");
}

/// A Sheets API that refuses everything the way Google refuses a spreadsheet not shared with
/// the caller; tokens still come from the emulator.
async fn forbidding_api() -> String {
    let router = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(json!({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}})),
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

#[tokio::test]
async fn a_spreadsheet_not_shared_with_the_account_is_refused_with_the_sharing_fix() {
    let emulator = start_emulator().await;
    let key = key_file(&emulator);
    let email = client_email(&key);
    let database = orders_database("check_sheets_403").await;
    let api = forbidding_api().await;
    let mapping = mapping_text(
        "orders",
        &format!("{database}.orders"),
        "1Private",
        "Orders",
    );
    let config = config_text(&MariaDb::shared().root_url(), Some((&key, &api)), &mapping);
    let (output, report) = run_check(&config).await;
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_contains(
        &report,
        &[
            &format!("FAIL  spreadsheet 1Private: found access denied to {email} (sheets api answered 403 PERMISSION_DENIED: The caller does not have permission)"),
            &format!("share the spreadsheet with it as Editor (Share → add {email} → Editor)"),
            "enable the Google Sheets API",
        ],
    );
}

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
