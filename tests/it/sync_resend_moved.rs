//! A flush fails (503) and, while the writer waits to send it again, a person deletes a row and
//! adds one at the bottom; the `onChange` report reaches the webhook side (here: the notifier
//! marked directly). The grid keeps its size, so the grid guard cannot tell, and the writer used
//! to send the same positions again: each change landed on the row below its key's. Now
//! `send_flush` asks before every resend whether people moved rows, and if so gives the error
//! back; the writer restarts from its checkpoint, re-reads the tab and plans again.

use std::time::Duration;

use sheets_emulator::control::{FaultSpec, FaultStage};
use sheetsync::sync::pipeline::{Extensions, RunOptions};
use sheetsync::sync::StructureNotifier;

use crate::sync_grid_shrunk::{tab_grid, ten_people};
use crate::sync_load_ambiguous::{
    assert_notes_follow_keys, move_rows_unreported, wait_for_status, wait_for_synced_columns,
    write_notes,
};
use crate::sync_support::{assert_no_key_twice, execute, wait_for_tab_to_equal_table, RunningSync};

const LIMIT: Duration = Duration::from_secs(30);
const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_is_not_resent_onto_rows_people_moved() {
    let bed = ten_people("sync_resend_moved").await;
    let notifier = StructureNotifier::default();
    let sync = RunningSync::start_with(
        bed.config(&[("people", "People")]),
        RunOptions::default(),
        Extensions {
            notifier: notifier.clone(),
            ..Extensions::default()
        },
    );
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    let (sheet_id, _) = tab_grid(&bed, "People").await;
    write_notes(&bed, sheet_id);

    let control = &bed.emulator.state.control;
    control
        .add_fault(FaultSpec::next_writes(1, 503, FaultStage::Before))
        .expect("fault");
    let since = control.last_seq();
    execute(&bed.database.url, &["UPDATE people SET qty = qty + 100"]).await;
    wait_for_status(&bed, since, 503).await;
    move_rows_unreported(&bed, sheet_id);
    notifier.mark_stale("people");

    wait_for_synced_columns(&bed).await;
    let tab = bed.tab("People");
    assert_no_key_twice(&tab);
    assert_notes_follow_keys(&tab);
    sync.stop().await.expect("a clean stop");
}
