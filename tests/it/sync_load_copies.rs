//! A re-snapshot leaves each of the table's keys once in the tab: later copies of a key go with
//! the rows whose keys the table lacks. Copies come from people copying rows, and from a write
//! that landed on rows a person had just moved (the 30-minute convergence run found hundreds
//! after a load batch was applied a moment after a person's row delete and bottom insert);
//! the reload after a purged binlog, or `sheetsync snapshot`, now heals them.

use std::time::Duration;

use serde_json::json;

use crate::sync_grid_shrunk::{finish_reload, start_reload, tab_grid, ten_people_loaded};
use crate::sync_support::{assert_no_key_twice, wait_for_tab_to_equal_table};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_removes_copies_of_a_key() {
    let bed = ten_people_loaded("sync_load_copies").await;
    // Copies of ids 3 and 7 below the data (sheet rows 12 and 13), one stale.
    let (sheet_id, _) = tab_grid(&bed, "People").await;
    let row = |id: i64, name: &str, qty: i64| {
        json!({"values": [
            {"userEnteredValue": {"numberValue": id}},
            {"userEnteredValue": {"stringValue": name}},
            {"userEnteredValue": {"numberValue": qty}}
        ]})
    };
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [{"updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 11, "columnIndex": 0},
                "rows": [row(3, "name 3", 3), row(7, "stale", 0)],
                "fields": "userEnteredValue"
            }}]}),
        )
        .expect("the copies");
    assert_eq!(bed.tab("People").len(), 13);

    let load = start_reload(&bed);
    finish_reload(load).await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
}
