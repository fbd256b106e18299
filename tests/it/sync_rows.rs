//! Insert, update, delete, multi-statement transactions, rollbacks and key changes reach the tab;
//! a restart resumes from the checkpoint without doubling anything.

use std::time::Duration;

use crate::sync_support::{
    execute, sorted_data_rows, wait_for_tab_to_equal_table, RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn rows_flow_from_table_to_tab() {
    let bed = SyncBed::start(
        "sync_rows",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let url = bed.database.url.clone();
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    // The initial load: header and the two rows.
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty", LIMIT).await;
    assert_eq!(bed.tab("People")[0], ["id", "name", "qty"]);

    execute(
        &url,
        &[
            "INSERT INTO people VALUES (3, 'linus', 30)",
            "UPDATE people SET qty = qty + 1 WHERE id = 1",
            "DELETE FROM people WHERE id = 2",
            // One transaction, several statements.
            "BEGIN",
            "INSERT INTO people VALUES (4, 'barbara', 40)",
            "UPDATE people SET name = 'Barbara' WHERE id = 4",
            "COMMIT",
            // Rolled back: never visible.
            "BEGIN",
            "INSERT INTO people VALUES (5, 'ghost', 0)",
            "UPDATE people SET name = 'ghost' WHERE id = 1",
            "ROLLBACK",
            // A key change moves the row.
            "UPDATE people SET id = 30 WHERE id = 3",
            "INSERT INTO people VALUES (6, '=1+1', NULL)",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty", LIMIT).await;
    let rows = sorted_data_rows(&bed.tab("People"));
    assert!(rows.iter().all(|row| row[1] != "ghost"), "{rows:?}");
    assert!(
        rows.iter().any(|row| row[1] == "=1+1"),
        "a formula-looking text stays text: {rows:?}"
    );
    sync.stop().await.expect("graceful stop");

    // Changes while stopped, then a restart: resumed from the checkpoint, nothing doubled.
    execute(
        &url,
        &[
            "INSERT INTO people VALUES (7, 'while stopped', 7)",
            "DELETE FROM people WHERE id = 1",
        ],
    )
    .await;
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty", LIMIT).await;
    let keys: Vec<String> = bed
        .tab("People")
        .iter()
        .skip(1)
        .map(|row| row[0].clone())
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "no key twice: {keys:?}");
    sync.stop().await.expect("graceful stop");
}
