//! The initial snapshot reads every column type into exactly the values the binlog decoder
//! gives the same row, and its position is consistent with its rows: a row committed after
//! the snapshot started is absent from the rows and present in the stream after the position.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use sheetsync::sync::snapshot::{Snapshot, SnapshotError};
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, next_in, start_source};

const TABLE: &str = "CREATE TABLE types (
    id INT PRIMARY KEY,
    i_tiny TINYINT, u_tiny TINYINT UNSIGNED, i_big BIGINT, u_big BIGINT UNSIGNED, flag BOOLEAN,
    f FLOAT, d DOUBLE, dec65 DECIMAL(65,30), dec_small DECIMAL(10,2),
    t_utf8 VARCHAR(50) CHARACTER SET utf8mb4, t_latin1 VARCHAR(50) CHARACTER SET latin1,
    c_char CHAR(10), b_bin BINARY(16), b_blob BLOB,
    d_date DATE, d_datetime DATETIME(6), d_timestamp TIMESTAMP(6) NULL, d_time TIME(6),
    d_year YEAR, e ENUM('small','medium','large'), s SET('a','b','c'), empty_set SET('x','y'),
    bits BIT(10), j JSON, n INT NULL
)";

const ROW: &str = "INSERT INTO types VALUES (1, -128, 255, -9223372036854775808,
    18446744073709551615, TRUE, 1.5, 2.25,
    '12345678901234567890123456789012345.123456789012345678901234567890', '-0.05',
    '😀 emoji', 'café', 'abc', 0xFFEE0000000000000000000000001100, 0x0102,
    '1000-01-01', '2024-05-06 07:08:09.123456', '2024-05-06 07:08:09.654321',
    '-838:59:59.000000', 2155, 'medium', 'a,c', '', b'1000000001', '{\"a\": [1, 2]}', NULL)";

#[tokio::test]
async fn snapshot_rows_equal_binlog_rows_for_every_type() {
    let server = MariaDb::shared();
    let database = server.create_database("snapshot_values").await;
    execute(&database.url, &[TABLE]).await;
    let mut source = start_source(&server.root_url(), None).await;
    execute(&database.url, &["SET time_zone = '+00:00'", ROW]).await;
    let transaction = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    let from_binlog = transaction.changes[0].after.clone().expect("after image");
    source.stop().await;

    let pool = mysql_async::Pool::new(database.url.as_str());
    let mut snapshot = Snapshot::begin(&pool, &database.name, "types", None, 100)
        .await
        .expect("snapshot");
    assert_eq!(snapshot.key_columns.len(), 1);
    let rows = snapshot.reader.next_chunk().await.expect("chunk");
    assert_eq!(rows.len(), 1);
    for column in &from_binlog.columns {
        assert_eq!(
            rows[0].get(&column.name),
            Some(&column.value),
            "column {}",
            column.name
        );
    }
    assert!(snapshot.reader.next_chunk().await.expect("end").is_empty());
    snapshot.reader.finish().await.expect("finish");
    pool.disconnect().await.expect("disconnect");
}

#[tokio::test]
async fn the_snapshot_position_splits_rows_exactly() {
    let server = MariaDb::shared();
    let database = server.create_database("snapshot_position").await;
    let mut statements =
        vec!["CREATE TABLE items (a INT, b VARCHAR(5), v INT, PRIMARY KEY (a, b))".to_string()];
    for a in 0..7 {
        statements.push(format!(
            "INSERT INTO items VALUES ({a}, 'x', {a}), ({a}, 'y', {a})"
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    execute(&database.url, &statements).await;

    let pool = mysql_async::Pool::new(database.url.as_str());
    let mut snapshot = Snapshot::begin(&pool, &database.name, "items", Some(&["v".to_string()]), 3)
        .await
        .expect("snapshot");
    // Committed after the snapshot began: not in its rows, but in the stream after its position.
    execute(
        &database.url,
        &[
            "INSERT INTO items VALUES (100, 'z', 100)",
            "UPDATE items SET v = -1 WHERE a = 0",
        ],
    )
    .await;
    let mut keys = Vec::new();
    loop {
        let chunk = snapshot.reader.next_chunk().await.expect("chunk");
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.len() <= 3);
        for row in chunk {
            // The key columns are read even when the mapping does not list them.
            let a = row.get("a").cloned();
            let b = row.get("b").cloned();
            assert_ne!(row.get("v"), Some(&sheetsync::value::Value::Int(-1)));
            keys.push((a, b));
        }
    }
    assert_eq!(keys.len(), 14, "every row once, in key order across chunks");
    let mut sorted = keys.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 14);
    snapshot.reader.finish().await.expect("finish");

    let mut source = start_source(&server.root_url(), Some(snapshot.position.clone())).await;
    let first = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    let inserted = first.changes[0].after.as_ref().expect("after");
    assert_eq!(inserted.get("a"), Some(&sheetsync::value::Value::Int(100)));
    let second = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    assert_eq!(second.changes.len(), 2, "the update of both a = 0 rows");
    source.stop().await;

    let mut conn = pool.get_conn().await.expect("conn");
    conn.query_drop("CREATE TABLE keyless (v INT)")
        .await
        .expect("create");
    drop(conn);
    let error = Snapshot::begin(&pool, &database.name, "keyless", None, 10)
        .await
        .err()
        .expect("no primary key");
    assert!(
        matches!(error, SnapshotError::NoPrimaryKey { .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    let error = Snapshot::begin(&pool, &database.name, "absent", None, 10)
        .await
        .err()
        .expect("missing");
    assert!(error.to_string().contains("does not exist"), "{error}");
    let error = Snapshot::begin(
        &pool,
        &database.name,
        "items",
        Some(&["nope".to_string()]),
        10,
    )
    .await
    .err()
    .expect("missing column");
    assert!(error.to_string().contains("`nope`"), "{error}");
    pool.disconnect().await.expect("disconnect");
}
