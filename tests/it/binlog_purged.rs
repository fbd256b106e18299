//! Resuming from a position whose binlog was purged is the definite `PositionPurged` error,
//! naming the position.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use sheetsync::binlog::BinlogError;
use sheetsync::position::BinlogPosition;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, next_error, start_source};

#[tokio::test]
async fn purged_position_is_reported() {
    let server = MariaDb::start().expect("own MariaDB");
    let database = server.create_database("binlog_purged").await;
    execute(
        &database.url,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY)",
            "INSERT INTO t VALUES (1)",
        ],
    )
    .await;
    // Read the position with a plain query: a replica connection would hold the binlog file
    // open, and PURGE skips files in use.
    let saved: BinlogPosition = {
        let mut connection = mysql_async::Conn::from_url(server.root_url())
            .await
            .expect("connect");
        let text: String = connection
            .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
            .await
            .expect("query")
            .expect("a position");
        let _ = connection.disconnect().await;
        text.parse().expect("MariaDB GTID position")
    };
    execute(&database.url, &["INSERT INTO t VALUES (2)"]).await;
    server.execute("FLUSH BINARY LOGS").await;
    execute(&database.url, &["INSERT INTO t VALUES (3)"]).await;
    server.execute("FLUSH BINARY LOGS").await;
    let mut connection = mysql_async::Conn::from_url(server.root_url())
        .await
        .expect("connect");
    let status: mysql_async::Row = connection
        .query_first("SHOW MASTER STATUS")
        .await
        .expect("status")
        .expect("a binlog");
    let current_file: String = status.get(0).expect("file");
    // MariaDB keeps a log until its binlog checkpoint (InnoDB flushed) has passed it, which
    // happens asynchronously: retry the purge with a bounded wait.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        connection
            .query_drop(format!("PURGE BINARY LOGS TO '{current_file}'"))
            .await
            .expect("purge");
        let logs: Vec<mysql_async::Row> = connection.query("SHOW BINARY LOGS").await.expect("logs");
        if logs.len() == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "older binlogs were never purged: {}",
            logs.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = connection.disconnect().await;

    let mut source = start_source(&server.root_url(), Some(saved.clone())).await;
    let error = next_error(&mut source, Duration::from_secs(20)).await;
    assert!(
        matches!(&error, BinlogError::PositionPurged { position, .. } if *position == saved.to_string()),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains(&saved.to_string()));
}
