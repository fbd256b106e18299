//! Google allows 10 million cells per spreadsheet, counted over all its tabs. Two synced tabs
//! that fit apart but not together: the flush that would grow one past the sum is refused
//! before it is sent, the run ends with an error that says so, and nothing is half-written.

use std::time::Duration;

use serde_json::json;

use crate::sync_support::{execute, stored_checkpoint, tab_keys, wait_for, RunningSync, SyncBed};

const LIMIT: Duration = Duration::from_secs(30);
/// 383,000 × 26 + 1,000 × 26 = 9,984,000 cells: `Small` may grow by 615 rows at most.
const BIG_ROWS: u32 = 383_000;

#[tokio::test]
async fn synced_tabs_share_the_spreadsheet_cell_limit() {
    let bed = SyncBed::start(
        "sync_cell_limit",
        &[
            "CREATE TABLE big (id INT PRIMARY KEY, name VARCHAR(20))",
            "CREATE TABLE small (id INT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO big VALUES (1, 'b')",
            "INSERT INTO small VALUES (1, 's')",
        ],
    )
    .await;
    let tab = |title: &str, rows: u32| json!({"addSheet": {"properties": {"title": title, "gridProperties": {"rowCount": rows, "columnCount": 26}}}});
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [
                tab("Small", 1_000),
                {"deleteSheet": {"sheetId": 0}},
                tab("Big", BIG_ROWS),
            ]}),
        )
        .expect("tabs sized by a person");
    let sync = RunningSync::start(bed.config(&[("big", "Big"), ("small", "Small")]));
    wait_for(LIMIT, "both initial loads", || {
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id)
            .is_some_and(|checkpoint| checkpoint.mappings.len() == 2)
    })
    .await;
    let before = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id);

    // 2,000 more rows fit in `Small` alone, but not beside `Big`.
    execute(
        &bed.database.url,
        &["INSERT INTO small SELECT seq, 'more' FROM seq_2_to_2001"],
    )
    .await;
    let outcome = tokio::time::timeout(LIMIT, sync.task)
        .await
        .expect("the run ends")
        .expect("pipeline task");
    let error = outcome.expect_err("a definite error");
    let text = error.to_string();
    assert!(
        text.contains("the 2 synced tabs of this spreadsheet would hold")
            && text.contains("at most 10000000"),
        "{text}"
    );
    assert!(!error.is_transient());
    assert_eq!(tab_keys(&bed.tab("Small")), ["1"], "nothing half-written");
    assert_eq!(
        bed.emulator
            .state
            .store
            .grid_size(&bed.spreadsheet_id, "Small"),
        Some((1_000, 26))
    );
    assert_eq!(
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id),
        before,
        "the checkpoint did not move"
    );
}
