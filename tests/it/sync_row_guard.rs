//! A person moves rows and the grid does not get shorter, so the grid guard cannot tell: they
//! delete a row and add one at the bottom, or insert a blank row in the middle. The writer has
//! not heard of it (the `onChange` report is on its way, queued, or the script is not
//! installed). A flush planned against the old rows would write each change one row off —
//! onto another key's row — and delete the wrong row. The row guard (`sync/plan/row_guard.rs`)
//! refuses such a flush whole: a marker on the last grid row moved, so re-creating it where the
//! writer believes it is fails. The writer re-reads the tab and writes where the keys are now.
//! (Found by the convergence suite with people's adds and deletes at once: keys written twice.)

use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use sheetsync::sync::plan::row_guard::{row_guard_id, ROW_GUARD_KEY};

use crate::sheets_support::client;
use crate::sync_grid_shrunk::{tab_grid, ten_people};
use crate::sync_support::{
    assert_no_key_twice, execute, tab_columns, table_rows, wait_for, wait_for_initial_load,
    RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test]
async fn a_row_deleted_and_one_added_at_the_bottom_does_not_shift_the_next_flush() {
    let bed = ten_people("sync_row_guard_delete").await;
    let sync = start_loaded(&bed).await;
    let (sheet_id, grid_rows) = tab_grid(&bed, "People").await;
    assert_eq!(
        marker_row(&bed, sheet_id).await,
        Some(grid_rows - 1),
        "the load leaves the marker on the last grid row"
    );

    // Sheet row 3 (id 2) goes, a blank row comes at the bottom: the grid keeps its size.
    person_changes_rows(
        &bed,
        json!([
            {"deleteDimension": {"range": rows(sheet_id, 2, 3)}},
            {"insertDimension": {"range": rows(sheet_id, grid_rows - 1, grid_rows), "inheritFromBefore": true}},
        ]),
    );
    assert_eq!(
        tab_grid(&bed, "People").await.1,
        grid_rows,
        "same grid size"
    );

    change_rows_below(&bed).await;
    wait_for_keys_in_place(&bed, "2").await;
    // The flush deleted id 9's row: the grid is one row shorter.
    let (_, grid_rows) = tab_grid(&bed, "People").await;
    assert_eq!(
        marker_row(&bed, sheet_id).await,
        Some(grid_rows - 1),
        "placed again on the last grid row"
    );
    sync.stop().await.expect("a clean stop");
}

#[tokio::test]
async fn a_blank_row_inserted_in_the_middle_does_not_shift_the_next_flush() {
    let bed = ten_people("sync_row_guard_insert").await;
    let sync = start_loaded(&bed).await;
    let (sheet_id, _) = tab_grid(&bed, "People").await;

    // A blank row before sheet row 4 (id 3): every row from id 3 down moves one lower.
    person_changes_rows(
        &bed,
        json!([{"insertDimension": {"range": rows(sheet_id, 3, 4), "inheritFromBefore": true}}]),
    );

    change_rows_below(&bed).await;
    wait_for_keys_in_place(&bed, "none").await;
    let tab = bed.tab("People");
    assert!(
        tab.get(3)
            .is_none_or(|row| row.iter().all(String::is_empty)),
        "the person's blank row stays blank: {tab:?}"
    );
    sync.stop().await.expect("a clean stop");
}

/// `people` → tab `People` started, once the initial load wrote the table and its checkpoint.
pub async fn start_loaded(bed: &SyncBed) -> RunningSync {
    let sync = RunningSync::start(bed.config(&[("people", "People")]));
    let table = format!("{}.people", bed.database.name);
    let expected = sorted(&table_rows(&bed.database.url, &table, COLUMNS).await);
    wait_for(LIMIT, "the initial load", || {
        tab_columns(&bed.tab("People"), &["id", "name", "qty"]) == expected
    })
    .await;
    wait_for_initial_load(bed).await;
    sync
}

fn rows(sheet_id: i64, start: u32, end: u32) -> Value {
    json!({"sheetId": sheet_id, "dimension": "ROWS", "startIndex": start, "endIndex": end})
}

/// Straight in the emulator's store: no `onChange` report follows.
fn person_changes_rows(bed: &SyncBed, requests: Value) {
    bed.emulator
        .state
        .store
        .batch_update(&bed.spreadsheet_id, &json!({ "requests": requests }))
        .expect("the person's change");
}

/// Changes to rows below the person's: an update and a delete.
async fn change_rows_below(bed: &SyncBed) {
    execute(
        &bed.database.url,
        &[
            "UPDATE people SET name = 'changed' WHERE id = 7",
            "DELETE FROM people WHERE id = 9",
        ],
    )
    .await;
}

/// Waits until the tab holds the table's rows (but `removed`, which the person deleted and no
/// report told the table about), each key once.
pub async fn wait_for_keys_in_place(bed: &SyncBed, removed: &str) {
    let table = format!("{}.people", bed.database.name);
    let mut expected = table_rows(&bed.database.url, &table, COLUMNS).await;
    expected.retain(|row| row[0] != removed);
    let expected = sorted(&expected);
    let deadline = std::time::Instant::now() + LIMIT;
    while tab_columns(&bed.tab("People"), &["id", "name", "qty"]) != expected {
        assert!(
            std::time::Instant::now() < deadline,
            "the changes did not land on their keys' rows: {:?}\nexpected {expected:?}",
            bed.tab("People")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_no_key_twice(&bed.tab("People"));
}

/// The grid row of the tab's row guard marker, read through the API.
async fn marker_row(bed: &SyncBed, sheet_id: i64) -> Option<u32> {
    let matched = client(&bed.emulator)
        .await
        .search_developer_metadata(
            &bed.spreadsheet_id,
            ROW_GUARD_KEY,
            &CancellationToken::new(),
        )
        .await
        .expect("search");
    let markers: Vec<_> = matched
        .into_iter()
        .map(|matched| matched.developer_metadata)
        .filter(|metadata| metadata.metadata_id == Some(row_guard_id(sheet_id)))
        .collect();
    assert!(markers.len() <= 1, "one marker per tab: {markers:?}");
    markers
        .first()
        .and_then(|metadata| metadata.location.as_ref())
        .and_then(|location| location.dimension_range.as_ref())
        .map(|range| range.start_index.unwrap_or(0))
}

fn sorted(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}
