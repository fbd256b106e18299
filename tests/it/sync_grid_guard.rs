//! A person deletes a row in the middle of the tab and the writer has not heard of it yet (the
//! `onChange` report is on its way, still queued, or the script is not installed): every row
//! below moved up one. A flush planned against the old rows would write each change one row too
//! low — onto another key's row, or a blank one — and a row delete would remove the wrong row
//! (which the next structure report would then turn into a DELETE in the table). Each flush
//! therefore starts with a guard that Sheets refuses when the grid is shorter than the writer
//! believes (`sync/plan/guard.rs`); the refused flush changed nothing, and the writer re-reads
//! the tab and writes the changes where their keys are now.

use crate::sync_grid_shrunk::{delete_rows_unreported, tab_grid, ten_people};
use crate::sync_row_guard::{start_loaded, wait_for_keys_in_place};
use crate::sync_support::execute;

#[tokio::test]
async fn a_flush_planned_before_a_person_deleted_a_row_above_lands_on_its_keys() {
    let bed = ten_people("sync_grid_guard").await;
    let sync = start_loaded(&bed).await;
    let (sheet_id, _) = tab_grid(&bed, "People").await;

    // The person deletes sheet row 3 (id 2); no structure report follows.
    delete_rows_unreported(&bed, sheet_id, 2, 3);

    // Changes to rows below it: an update and a delete.
    execute(
        &bed.database.url,
        &[
            "UPDATE people SET name = 'changed' WHERE id = 7",
            "DELETE FROM people WHERE id = 9",
        ],
    )
    .await;
    // The tab: every row but id 2 (the person removed it, and no report told the table).
    wait_for_keys_in_place(&bed, "2").await;
    sync.stop().await.expect("a clean stop");
}
