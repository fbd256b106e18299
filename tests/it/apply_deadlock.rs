//! Two pastes locking the same rows in opposite orders deadlock inside InnoDB; the one the
//! server rolls back is retried whole, and both end up applied (and counted as a retry).

use std::sync::Arc;

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{counter, delivery, edit, mapping, ApplyBed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlocked_transaction_is_retried_and_both_apply() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_deadlock",
        &[
            "CREATE TABLE pair (id INT PRIMARY KEY, a INT, b INT)",
            "INSERT INTO pair VALUES (1, 0, 0), (2, 0, 0)",
            // Each row update takes a moment, so the two transactions surely interleave.
            "CREATE TRIGGER slow BEFORE UPDATE ON pair FOR EACH ROW SET @slept = SLEEP(0.3)",
        ],
        |database| {
            vec![mapping(
                database,
                "pair",
                "Pair",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let retries_before = counter("sheetsync_apply_retries_total", &[]);
    let forward = edit(
        &delivery("forward"),
        "Pair",
        &["id", "a", "b"],
        json!([{ "row": 2, "key": {"id": 1}, "values": {"a": 1} }, { "row": 3, "key": {"id": 2}, "values": {"a": 2} }]),
    );
    let backward = edit(
        &delivery("backward"),
        "Pair",
        &["id", "a", "b"],
        json!([{ "row": 3, "key": {"id": 2}, "values": {"b": 20} }, { "row": 2, "key": {"id": 1}, "values": {"b": 10} }]),
    );
    let bed = Arc::new(bed);
    let first = {
        let bed = bed.clone();
        tokio::spawn(async move { bed.send(&forward).await })
    };
    let second = {
        let bed = bed.clone();
        tokio::spawn(async move { bed.send(&backward).await })
    };
    for task in [first, second] {
        let (status, answer) = task.await.expect("task");
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(
        bed.rows("SELECT id, a, b FROM pair ORDER BY id").await,
        [
            [Some("1".into()), Some("1".into()), Some("10".into())],
            [Some("2".into()), Some("2".into()), Some("20".into())],
        ]
    );
    assert!(
        counter("sheetsync_apply_retries_total", &[]) > retries_before,
        "the deadlock was retried"
    );
}
