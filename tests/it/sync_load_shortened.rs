//! A person deletes a row while a re-snapshot (`sheetsync snapshot`, or the reload after a
//! purged binlog) rewrites a tab that already holds the rows: every row below moves up while a
//! load batch planned against the old rows is on its way. Load batches write whole rows by
//! position and the final one deletes leftover rows by position, so each now starts with the
//! grid guard; Sheets refuses a batch planned before the delete, and the load reads the tab
//! again and plans the same rows anew (`initial_load.rs`, `after_failure`) instead of
//! failing the whole load. Shown here: the guard refuses the shifted batch, and the load still
//! completes with the tab equal to the table, no key twice. (A full rewrite of every row hides
//! a shift by itself, so without the guard this tab ends right too; the guard is what keeps
//! a partial rewrite or a leftover delete off the wrong rows.)

use std::time::Duration;

use crate::sync_grid_shrunk::{
    delete_rows_unreported, finish_reload, start_reload, tab_grid, ten_people_loaded,
};
use crate::sync_support::{assert_no_key_twice, execute, slow_writes, wait_for_tab_to_equal_table};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_deleted_during_a_reload_leaves_no_key_twice() {
    let bed = ten_people_loaded("sync_load_shortened").await;
    let (sheet_id, grid_rows) = tab_grid(&bed, "People").await;
    // More rows than the grid holds, so the reload also grows the grid: its guard must name the
    // grid as it is before the batch grows it.
    let more = grid_rows + 200;
    execute(
        &bed.database.url,
        &[&format!(
            "INSERT INTO people SELECT seq, CONCAT('name ', seq), seq FROM seq_11_to_{more}"
        )],
    )
    .await;

    // The reload's writes wait 1.5 s in the emulator before they apply; meanwhile the person
    // deletes sheet row 3 (id 2).
    let control = &bed.emulator.state.control;
    slow_writes(&bed.emulator, 1_500);
    let since = control.last_seq();
    let load = start_reload(&bed);
    // Wait until the load's first write is in flight: its reads are logged, the write is still
    // sleeping in the emulator's latency layer.
    let deadline = std::time::Instant::now() + LIMIT;
    while control.requests(Some(since)).len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the load never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    delete_rows_unreported(&bed, sheet_id, 2, 3);
    finish_reload(load).await;
    slow_writes(&bed.emulator, 0);

    // The table still has id 2 (no report told it): the reload writes it back, once.
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    let refused = control
        .requests(Some(since))
        .iter()
        .filter(|entry| entry.status == 400 && entry.body.contains("copyPaste"))
        .count();
    assert!(
        refused >= 1,
        "the shifted load batch was refused by its guard"
    );
}
