//! `sheetsync check`: the database-side preflight, against real MariaDB servers.

use sheetsync_testbed::MariaDb;

use crate::support::{run_sheetsync, stderr_of, stdout_of, write_config};

fn config_for(url: &str, server_id: u32, mappings: &str) -> String {
    format!("[mysql]\nurl = \"{url}\"\nserver_id = {server_id}\n{mappings}")
}

fn mapping(table: &str, extra: &str) -> String {
    format!("\n[[mapping]]\ntable = \"{table}\"\nspreadsheet_id = \"sheet-1\"\nsheet = \"{table}\"\n{extra}\n")
}

#[tokio::test]
async fn a_correctly_configured_server_passes_every_check() {
    let server = MariaDb::shared();
    let database = server.create_database("check_ok").await;
    server
        .execute(&format!(
            "CREATE TABLE `{}`.orders (id INT PRIMARY KEY, total DECIMAL(10,2))",
            database.name
        ))
        .await;
    // With a mapping, check also asks Google: the emulator stands in for it.
    let emulator = crate::sheets_support::start_emulator().await;
    let key = crate::sheets_support::key_file(&emulator);
    let spreadsheet = emulator.state.store.create_spreadsheet("Shop", &[]);
    let config = crate::check_sheets::config_text(
        &server.root_url(),
        Some((&key, &emulator.base_url)),
        &crate::check_sheets::mapping_text(
            "orders",
            &format!("{}.orders", database.name),
            &spreadsheet,
            "Orders",
        ),
    );
    let (output, report) = crate::check_sheets::run_check(&config).await;
    assert!(output.status.success(), "check failed:\n{report}");
    for line in [
        "ok    log_bin: ON",
        "ok    binlog_format: ROW",
        "ok    binlog_row_image: FULL",
        "ok    binlog_row_metadata: FULL",
        "ok    log_bin_compress: OFF",
        "primary key (id)",
        ", 0 failed",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
}

#[tokio::test]
async fn wrong_binlog_settings_are_each_reported_with_their_fix() {
    let server = MariaDb::start_with(&[
        "--binlog-format=STATEMENT",
        "--binlog-row-image=MINIMAL",
        "--binlog-row-metadata=MINIMAL",
        "--log-bin-compress=ON",
    ])
    .expect("start");
    let (_directory, path) = write_config(&config_for(&server.root_url(), 7001, ""));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for expected in [
        "FAIL  binlog_format: found STATEMENT; needs ROW",
        "FAIL  binlog_row_image: found MINIMAL; needs FULL",
        "FAIL  binlog_row_metadata: found MINIMAL; needs FULL",
        "FAIL  log_bin_compress: found ON; needs OFF",
        "fix: SET PERSIST binlog_format = 'ROW'",
        "4 failed",
    ] {
        assert!(
            report.contains(expected),
            "missing `{expected}` in:\n{report}"
        );
    }
}

#[tokio::test]
async fn a_server_without_binlog_is_refused() {
    let server = MariaDb::start_with(&["--skip-log-bin"]).expect("start");
    let (_directory, path) = write_config(&config_for(&server.root_url(), 7001, ""));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL  log_bin: found OFF; needs ON"),
        "{report}"
    );
    assert!(report.contains("log_bin = binlog"), "{report}");
}

#[tokio::test]
async fn tables_without_a_key_missing_tables_and_missing_columns_are_reported() {
    let server = MariaDb::shared();
    let database = server.create_database("check_tables").await;
    server
        .execute(&format!("CREATE TABLE `{}`.keyless (a INT)", database.name))
        .await;
    server
        .execute(&format!(
            "CREATE TABLE `{}`.orders (id INT PRIMARY KEY, total INT)",
            database.name
        ))
        .await;
    let mappings = [
        mapping(&format!("{}.keyless", database.name), ""),
        mapping(&format!("{}.nowhere", database.name), ""),
        mapping(
            &format!("{}.orders", database.name),
            "columns = [\"total\", \"customer\"]",
        ),
    ]
    .concat();
    let (_directory, path) = write_config(&config_for(&server.root_url(), 7002, &mappings));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let name = &database.name;
    for expected in [
        format!("FAIL  table {name}.keyless: found no primary key"),
        "ADD PRIMARY KEY".to_string(),
        format!("FAIL  table {name}.nowhere: found missing"),
        format!("FAIL  table {name}.orders columns: found missing `customer`"),
        format!("FAIL  table {name}.orders columns: found key column [\"id\"] not synced"),
    ] {
        assert!(
            report.contains(&expected),
            "missing `{expected}` in:\n{report}"
        );
    }
}

#[tokio::test]
async fn the_server_own_id_is_refused_as_ours() {
    let server = MariaDb::shared();
    let (_directory, path) = write_config(&config_for(&server.root_url(), server.server_id(), ""));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("the server's own server_id"), "{report}");
}

#[test]
fn an_unreachable_server_is_a_failed_check_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (_directory, path) = write_config(&config_for(
        &format!("mysql://sheetsync:topsecret@127.0.0.1:{port}"),
        7001,
        "",
    ));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "FAIL  mysql connection: found cannot connect to mysql://sheetsync:***@127.0.0.1"
        ),
        "{report}"
    );
    assert!(!report.contains("topsecret") && !stderr_of(&output).contains("topsecret"));
}

#[test]
fn an_invalid_config_exits_2_naming_the_key() {
    let (_directory, path) =
        write_config("[mysql]\nurl = \"mysql://root@127.0.0.1:1\"\nserver_id = 0\n");
    let output = run_sheetsync(&["check"], &path);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("mysql.server_id"),
        "{}",
        stderr_of(&output)
    );
    let (_directory, missing) = write_config("");
    let output = run_sheetsync(&["check"], &missing.with_file_name("absent.toml"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("absent.toml"));
}
