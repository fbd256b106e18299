//! A MariaDB restart mid-stream: the reader reconnects and resumes from the last committed
//! position; nothing is lost or delivered twice.

use std::time::Duration;

use sheetsync::value::Value;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, next_in, start_source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_restart_without_loss_or_duplicates() {
    let server = MariaDb::start().expect("own MariaDB");
    let database = server.create_database("binlog_reconnect").await;
    execute(&database.url, &["CREATE TABLE items (id INT PRIMARY KEY)"]).await;
    let mut source = start_source(&server.root_url(), None).await;

    let mut seen = Vec::new();
    for id in 1..=5 {
        execute(
            &database.url,
            &[&format!("INSERT INTO items VALUES ({id})")],
        )
        .await;
    }
    for _ in 1..=5 {
        let transaction = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
        seen.push(transaction.changes[0].key()[0].clone());
    }

    // restart() blocks until the server answers again; keep the reader's worker free meanwhile.
    tokio::task::block_in_place(|| server.restart()).expect("restart MariaDB");

    for id in 6..=10 {
        execute(
            &database.url,
            &[&format!("INSERT INTO items VALUES ({id})")],
        )
        .await;
    }
    for _ in 6..=10 {
        let transaction = next_in(&mut source, &database.name, Duration::from_secs(30)).await;
        seen.push(transaction.changes[0].key()[0].clone());
    }
    let expected: Vec<Value> = (1..=10).map(Value::Int).collect();
    assert_eq!(seen, expected);
    assert!(source.reconnects() >= 1, "the reader must have reconnected");
    source.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_crash_and_downtime() {
    let server = MariaDb::start().expect("own MariaDB");
    let database = server.create_database("binlog_crash").await;
    execute(&database.url, &["CREATE TABLE items (id INT PRIMARY KEY)"]).await;
    let mut source = start_source(&server.root_url(), None).await;
    execute(&database.url, &["INSERT INTO items VALUES (1)"]).await;
    let first = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    assert_eq!(first.changes[0].key(), [&Value::Int(1)]);

    // A crash (the connection errors instead of closing), then the server stays down while the
    // reader retries with backoff; wait until it has failed at least twice.
    tokio::task::block_in_place(|| server.kill()).expect("kill MariaDB");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while source.reconnects() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader never retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::block_in_place(|| server.resume()).expect("resume MariaDB");
    execute(
        &database.url,
        &[
            "INSERT INTO items VALUES (2)",
            "INSERT INTO items VALUES (3)",
        ],
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let transaction = next_in(&mut source, &database.name, Duration::from_secs(30)).await;
        seen.push(transaction.changes[0].key()[0].clone());
    }
    assert_eq!(seen, [Value::Int(2), Value::Int(3)]);
    source.stop().await;
}

#[tokio::test]
async fn idle_stream_stays_connected_on_heartbeats() {
    // The read timeout is twice the 1 s heartbeat: an idle but healthy server must never look
    // dead. Idle for longer than several timeouts, then the stream must still deliver.
    let server = MariaDb::start().expect("own MariaDB");
    let database = server.create_database("binlog_idle").await;
    execute(&database.url, &["CREATE TABLE items (id INT PRIMARY KEY)"]).await;
    let mut source = start_source(&server.root_url(), None).await;
    let idle = tokio::time::timeout(Duration::from_millis(5_500), source.next()).await;
    assert!(
        idle.is_err(),
        "nothing was written, nothing may arrive: {idle:?}"
    );
    assert_eq!(
        source.reconnects(),
        0,
        "heartbeats keep the connection alive"
    );
    execute(&database.url, &["INSERT INTO items VALUES (1)"]).await;
    let transaction = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    assert_eq!(transaction.changes[0].key(), [&Value::Int(1)]);
    source.stop().await;
}
