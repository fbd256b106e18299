//! MySQL going away while an edit is being applied: the transaction is rolled back by the
//! server, the webhook answers 503 (so the script keeps the delivery and retries), nothing of
//! the message is half-written, and the same delivery applies whole once MySQL is back.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_down_answers_503_and_nothing_is_half_written() {
    let server = Arc::new(MariaDb::start().expect("own MariaDB"));
    let bed = ApplyBed::start(
        &server,
        "apply_down",
        &[
            "CREATE TABLE stock (id INT PRIMARY KEY, qty INT)",
            "INSERT INTO stock VALUES (1, 0), (2, 0), (3, 0), (4, 0)",
        ],
        |database| {
            vec![mapping(
                database,
                "stock",
                "Stock",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let rows: Vec<Value> = (1..=4)
        .map(|id| json!({ "row": id + 1, "key": {"id": id}, "values": {"qty": id * 100} }))
        .collect();
    let message = edit(
        &delivery("down"),
        "Stock",
        &["id", "qty"],
        Value::Array(rows),
    );

    // Another client holds row 3, so the apply updates rows 1 and 2 and then waits.
    let mut blocker = mysql_async::Conn::from_url(server.url(&bed.database).as_str())
        .await
        .expect("connect");
    blocker
        .query_drop("START TRANSACTION")
        .await
        .expect("begin");
    blocker
        .query_drop("SELECT * FROM stock WHERE id = 3 FOR UPDATE")
        .await
        .expect("lock row 3");
    let bed = Arc::new(bed);
    let in_flight = {
        let bed = bed.clone();
        let message = message.clone();
        tokio::spawn(async move { bed.send(&message).await })
    };
    wait_for_lock_wait(&server.url(&bed.database), &in_flight).await;
    // MySQL dies with the transaction half done. SIGKILL, not a graceful stop: a graceful
    // shutdown rolls the blocker back first, and the waiting apply could then commit before its
    // own connection is closed (a race, not the scenario).
    let stopping = server.clone();
    tokio::task::spawn_blocking(move || stopping.kill().expect("kill"))
        .await
        .expect("stop task");
    drop(blocker);
    let (status, answer) = tokio::time::timeout(Duration::from_secs(30), in_flight)
        .await
        .expect("answered in time")
        .expect("task");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        json!("database unavailable, retry later")
    );
    // While it is down, a new delivery is refused the same way.
    let (status, _) = bed
        .send(&edit(
            &delivery("down"),
            "Stock",
            &["id", "qty"],
            json!([{ "row": 2, "key": {"id": 1}, "values": {"qty": 1} }]),
        ))
        .await;
    assert_eq!(status, 503);

    let resuming = server.clone();
    tokio::task::spawn_blocking(move || resuming.resume().expect("resume"))
        .await
        .expect("resume task");
    // Nothing of the first attempt survived.
    assert_eq!(
        bed.rows("SELECT qty FROM stock ORDER BY id").await,
        [
            [Some("0".into())],
            [Some("0".into())],
            [Some("0".into())],
            [Some("0".into())]
        ]
    );
    // The script's retry: the same delivery, applied whole.
    let (status, answer) = bed.send(&message).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        bed.rows("SELECT qty FROM stock ORDER BY id").await,
        [
            [Some("100".into())],
            [Some("200".into())],
            [Some("300".into())],
            [Some("400".into())]
        ]
    );
}

async fn wait_for_lock_wait(url: &str, in_flight: &tokio::task::JoinHandle<(u16, Value)>) {
    let mut connection = mysql_async::Conn::from_url(url).await.expect("connect");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: Option<u64> = connection
            .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT %FOR UPDATE'")
            .await
            .expect("PROCESSLIST");
        if waiting.unwrap_or(0) > 0 {
            break;
        }
        if in_flight.is_finished() || tokio::time::Instant::now() > deadline {
            let processes: Vec<mysql_async::Row> = connection
                .query("SHOW FULL PROCESSLIST")
                .await
                .expect("processlist");
            panic!(
                "the apply never waited for row 3 (finished: {}): {processes:?}",
                in_flight.is_finished()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = connection.disconnect().await;
}
