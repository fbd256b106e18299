//! The test bed's promises, against real `mariadbd` processes.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable as _;
use sheetsync_testbed::MariaDb;

async fn query_one(url: &str, sql: &str) -> Option<String> {
    let mut connection = mysql_async::Conn::from_url(url).await.expect("connect");
    let value: Option<String> = connection.query_first(sql).await.expect(sql);
    let _ = connection.disconnect().await;
    value
}

fn eventually(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn port_is_closed(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[tokio::test]
async fn starts_with_the_binlog_settings_sheetsync_needs() {
    let started = Instant::now();
    let server = MariaDb::start().expect("start");
    eprintln!("fresh start took {:?}", started.elapsed());
    let url = server.root_url();
    for (variable, expected) in [
        ("log_bin", "ON"),
        ("binlog_format", "ROW"),
        ("binlog_row_image", "FULL"),
        ("binlog_row_metadata", "FULL"),
        ("bind_address", "127.0.0.1"),
    ] {
        let actual = query_one(&url, &format!("SELECT CAST(@@{variable} AS CHAR)")).await;
        assert_eq!(actual.as_deref(), Some(expected), "@@{variable}");
    }
    let server_id = query_one(&url, "SELECT CAST(@@server_id AS CHAR)").await;
    assert_eq!(server_id, Some(server.server_id().to_string()));
}

#[tokio::test]
async fn each_test_gets_its_own_database() {
    let server = MariaDb::shared();
    let first = server.create_database("orders").await;
    let second = server.create_database("orders").await;
    assert_ne!(first.name, second.name);
    let current = query_one(&first.url, "SELECT DATABASE()").await;
    assert_eq!(current.as_deref(), Some(first.name.as_str()));
}

#[tokio::test]
async fn restart_keeps_data_and_binlogs_on_the_same_port() {
    let server = MariaDb::start().expect("start");
    let database = server.create_database("restart").await;
    server
        .execute(&format!(
            "CREATE TABLE `{0}`.t (id INT PRIMARY KEY); INSERT INTO `{0}`.t VALUES (1), (2)",
            database.name
        ))
        .await;

    let port = server.port();
    let started = Instant::now();
    server.restart().expect("restart");
    eprintln!("restart took {:?}", started.elapsed());
    assert_eq!(server.port(), port);
    let rows = query_one(&database.url, "SELECT CAST(COUNT(*) AS CHAR) FROM t").await;
    assert_eq!(rows.as_deref(), Some("2"));
    let mut connection = mysql_async::Conn::from_url(server.root_url())
        .await
        .expect("connect");
    let logs: Vec<(String, u64)> = connection.query("SHOW BINARY LOGS").await.expect("binlogs");
    assert!(
        logs.len() >= 2,
        "a restart opens a new binlog and keeps the old one: {logs:?}"
    );
    assert_eq!(logs[0].0, "binlog.000001");
}

#[tokio::test]
async fn kill_then_resume_recovers_committed_data() {
    let server = MariaDb::start().expect("start");
    let database = server.create_database("crash").await;
    server
        .execute(&format!(
            "CREATE TABLE `{0}`.t (id INT PRIMARY KEY); INSERT INTO `{0}`.t VALUES (7)",
            database.name
        ))
        .await;
    server.kill().expect("kill");
    assert!(!server.is_running());
    assert!(port_is_closed(server.port()));
    server.resume().expect("resume");
    let value = query_one(&database.url, "SELECT CAST(id AS CHAR) FROM t").await;
    assert_eq!(value.as_deref(), Some("7"));
}

#[tokio::test]
async fn extra_arguments_override_the_defaults() {
    let server = MariaDb::start_with(&["--binlog-format=STATEMENT"]).expect("start");
    let format = query_one(&server.root_url(), "SELECT @@binlog_format").await;
    assert_eq!(format.as_deref(), Some("STATEMENT"));
}

#[test]
fn dropping_a_server_stops_it_and_removes_its_directory() {
    let server = MariaDb::start().expect("start");
    let (port, directory) = (server.port(), server.directory().to_path_buf());
    drop(server);
    assert!(port_is_closed(port));
    assert!(
        !directory.exists(),
        "{} should be gone",
        directory.display()
    );
}

/// The child half of the next test: start a server, say where it is, then wait to be killed.
#[test]
fn child_holding_a_server() {
    if std::env::var_os("TESTBED_CHILD").is_none() {
        return; // only meaningful when started by the test below
    }
    let server = MariaDb::shared();
    println!("SERVER {} {}", server.port(), server.directory().display());
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_test_process_leaves_no_server_behind() {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_holding_a_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TESTBED_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child test");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(stdout);
    loop {
        line.clear();
        let read = std::io::BufRead::read_line(&mut reader, &mut line).expect("read");
        assert!(read > 0, "child ended without starting a server");
        if line.contains("SERVER ") {
            break;
        }
    }
    let mut fields = line
        .trim()
        .trim_start_matches(|c| c != 'S')
        .split(' ')
        .skip(1);
    let port: u16 = fields.next().expect("port").parse().expect("port number");
    let directory = PathBuf::from(fields.next().expect("directory"));
    assert!(!port_is_closed(port), "the child's server answers");
    child.kill().expect("SIGKILL the child");
    let _ = child.wait();
    eventually("the server to stop", Duration::from_secs(30), || {
        port_is_closed(port)
    });
    eventually("the directory to go", Duration::from_secs(30), || {
        !directory.exists()
    });
}
