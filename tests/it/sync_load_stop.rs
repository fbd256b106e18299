//! A stop during the initial load is a clean stop: the run ends without an error, the mapping
//! stores no checkpoint (the tab is only part-loaded), and the next start loads it again to a
//! tab equal to the table with each key once.

use std::time::Duration;

use crate::sync_support::{
    assert_no_key_twice, slow_writes, stored_checkpoint, tab_keys, wait_for,
    wait_for_tab_to_equal_table, RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_stop_during_the_load_is_clean_and_the_next_start_loads_again() {
    let bed = SyncBed::start(
        "sync_load_stop",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(80))",
            "INSERT INTO people SELECT seq, CONCAT('person ', seq, ' ', REPEAT('x', 60)) FROM seq_1_to_40000",
        ],
    )
    .await;
    // Slow writes: the load's batches (2 MB each, about 12,000 of these rows) land one by one,
    // seconds apart.
    slow_writes(&bed.emulator, 1_500);
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    wait_for(LIMIT, "the load's first batch", || {
        bed.emulator
            .state
            .store
            .sheet_values(&bed.spreadsheet_id, "People")
            .is_some_and(|rows| rows.len() > 1)
    })
    .await;
    assert!(
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).is_none(),
        "the load is still going"
    );
    let loaded = tab_keys(&bed.tab("People")).len();
    assert!(loaded < 40_000, "part of the table is in the tab: {loaded}");

    sync.stop().await.expect("a stop mid-load is a clean stop");
    assert!(
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).is_none(),
        "no checkpoint for a tab loaded in part"
    );

    slow_writes(&bed.emulator, 0);
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name", LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    wait_for(LIMIT, "the load's checkpoint", || {
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id)
            .is_some_and(|checkpoint| checkpoint.mappings.contains_key("people"))
    })
    .await;
    sync.stop().await.expect("graceful stop");
}
