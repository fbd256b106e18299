//! `sheetsync check`'s Google side, running the real binary against the Sheets emulator and
//! MariaDB: one scenario per failure mode (key file, token, spreadsheet missing, forbidden or
//! failing), asserting the report's text and the exit code. Tabs, retention and secrets are in
//! `check_sheets_tabs.rs`; the helpers here serve both (and `check.rs`, `grants.rs`).

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

pub fn assert_contains(report: &str, expected: &[&str]) {
    for line in expected {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
}

pub fn client_email(key: &Path) -> String {
    let key: Value = serde_json::from_slice(&std::fs::read(key).expect("key")).expect("json");
    key["client_email"].as_str().expect("email").to_string()
}

/// A database with `orders(id, customer, total)` holding three rows.
pub async fn orders_database(prefix: &str) -> String {
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
pub fn shop(emulator: &RunningEmulator, header: &[&str]) -> String {
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
