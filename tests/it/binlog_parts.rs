//! A transaction larger than the part size comes out in parts on a live MariaDB: every row
//! once and in order, the parts flagged, their positions never past the commit (so no
//! checkpoint can land inside the transaction), for GTID and file positions alike.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use sheetsync::binlog::{BinlogSource, ChangeKind, SourceOptions, Transaction};
use sheetsync::position::BinlogPosition;
use sheetsync::value::Value;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, replica_server_id, touches};

const LIMIT: Duration = Duration::from_secs(30);
const ROWS: i64 = 3000;

async fn source_with_small_parts(url: &str, start: Option<BinlogPosition>) -> BinlogSource {
    let mut options = SourceOptions::new(url, replica_server_id());
    options.heartbeat = Duration::from_secs(1);
    options.start = start;
    options.part_bytes = 64 * 1024;
    BinlogSource::start(options).await.expect("start source")
}

/// Parts and the commit of the next transaction touching `database`, then the one after it.
async fn read_transaction(
    source: &mut BinlogSource,
    database: &str,
) -> (Vec<Transaction>, Transaction) {
    let mut parts = Vec::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let transaction = tokio::time::timeout_at(deadline, source.next())
            .await
            .expect("the transaction within the limit")
            .expect("source running")
            .expect("no source error");
        if !touches(&transaction, database) {
            continue;
        }
        if transaction.partial {
            parts.push(transaction);
        } else {
            return (parts, transaction);
        }
    }
}

#[tokio::test]
async fn a_large_transaction_comes_in_parts() {
    let server = MariaDb::shared();
    let database = server.create_database("binlog_parts").await;
    execute(
        &database.url,
        &["CREATE TABLE big (id INT PRIMARY KEY, payload VARCHAR(100))"],
    )
    .await;
    let mut connection = mysql_async::Conn::from_url(database.url.as_str())
        .await
        .expect("connect");
    let (file, offset): (String, u64) = connection
        .query_first("SHOW MASTER STATUS")
        .await
        .expect("master status")
        .map(|row: mysql_async::Row| {
            (
                row.get(0).expect("file"),
                row.get::<u64, _>(1).expect("position"),
            )
        })
        .expect("binlog on");
    let file_start = BinlogPosition::File { file, offset };
    let mut by_gtid = source_with_small_parts(&server.root_url(), None).await;
    let mut by_file = source_with_small_parts(&server.root_url(), Some(file_start.clone())).await;
    // Rows inserted early in the transaction are updated and deleted late in it.
    execute(
        &database.url,
        &[
            "BEGIN",
            &format!(
                "INSERT INTO big SELECT seq, CONCAT('row-', seq, REPEAT('x', 40)) FROM seq_1_to_{ROWS}"
            ),
            "UPDATE big SET payload = 'changed' WHERE id <= 5",
            "DELETE FROM big WHERE id = 6",
            "COMMIT",
            "INSERT INTO big VALUES (999999, 'after')",
        ],
    )
    .await;

    for (source, label) in [(&mut by_gtid, "gtid"), (&mut by_file, "file")] {
        let (parts, last) = read_transaction(source, &database.name).await;
        assert!(parts.len() >= 2, "{label}: {} parts", parts.len());
        let changes: Vec<_> = parts
            .iter()
            .chain(std::iter::once(&last))
            .flat_map(|transaction| transaction.changes.iter())
            .collect();
        assert_eq!(
            changes.len() as i64,
            ROWS + 5 + 1,
            "{label}: every row once"
        );
        let inserted: Vec<&Value> = changes
            .iter()
            .filter(|change| change.kind == ChangeKind::Insert)
            .map(|change| change.key()[0])
            .collect();
        let expected: Vec<Value> = (1..=ROWS).map(Value::Int).collect();
        assert_eq!(
            inserted,
            expected.iter().collect::<Vec<_>>(),
            "{label}: in order"
        );
        assert_eq!(changes[changes.len() - 1].kind, ChangeKind::Delete);
        for part in &parts {
            assert_eq!(part.gtid, last.gtid, "{label}: one transaction");
            assert!(part.statements.is_empty());
            // A part's position never covers the transaction's commit…
            assert!(
                !part
                    .position_after
                    .covers(last.gtid.as_ref(), &last.position_after),
                "{label}: {} is past the commit {}",
                part.position_after,
                last.position_after
            );
            // …and a checkpoint taken at the commit covers every part.
            assert!(
                last.position_after
                    .covers(part.gtid.as_ref(), &part.position_after),
                "{label}: {} not covered by {}",
                part.position_after,
                last.position_after
            );
        }
        if label == "file" {
            for part in &parts {
                assert!(
                    !file_start.covers(None, &part.position_after),
                    "a part at {} counts as before the transaction",
                    part.position_after
                );
            }
        }
        let (after_parts, after) = read_transaction(source, &database.name).await;
        assert!(after_parts.is_empty(), "{label}: a small transaction whole");
        assert_eq!(after.changes.len(), 1);
    }
    by_gtid.stop().await;
    by_file.stop().await;
}
