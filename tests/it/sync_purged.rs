//! The binlog purged past the checkpoint while sheetsync was stopped (DESIGN §2.10): with
//! `on_binlog_gone = "resnapshot"` the tab is reloaded from a fresh snapshot and equals the
//! table, then streaming goes on; with `"stop"` the real `sheetsync run` exits non-zero with a
//! plain message naming the missing position.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use sheetsync::config::Config;
use sheetsync_testbed::MariaDb;

use crate::support::write_config;
use crate::sync_support::{
    execute, log_to_test_output, stored_checkpoint, wait_for_tab_to_equal_table, RunningSync,
    SyncBed,
};

const LIMIT: Duration = Duration::from_secs(20);
const COLUMNS: &str = "id, name";

/// Starts a new binlog file and purges every older one (nothing may be reading them: the
/// caller stopped sheetsync). MariaDB keeps a log until its binlog checkpoint has passed it,
/// which happens asynchronously, so the purge is retried within a bound.
pub async fn purge_binlogs(server: &MariaDb) {
    server.execute("FLUSH BINARY LOGS").await;
    let mut connection = mysql_async::Conn::from_url(server.root_url())
        .await
        .expect("connect");
    let status: mysql_async::Row = connection
        .query_first("SHOW MASTER STATUS")
        .await
        .expect("status")
        .expect("a binlog");
    let current: String = status.get(0).expect("file");
    let deadline = Instant::now() + LIMIT;
    loop {
        connection
            .query_drop(format!("PURGE BINARY LOGS TO '{current}'"))
            .await
            .expect("purge");
        let logs: Vec<mysql_async::Row> = connection.query("SHOW BINARY LOGS").await.expect("logs");
        if logs.len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "older binlogs were never purged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = connection.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_binlog_reloads_the_tab_or_stops_with_a_plain_message() {
    log_to_test_output();
    let server = MariaDb::start().expect("own MariaDB");
    let bed = SyncBed::start_on(
        &server,
        "sync_purged",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40))",
            "INSERT INTO people VALUES (1, 'ada'), (2, 'grace'), (3, 'linus')",
        ],
    )
    .await;
    let url = bed.database.url.clone();
    let mappings = [("people", "People")];
    let resnapshot =
        Config::from_toml(&bed.config_text(&mappings, "on_binlog_gone = \"resnapshot\""))
            .expect("config");
    let sync = RunningSync::start(resnapshot.clone());
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    execute(&url, &["UPDATE people SET name = 'Ada' WHERE id = 1"]).await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    sync.stop().await.expect("graceful stop");

    // While stopped: changes, then their binlog is purged.
    execute(
        &url,
        &[
            "INSERT INTO people VALUES (4, 'barbara')",
            "UPDATE people SET name = 'Grace' WHERE id = 2",
            "DELETE FROM people WHERE id = 3",
        ],
    )
    .await;
    purge_binlogs(&server).await;

    // "resnapshot": reloaded, and streaming afterwards.
    let sync = RunningSync::start(resnapshot);
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    execute(&url, &["INSERT INTO people VALUES (5, 'after the reload')"]).await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    crate::sync_support::assert_no_key_twice(&bed.tab("People"));
    sync.stop().await.expect("graceful stop");

    // "stop": the real binary exits non-zero, naming the position it could not find.
    execute(&url, &["INSERT INTO people VALUES (6, 'lost')"]).await;
    purge_binlogs(&server).await;
    let position = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id)
        .and_then(|checkpoint| checkpoint.mappings.get("people").cloned())
        .expect("a stored position")
        .to_string();
    let (_directory, config) =
        write_config(&bed.config_text(&mappings, "on_binlog_gone = \"stop\""));
    let mut command = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SHEETSYNC_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sheetsync");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sheetsync run did not stop on a purged binlog within {LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert!(!status.success(), "exit status {status}; stderr:\n{stderr}");
    let last_line = stderr.lines().last().unwrap_or_default();
    assert!(
        last_line.starts_with("sheetsync: ")
            && last_line.contains(&format!(
                "the binlog at position {position} is no longer on the server (purged)"
            )),
        "the last line says plainly which position is gone ({position}):\n{stderr}"
    );
    assert!(
        !bed.tab("People")
            .iter()
            .any(|row| row.get(1).is_some_and(|name| name == "lost")),
        "with \"stop\" nothing is reloaded"
    );
}
