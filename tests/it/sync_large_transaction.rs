//! A transaction larger than the part size reaches the tab whole: rows inserted in one part
//! and updated, re-keyed or deleted in a later one end as the table has them, the checkpoint
//! lands at the commit, and a restart doubles nothing.

use std::time::Duration;

use crate::sync_support::{
    assert_no_key_twice, execute_returning_gtid, stored_checkpoint, wait_for,
    wait_for_initial_load, wait_for_tab_to_equal_table, RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(60);
const COLUMNS: &str = "id, name, qty";

#[tokio::test]
async fn a_transaction_in_parts_reaches_the_tab_whole() {
    let bed = SyncBed::start(
        "sync_large_transaction",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(60), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 1), (2, 'grace', 2)",
        ],
    )
    .await;
    // Parts of 32 KiB: the transaction below comes in about twenty.
    let config = || {
        sheetsync::config::Config::from_toml(
            &bed.config_text(&[("people", "People")], "transaction_buffer_kib = 32"),
        )
        .expect("config")
    };
    let sync = RunningSync::start(config());
    wait_for_initial_load(&bed).await;

    let gtid = execute_returning_gtid(
        &bed.database.url,
        &[
            "BEGIN",
            "INSERT INTO people SELECT seq, CONCAT('person ', seq, ' ', REPEAT('x', 30)), seq FROM seq_10_to_2009",
            // Later parts change rows of earlier ones.
            "UPDATE people SET qty = -qty WHERE id BETWEEN 10 AND 20",
            "UPDATE people SET id = 5000 WHERE id = 21",
            "DELETE FROM people WHERE id IN (1, 22, 2009)",
            "UPDATE people SET name = 'grace hopper' WHERE id = 2",
            "COMMIT",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    wait_for(LIMIT, "the checkpoint at the commit", || {
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).is_some_and(|checkpoint| {
            checkpoint
                .mappings
                .get("people")
                .is_some_and(|position| position.covers(Some(&gtid), position))
        })
    })
    .await;
    sync.stop().await.expect("graceful stop");

    // A restart replays nothing twice.
    execute_returning_gtid(
        &bed.database.url,
        &["INSERT INTO people VALUES (6000, 'later', 6)"],
    )
    .await;
    let sync = RunningSync::start(config());
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    sync.stop().await.expect("graceful stop");
}
