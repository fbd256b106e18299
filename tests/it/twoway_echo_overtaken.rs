//! A person pastes over a row (the paste is written back from the binlog by design: nobody knows
//! what the person saw, `apply/edit.rs`), then types into one of the pasted cells while the
//! flush carrying the paste is still on its way. The typed value's binlog copy is an echo; it
//! used to be dropped, and the older flush then landed over what the person typed: the sheet
//! kept the pasted value for good while the table held the typed one (found by the convergence
//! run, where a restart's replay did the same). Now an echo of a row with an older change
//! pending or in flight is written after it (`sync/writer/overtaken.rs`).

use std::time::Duration;

use serde_json::json;
use sheets_emulator::person::{Edit, WebhookTarget};

use crate::sync_support::{
    assert_no_key_twice, slow_writes, wait_for_tab_to_equal_table, wait_past_the_load_allowance,
};
use crate::twoway_echo::{people_service, SECRET};

const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_cell_is_not_overwritten_by_an_older_flush_of_the_same_row() {
    let (bed, service) =
        people_service("twoway_echo_overtaken", &["ada", "grace", "linus"], "").await;
    wait_past_the_load_allowance().await;
    let person = bed.emulator.state.person();
    person
        .configure_webhook(WebhookTarget::new(
            &format!("http://127.0.0.1:{}/webhook", service.port),
            SECRET,
        ))
        .expect("webhook target");
    let control = &bed.emulator.state.control;
    // Writes take 3 s to apply: the paste's flush is on its way while the person types.
    slow_writes(&bed.emulator, 3_000);
    let paste = Edit {
        spreadsheet_id: bed.spreadsheet_id.clone(),
        sheet: "People".into(),
        row: Some(2),
        column: Some(2),
        values: Some(vec![vec![json!("pasted"), json!(0)]]),
        ..Edit::default()
    };
    let pasted = person.edit(&paste).await.expect("paste");
    assert!(
        pasted
            .deliveries
            .iter()
            .all(|delivery| delivery.status == 200),
        "{:?}",
        pasted.deliveries
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let typed = person
        .edit(&Edit::cell(&bed.spreadsheet_id, "People", "C2", json!(723)))
        .await
        .expect("typed");
    assert!(
        typed
            .deliveries
            .iter()
            .all(|delivery| delivery.status == 200),
        "{:?}",
        typed.deliveries
    );
    slow_writes(&bed.emulator, 0);
    // The paste's flush lands (after the typed value), then whatever follows it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !control
        .requests(None)
        .iter()
        .any(|entry| entry.status == 200 && entry.body.contains("\"pasted\""))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the paste's flush never landed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, Duration::from_secs(30)).await;
    // And it stays so: nothing older is left to land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tab = bed.tab("People");
    assert_eq!(tab[1][2], "723", "the typed value stays: {tab:?}");
    assert_no_key_twice(&tab);
}
