//! A load batch's answer is lost after Google applied it (a 503 after the write), and while the
//! load waits to try again a person deletes a row and adds one at the bottom: every row below
//! the deleted one moves up, and the grid keeps its size, so the grid guard cannot tell. The
//! load used to send the same batch again by position, writing each key one row above where
//! its row now was (found by the 30-minute convergence run: a re-snapshot after a purged binlog
//! left 236 keys twice). Now a batch whose answer may hide an applied write is planned again
//! from a fresh read of the tab (`initial_load.rs`, `after_failure`), so keys are written where
//! they are. Shown with a column of the person's own notes: each note must stay on its key's
//! row.

use std::time::Duration;

use serde_json::json;
use sheets_emulator::control::{FaultSpec, FaultStage};

use crate::sync_grid_shrunk::{
    delete_rows_unreported, finish_reload, start_reload, tab_grid, ten_people_loaded,
};
use crate::sync_support::{assert_no_key_twice, execute, sorted_data_rows, table_rows, SyncBed};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_then_moved_rows_keep_every_row_whole() {
    let bed = ten_people_loaded("sync_load_ambiguous").await;
    let (sheet_id, _) = tab_grid(&bed, "People").await;
    write_notes(&bed, sheet_id);
    // Changed while nothing synced, so the reload has cells to write on every row.
    execute(&bed.database.url, &["UPDATE people SET qty = qty + 100"]).await;

    let control = &bed.emulator.state.control;
    control
        .add_fault(FaultSpec::next_writes(1, 503, FaultStage::After))
        .expect("fault");
    let since = control.last_seq();
    let load = start_reload(&bed);
    wait_for_status(&bed, since, 503).await;
    move_rows_unreported(&bed, sheet_id);
    finish_reload(load).await;

    // The table still has id 2 (no report told it): the reload writes it back, once.
    wait_for_synced_columns(&bed).await;
    let tab = bed.tab("People");
    assert_no_key_twice(&tab);
    assert_notes_follow_keys(&tab);
}

/// The person's own column D, `note`, holding `note K` on the row of key K.
pub fn write_notes(bed: &SyncBed, sheet_id: i64) {
    let tab = bed.tab("People");
    let rows: Vec<_> = tab
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let text = if index == 0 {
                "note".to_string()
            } else {
                format!("note {}", row[0])
            };
            json!({"values": [{"userEnteredValue": {"stringValue": text}}]})
        })
        .collect();
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [{"updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 3},
                "rows": rows,
                "fields": "userEnteredValue"
            }}]}),
        )
        .expect("the person's notes");
}

/// Every row with a note holds the key the note names.
pub fn assert_notes_follow_keys(tab: &[Vec<String>]) {
    let mut notes = 0;
    for (index, row) in tab.iter().enumerate().skip(1) {
        let Some(note) = row.get(3).filter(|note| !note.is_empty()) else {
            continue;
        };
        notes += 1;
        assert_eq!(
            note,
            &format!("note {}", row[0]),
            "sheet row {} holds another key's note: {tab:?}",
            index + 1
        );
    }
    assert!(notes >= 8, "the notes are still there: {tab:?}");
}

/// Sheet row 3 (id 2) deleted and one blank row added at the bottom, as a person would, with
/// no structure report: the rows below row 3 move up, the grid keeps its size.
pub fn move_rows_unreported(bed: &SyncBed, sheet_id: i64) {
    delete_rows_unreported(bed, sheet_id, 2, 3);
    bed.emulator
        .state
        .store
        .batch_update(
            &bed.spreadsheet_id,
            &json!({"requests": [{"appendDimension": {
                "sheetId": sheet_id, "dimension": "ROWS", "length": 1
            }}]}),
        )
        .expect("the person's added row");
}

/// Waits until the tab's synced columns (not the person's notes) equal the table.
pub async fn wait_for_synced_columns(bed: &SyncBed) {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let expected = table_rows(&bed.database.url, "people", COLUMNS).await;
        let synced: Vec<Vec<String>> = bed
            .tab("People")
            .into_iter()
            .map(|row| row.into_iter().take(3).collect())
            .collect();
        let actual = sorted_data_rows(&synced);
        if expected == actual {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tab never equalled the table:\n table {expected:?}\n tab {:?}",
            bed.tab("People")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the emulator has answered a call with `status` since request `since`.
pub async fn wait_for_status(bed: &SyncBed, since: u64, status: u16) {
    let control = &bed.emulator.state.control;
    let deadline = std::time::Instant::now() + LIMIT;
    while !control
        .requests(Some(since))
        .iter()
        .any(|entry| entry.status == status)
    {
        assert!(std::time::Instant::now() < deadline, "no {status} answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
