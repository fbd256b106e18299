//! Decode throughput of the whole reader (network, grouping, typed decoding) on a live MariaDB.
//! A measurement, not a check: run with
//! `cargo test --test it binlog_throughput -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use sheetsync::position::BinlogPosition;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, start_source, touches};

#[tokio::test]
#[ignore]
async fn rows_per_second() {
    const BATCHES: usize = 100;
    const ROWS_PER_BATCH: usize = 1000;
    let server = MariaDb::shared();
    let database = server.create_database("binlog_throughput").await;
    execute(
        &database.url,
        &["CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4, score INT,
            amount DECIMAL(10,2), created DATETIME(6), note TEXT, doc JSON)"],
    )
    .await;
    let mut connection = mysql_async::Conn::from_url(&database.url)
        .await
        .expect("connect");
    let before: String = connection
        .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
        .expect("position")
        .expect("position");
    // Write the whole workload first, so the reader's speed is measured, not the server's.
    for batch in 0..BATCHES {
        let values: Vec<String> = (0..ROWS_PER_BATCH)
            .map(|index| {
                let id = batch * ROWS_PER_BATCH + index;
                format!(
                    "({id}, 'name {id} 😀', {id}, {id}.25, '2024-05-06 07:08:09.123456', \
                     'a note', '{{\"id\": {id}}}')"
                )
            })
            .collect();
        connection
            .query_drop(format!("INSERT INTO people VALUES {}", values.join(",")))
            .await
            .expect("insert");
    }
    let _ = connection.disconnect().await;

    let start: BinlogPosition = before.parse().expect("position");
    let mut source = start_source(&server.root_url(), Some(start)).await;
    let expected_rows = BATCHES * ROWS_PER_BATCH;
    let mut rows = 0;
    let mut first_row_at = None;
    while rows < expected_rows {
        let transaction = tokio::time::timeout(Duration::from_secs(60), source.next())
            .await
            .expect("transactions keep coming")
            .expect("stream open")
            .expect("no error");
        if touches(&transaction, &database.name) {
            first_row_at.get_or_insert_with(Instant::now);
            rows += transaction.changes.len();
        }
    }
    let elapsed = first_row_at.expect("rows seen").elapsed();
    println!(
        "decoded {rows} rows in {:.3} s: {:.0} rows/s",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64()
    );
    source.stop().await;
}
