#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, large by design.

use super::*;

const MINIMAL: &str = r#"
[mysql]
url = "mysql://sheetsync:hunter2@127.0.0.1:3306"
server_id = 7001
"#;

fn with_mapping(mapping: &str) -> String {
    format!("{MINIMAL}\n[[mapping]]\n{mapping}")
}

fn error_of(text: &str) -> String {
    match Config::from_toml(text) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn defaults_follow_the_design() {
    let config = Config::from_toml(MINIMAL).expect("valid");
    assert_eq!(config.sync.flush_interval_ms, 250);
    assert_eq!(config.sync.write_requests_per_minute, 60);
    assert_eq!(config.sync.transaction_buffer_kib, 8192);
    assert_eq!(config.sync.read_requests_per_minute, 60);
    assert_eq!(config.sync.time_zone, "UTC");
    assert_eq!(config.google.api_base, "https://sheets.googleapis.com");
    assert_eq!(config.webhook.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(config.metrics.listen.to_string(), "0.0.0.0:9187");
    assert!(config.mappings.is_empty());
}

#[test]
fn the_design_example_parses() {
    let config = Config::from_toml(&with_mapping(
        r#"name = "orders"
table = "shop.orders"
spreadsheet_id = "1AbC"
sheet = "Orders"
columns = ["id", "customer", "total"]
conflict = "db-wins"
column_conflict = { total = "max" }
deletes = false"#,
    ))
    .expect("valid");
    let mapping = &config.mappings[0];
    assert_eq!(mapping.database_and_table(), ("shop", "orders"));
    assert_eq!(mapping.conflict, ConflictPolicy::DbWins);
    assert_eq!(mapping.column_conflict["total"], ConflictPolicy::Max);
    assert!(!mapping.deletes);
}

#[test]
fn a_mapping_is_named_after_its_table_by_default() {
    let config = Config::from_toml(&with_mapping(
        "table = \"shop.orders\"\nspreadsheet_id = \"x\"\nsheet = \"Orders\"",
    ))
    .expect("valid");
    assert_eq!(config.mappings[0].name, "orders");
    assert_eq!(config.mappings[0].conflict, ConflictPolicy::LastWriteWins);
    assert!(config.mappings[0].deletes);
}

#[test]
fn each_invalid_value_names_its_key() {
    let cases = [
        (MINIMAL.replace("mysql://", "postgres://"), "mysql.url"),
        (MINIMAL.replace("7001", "0"), "mysql.server_id"),
        (format!("{MINIMAL}[sync]\nflush_interval_ms = 0\n"), "sync.flush_interval_ms"),
        (format!("{MINIMAL}[sync]\nwrite_requests_per_minute = 0\n"), "sync.write_requests_per_minute"),
        (format!("{MINIMAL}[sync]\ntransaction_buffer_kib = 15\n"), "sync.transaction_buffer_kib"),
        (format!("{MINIMAL}[google]\napi_base = \"sheets.local\"\n"), "google.api_base"),
        (with_mapping("table = \"orders\"\nspreadsheet_id = \"x\"\nsheet = \"O\""), "mapping[0].table"),
        (with_mapping("table = \"a.b.c\"\nspreadsheet_id = \"x\"\nsheet = \"O\""), "mapping[0].table"),
        (with_mapping("table = \"a.b\"\nspreadsheet_id = \" \"\nsheet = \"O\""), "mapping[0].spreadsheet_id"),
        (with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"\""), "mapping[0].sheet"),
        (with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"\ncolumns = []"), "mapping[0].columns"),
        (with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"\ncolumns = [\"id\", \"id\"]"), "mapping[0].columns"),
        (
            with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"\ncolumns = [\"id\"]\ncolumn_conflict = { total = \"max\" }"),
            "mapping[0].column_conflict",
        ),
        (
            format!("{}\n[[mapping]]\ntable = \"c.b\"\nspreadsheet_id = \"y\"\nsheet = \"P\"", with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"")),
            "mapping[1].name",
        ),
        (
            format!("{}\n[[mapping]]\nname = \"other\"\ntable = \"a.c\"\nspreadsheet_id = \"x\"\nsheet = \"O\"", with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"")),
            "mapping[1].sheet",
        ),
    ];
    for (text, key) in cases {
        let message = error_of(&text);
        assert!(message.contains(key), "error for {key} was: {message}");
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_refused_by_name() {
    assert!(error_of(&format!("{MINIMAL}[sync]\nflush_interval = 5\n")).contains("flush_interval"));
    assert!(error_of(&MINIMAL.replace("7001", "\"seven\"")).contains("server_id"));
    assert!(error_of("[google]\napi_base = \"http://x\"").contains("mysql"));
    assert!(error_of(&with_mapping(
        "table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\"\nconflict = \"newest\""
    ))
    .contains("conflict"));
}

#[test]
fn secrets_never_reach_debug_output_or_errors() {
    let text = format!("{MINIMAL}[webhook]\nsecret = \"s3cr3t-value\"\n");
    let config = Config::from_toml(&text).expect("valid");
    let printed = format!("{config:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!printed.contains("s3cr3t-value"), "{printed}");
    assert!(
        printed.contains("mysql://sheetsync:***@127.0.0.1:3306"),
        "{printed}"
    );
    assert_eq!(
        config
            .webhook_secret()
            .expect("secret")
            .map(|s| s.expose().to_string()),
        Some("s3cr3t-value".into())
    );
    let wrong_type = format!("{MINIMAL}[webhook]\nsecret = 12345\nlisten = \"nowhere\"\n");
    assert!(!error_of(&wrong_type).contains("12345"));
}

#[test]
fn database_url_redaction() {
    for (url, shown) in [
        ("mysql://u:p@h:1/db", "mysql://u:***@h:1/db"),
        ("mysql://u:p@ss@h:1", "mysql://u:***@h:1"),
        ("mysql://u@h", "mysql://u@h"),
        ("mysql://h:3306", "mysql://h:3306"),
        ("nonsense", "[unparseable url]"),
    ] {
        assert_eq!(DatabaseUrl::new(url.into()).redacted(), shown);
    }
}

#[test]
fn the_secret_file_is_read_without_its_newline() {
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join("secret");
    std::fs::write(&path, "from-file\n").expect("write");
    let text = format!("{MINIMAL}[webhook]\nsecret_file = \"{}\"\n", path.display());
    let config = Config::from_toml(&text).expect("valid");
    assert_eq!(
        config
            .webhook_secret()
            .expect("read")
            .expect("set")
            .expose(),
        "from-file"
    );
    let missing = format!("{MINIMAL}[webhook]\nsecret_file = \"/nonexistent/secret\"\n");
    let error = Config::from_toml(&missing)
        .expect("valid")
        .webhook_secret()
        .expect_err("missing file");
    assert!(error.to_string().contains("webhook.secret_file"), "{error}");
}

#[test]
fn environment_variables_override_the_file_by_section() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "sheetsync.toml",
            &with_mapping("table = \"a.b\"\nspreadsheet_id = \"x\"\nsheet = \"O\""),
        )?;
        jail.set_env("SHEETSYNC_MYSQL_URL", "mysql://other:pw@db:3307");
        jail.set_env("SHEETSYNC_MYSQL_SERVER_ID", "9");
        jail.set_env("SHEETSYNC_SYNC_FLUSH_INTERVAL_MS", "100");
        jail.set_env("SHEETSYNC_WEBHOOK_SECRET", "from-env");
        jail.set_env("SHEETSYNC_UNRELATED", "ignored");
        let config = Config::load(Path::new("sheetsync.toml")).expect("valid");
        assert_eq!(config.mysql.url.expose(), "mysql://other:pw@db:3307");
        assert_eq!(config.mysql.server_id, 9);
        assert_eq!(config.sync.flush_interval_ms, 100);
        assert_eq!(
            config.webhook.secret.as_ref().map(Secret::expose),
            Some("from-env")
        );
        assert_eq!(config.mappings.len(), 1);
        Ok(())
    });
}

#[test]
fn section_keys() {
    assert_eq!(
        section_key("MYSQL_SERVER_ID").as_deref(),
        Some("mysql.server_id")
    );
    assert_eq!(section_key("mysql_url").as_deref(), Some("mysql.url"));
    assert_eq!(section_key("CONFIG"), None);
    assert_eq!(section_key("MAPPING_TABLE"), None);
    assert_eq!(section_key("SYNC_"), None);
}

#[test]
fn an_unreadable_file_is_named() {
    let error = Config::load(Path::new("/nonexistent/sheetsync.toml")).expect_err("missing");
    assert!(
        error.to_string().contains("/nonexistent/sheetsync.toml"),
        "{error}"
    );
}
