//! A request of an earlier sheetsync process lands after this one's flushes: its older cells
//! and its older checkpoint are applied over ours (a leader killed mid-request, whose 2 MB
//! `batchUpdate` Google finished seconds later, after the standby had taken over). The writer
//! reads its checkpoint back between flushes, sees a flush it did not store, restarts from
//! that checkpoint and writes the later changes again: the tab ends equal to the table.
//! Without the read-back the old cells stayed until their rows changed again.

use std::time::Duration;

use serde_json::json;

use crate::sync_support::{
    execute, stored_checkpoint, try_wait_for_tab_to_equal_table, wait_for_initial_load,
    wait_for_tab_to_equal_table, RunningSync, SyncBed,
};

const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_request_of_an_earlier_process_is_noticed_and_written_over() {
    let bed = SyncBed::start(
        "sync_late_write",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 1), (2, 'grace', 2), (3, 'linus', 3)",
        ],
    )
    .await;
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    let limit = Duration::from_secs(30);
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit).await;
    wait_for_initial_load(&bed).await;
    let earlier = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("checkpoint");

    execute(&bed.database.url, &["UPDATE people SET qty = qty + 100"]).await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit).await;
    let current = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("checkpoint");
    assert_ne!(current.flush, earlier.flush);

    // The late request: the earlier cells and the earlier checkpoint.
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!C2:C4",
            vec![vec![json!(1)], vec![json!(2)], vec![json!(3)]],
            false,
        )
        .expect("the late cells");
    let metadata_id = bed
        .emulator
        .state
        .store
        .developer_metadata(&bed.spreadsheet_id)
        .and_then(|entries| entries.first().map(|entry| entry["metadataId"].clone()))
        .expect("the checkpoint entry");
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [{"updateDeveloperMetadata": {
                "dataFilters": [{"developerMetadataLookup": {"metadataId": metadata_id}}],
                "developerMetadata": {"metadataValue": earlier.encode()},
                "fields": "metadataValue"}}]}),
        )
        .expect("the late checkpoint");
    assert_eq!(
        bed.tab("People")[1][2],
        "1",
        "the late cells are in the tab"
    );

    // The next read-back (5, 15 or 60 s after the writer started) notices it.
    try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, Duration::from_secs(90))
        .await
        .unwrap_or_else(|difference| panic!("the late cells stayed: {difference}"));
    let repaired = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("checkpoint");
    assert_ne!(
        repaired.flush, earlier.flush,
        "a new flush stored its own checkpoint"
    );
    sync.stop().await.expect("a clean stop");
}
