//! A person deletes the bottom rows of the tab and the `onChange` report never reaches the
//! writer (the script is not installed, or its delivery is still queued): the next flush,
//! planned against the old grid, is refused by Sheets (`exceeds grid limits`). Nothing of it
//! was applied, so the writer restarts from its checkpoint, re-reads the tab and writes the
//! changes where their keys are now — it does not stop. (Found by the convergence suite with
//! the person's row deletes on: sheetsync exited with that 400.)

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use sheetsync::sync::pipeline::{Extensions, RunOptions};

use crate::sheets_support::client;
use crate::sync_support::{
    assert_no_key_twice, execute, wait_for_initial_load, wait_for_tab_to_equal_table, RunningSync,
    SyncBed,
};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test]
async fn a_flush_refused_because_people_shrank_the_grid_is_planned_again() {
    let bed = ten_people("sync_grid_shrunk").await;
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    wait_for_initial_load(&bed).await;
    let (sheet_id, grid_rows) = tab_grid(&bed, "People").await;
    assert!(grid_rows >= 11, "header and ten rows: {grid_rows}");

    // The person deletes sheet rows 6 to the end (ids 5..10 and any blank rows below): the
    // grid ends at row 5. No structure report follows.
    delete_rows_unreported(&bed, sheet_id, 5, grid_rows);
    assert_eq!(bed.tab("People").len(), 5);

    // Changes to rows below the new end of the grid.
    execute(
        &bed.database.url,
        &["UPDATE people SET qty = qty + 100 WHERE id >= 5"],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    let refused = bed
        .emulator
        .state
        .control
        .requests(None)
        .iter()
        .filter(|entry| entry.status == 400)
        .count();
    assert!(refused >= 1, "the stale flush was refused by the emulator");
    sync.stop().await.expect("a clean stop");
}

/// [`ten_people`], loaded into its tab by a pipeline that then stops.
pub async fn ten_people_loaded(name: &str) -> SyncBed {
    let bed = ten_people(name).await;
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    wait_for_initial_load(&bed).await;
    sync.stop().await.expect("a clean stop");
    bed
}

/// `sheetsync snapshot --mapping people` (the tab reloaded, then the pipeline ends), started.
pub fn start_reload(bed: &SyncBed) -> RunningSync {
    RunningSync::start_with(
        bed.config(&[("people", "People")]),
        RunOptions {
            snapshot: vec!["people".into()],
            load_only: true,
            ..RunOptions::default()
        },
        Extensions::default(),
    )
}

/// Waits for a reload [`start_reload`] started; it must succeed.
pub async fn finish_reload(load: RunningSync) {
    tokio::time::timeout(Duration::from_secs(60), load.task)
        .await
        .expect("the reload finishes")
        .expect("task")
        .expect("the reload succeeds");
}

/// A bed whose `people` table holds ids 1 to 10 (`name N`, qty N).
pub async fn ten_people(name: &str) -> SyncBed {
    let rows: Vec<String> = (1..=10)
        .map(|id| format!("({id}, 'name {id}', {id})"))
        .collect();
    let insert = format!("INSERT INTO people VALUES {}", rows.join(","));
    SyncBed::start(
        name,
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            &insert,
        ],
    )
    .await
}

/// The tab's sheet id and grid row count, read through the API.
pub async fn tab_grid(bed: &SyncBed, title: &str) -> (i64, u32) {
    let spreadsheet = client(&bed.emulator)
        .await
        .get_spreadsheet(&bed.spreadsheet_id, None, &CancellationToken::new())
        .await
        .expect("spreadsheet");
    let properties = spreadsheet
        .sheets
        .iter()
        .map(|sheet| &sheet.properties)
        .find(|properties| properties.title.as_deref() == Some(title))
        .expect("the tab");
    let grid_rows = properties
        .grid_properties
        .as_ref()
        .and_then(|grid| grid.row_count)
        .expect("row count");
    (properties.sheet_id.expect("sheet id"), grid_rows)
}

/// A person deletes grid rows `start..end` (0-based) straight in the emulator's store: no
/// `onChange` report follows, so the writer does not know.
pub fn delete_rows_unreported(bed: &SyncBed, sheet_id: i64, start: u32, end: u32) {
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [{"deleteDimension": {
                "range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": start, "endIndex": end}
            }}]}),
        )
        .expect("the person's delete");
}
