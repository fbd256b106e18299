//! Two edits whose transactions lock the same rows in opposite orders (through triggers that
//! touch the other table) deadlock inside InnoDB; the one the server rolls back is retried
//! whole, and both end up applied (and counted as a retry). Rows of one message are locked in
//! one read, in index order, so pastes alone do not deadlock each other.

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
            "CREATE TABLE left_side (id INT PRIMARY KEY, v INT, bumps INT NOT NULL DEFAULT 0)",
            "CREATE TABLE right_side (id INT PRIMARY KEY, v INT, bumps INT NOT NULL DEFAULT 0)",
            "INSERT INTO left_side (id, v) VALUES (1, 0)",
            "INSERT INTO right_side (id, v) VALUES (1, 0)",
            // Each edit holds its row a moment, then touches the other table's row.
            "CREATE TRIGGER left_touches_right AFTER UPDATE ON left_side FOR EACH ROW \
             IF NEW.v <> OLD.v THEN DO SLEEP(0.5); UPDATE right_side SET bumps = bumps + 1 WHERE id = 1; END IF",
            "CREATE TRIGGER right_touches_left AFTER UPDATE ON right_side FOR EACH ROW \
             IF NEW.v <> OLD.v THEN DO SLEEP(0.5); UPDATE left_side SET bumps = bumps + 1 WHERE id = 1; END IF",
        ],
        |database| {
            vec![
                mapping(database, "left_side", "Left", ConflictPolicy::LastWriteWins),
                mapping(database, "right_side", "Right", ConflictPolicy::LastWriteWins),
            ]
        },
    )
    .await;
    let retries_before = counter("sheetsync_apply_retries_total", &[]);
    let bed = Arc::new(bed);
    let send = |sheet: &'static str, value: i64| {
        let bed = bed.clone();
        let message = edit(
            &delivery("deadlock"),
            sheet,
            &["id", "v", "bumps"],
            json!([{ "row": 2, "key": {"id": 1}, "values": {"v": value} }]),
        );
        tokio::spawn(async move { bed.send(&message).await })
    };
    // The second edit goes once the first holds its row (inside its trigger's sleep): sent
    // together, both could wait in the group commit queue and be taken by one worker, one after
    // the other, and never deadlock (seen on a loaded machine).
    let first = send("Left", 1);
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let tasks = [first, send("Right", 2)];
    for task in tasks {
        let (status, answer) = task.await.expect("task");
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(
        bed.rows("SELECT v, bumps FROM left_side").await,
        [[Some("1".into()), Some("1".into())]]
    );
    assert_eq!(
        bed.rows("SELECT v, bumps FROM right_side").await,
        [[Some("2".into()), Some("1".into())]]
    );
    assert!(
        counter("sheetsync_apply_retries_total", &[]) > retries_before,
        "the deadlock was retried"
    );
}
