//! `mysql-conf/mariadb.cnf` is what it claims: a server started with exactly its settings passes
//! `sheetsync check`.

use sheetsync_testbed::MariaDb;

use crate::support::{run_sheetsync, stdout_of, write_config};

/// `[mysqld]` lines of a my.cnf fragment as `mariadbd` arguments (`key = value` → `--key=value`).
fn arguments_of(fragment: &str) -> Vec<String> {
    fragment
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('['))
        .filter(|line| !line.starts_with("server_id")) // the test bed gives each server its own
        .map(|line| {
            let (key, value) = line.split_once('=').expect("key = value");
            format!("--{}={}", key.trim(), value.trim())
        })
        .collect()
}

#[tokio::test]
async fn the_mariadb_fragment_satisfies_check() {
    let fragment = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mysql-conf/mariadb.cnf"
    ))
    .expect("read mysql-conf/mariadb.cnf");
    let arguments = arguments_of(&fragment);
    assert!(
        arguments
            .iter()
            .any(|argument| argument == "--binlog_row_metadata=FULL"),
        "{arguments:?}"
    );
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let server = MariaDb::start_plain(&arguments).expect("start with the fragment's settings");
    let (_directory, path) = write_config(&format!(
        "[mysql]\nurl = \"{}\"\nserver_id = 7001\n",
        server.root_url()
    ));
    let output = run_sheetsync(&["check"], &path);
    assert!(output.status.success(), "{}", stdout_of(&output));
}

#[tokio::test]
async fn without_the_fragment_check_fails() {
    let server =
        MariaDb::start_plain(&["--log-bin=binlog"]).expect("start with MariaDB's defaults");
    let (_directory, path) = write_config(&format!(
        "[mysql]\nurl = \"{}\"\nserver_id = 7001\n",
        server.root_url()
    ));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    // MariaDB 10.11's defaults: MIXED format and MINIMAL row metadata.
    assert!(
        report.contains("FAIL  binlog_format: found MIXED"),
        "{report}"
    );
    assert!(
        report.contains("FAIL  binlog_row_metadata: found NO_LOG"),
        "{report}"
    );
}
