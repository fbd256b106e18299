//! Transaction grouping on a live MariaDB: multi-statement and multi-table transactions,
//! rollbacks never emitted, composite keys, increasing GTID positions.

use std::time::Duration;

use sheetsync::binlog::ChangeKind;
use sheetsync::position::{BinlogPosition, Gtid};
use sheetsync::value::Value;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, next_in, next_touching, start_source};

#[tokio::test]
async fn whole_transactions_in_commit_order() {
    let server = MariaDb::shared();
    let database = server.create_database("binlog_transactions").await;
    execute(
        &database.url,
        &[
            "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT)",
            "CREATE TABLE entries (account INT, line VARCHAR(10), amount INT, PRIMARY KEY (account, line))",
        ],
    )
    .await;
    let mut source = start_source(&server.root_url(), None).await;
    execute(
        &database.url,
        &[
            "BEGIN",
            "INSERT INTO accounts VALUES (1, 100), (2, 200)",
            "UPDATE accounts SET balance = 150 WHERE id = 1",
            "INSERT INTO entries VALUES (1, 'x', 50)",
            "COMMIT",
            "BEGIN",
            "INSERT INTO accounts VALUES (99, 0)",
            "ROLLBACK",
            "DELETE FROM accounts WHERE id = 2",
        ],
    )
    .await;

    let first = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    let summary: Vec<(String, ChangeKind)> = first
        .changes
        .iter()
        .map(|change| (change.table.name.clone(), change.kind))
        .collect();
    assert_eq!(
        summary,
        [
            ("accounts".to_string(), ChangeKind::Insert),
            ("accounts".to_string(), ChangeKind::Insert),
            ("accounts".to_string(), ChangeKind::Update),
            ("entries".to_string(), ChangeKind::Insert),
        ]
    );
    let update = &first.changes[2];
    assert_eq!(
        update.before.as_ref().and_then(|row| row.get("balance")),
        Some(&Value::Int(100))
    );
    assert_eq!(
        update.after.as_ref().and_then(|row| row.get("balance")),
        Some(&Value::Int(150))
    );
    let entry = &first.changes[3];
    assert_eq!(entry.schema.primary_key_names(), ["account", "line"]);
    assert_eq!(entry.key(), [&Value::Int(1), &Value::Text("x".into())]);

    // The rolled-back insert of 99 never appears; the next transaction is the delete.
    let second = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    assert_eq!(second.changes.len(), 1);
    assert_eq!(second.changes[0].kind, ChangeKind::Delete);
    assert_eq!(second.changes[0].key(), [&Value::Int(2)]);

    let (Some(Gtid::MariaDb(first_gtid)), Some(Gtid::MariaDb(second_gtid))) =
        (&first.gtid, &second.gtid)
    else {
        panic!("MariaDB GTIDs expected: {:?} {:?}", first.gtid, second.gtid)
    };
    assert_eq!(first_gtid.domain, second_gtid.domain);
    assert!(second_gtid.sequence > first_gtid.sequence);
    let BinlogPosition::MariaDbGtids(domains) = &second.position_after else {
        panic!("GTID position expected: {}", second.position_after)
    };
    assert_eq!(domains.get(&second_gtid.domain), Some(second_gtid));
    assert!(first.commit_unix_seconds > 0);

    // DDL is its own transaction (MariaDB marks it standalone), and later rows carry the new
    // column, decoded with the schema of their own TABLE_MAP.
    execute(
        &database.url,
        &[
            "ALTER TABLE accounts ADD COLUMN note VARCHAR(20)",
            "INSERT INTO accounts VALUES (3, 300, 'new')",
        ],
    )
    .await;
    let ddl = next_touching(&mut source, &database.name, Duration::from_secs(20)).await;
    assert!(ddl.changes.is_empty());
    assert_eq!(ddl.statements.len(), 1);
    assert!(ddl.statements[0]
        .statement
        .starts_with("ALTER TABLE accounts"));
    assert_eq!(ddl.statements[0].database, database.name);
    let insert = next_touching(&mut source, &database.name, Duration::from_secs(20)).await;
    let row = insert.changes[0].after.as_ref().expect("after image");
    assert_eq!(row.get("note"), Some(&Value::Text("new".into())));
    source.stop().await;
}

#[tokio::test]
async fn file_positions_name_the_real_file() {
    use mysql_async::prelude::Queryable;
    let server = MariaDb::shared();
    let database = server.create_database("binlog_file_position").await;
    execute(&database.url, &["CREATE TABLE t (id INT PRIMARY KEY)"]).await;
    let mut connection = mysql_async::Conn::from_url(server.root_url())
        .await
        .expect("connect");
    let status: mysql_async::Row = connection
        .query_first("SHOW MASTER STATUS")
        .await
        .expect("status")
        .expect("binlog on");
    let _ = connection.disconnect().await;
    let file: String = status.get(0).expect("file");
    let offset: u64 = status.get(1).expect("offset");
    let start = BinlogPosition::File {
        file: file.clone(),
        offset,
    };
    let mut source = start_source(&server.root_url(), Some(start)).await;
    execute(&database.url, &["INSERT INTO t VALUES (7)"]).await;
    let transaction = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    // The first (fake) ROTATE's name carries 4 checksum bytes in mysql_async; they must not
    // leak into the position.
    let BinlogPosition::File {
        file: after_file,
        offset: after_offset,
    } = &transaction.position_after
    else {
        panic!("file position expected: {}", transaction.position_after)
    };
    assert_eq!(after_file, &file);
    assert!(*after_offset > offset);
    assert_eq!(
        transaction.commit_event_end,
        Some((file.clone(), *after_offset))
    );
    source.stop().await;
}
