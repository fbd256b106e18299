//! A person types a new row while the webhook is down, then deletes a row above it; when the
//! script's queue is delivered, the new row's delivery names the row it was typed in, one
//! below where it is now (found by the convergence harness with adds and deletes together).
//! The writer learns of the insert before the deletion's report and must not write the row by
//! that number: it landed one row off, and with the script's key in the typed row the key was
//! in the tab twice. It must find the key where the script wrote it (`sync/writer/placement.rs`)
//! and write there; the tab then ends equal to the table, every key once, no keyless row.

use std::time::Duration;

use serde_json::{json, Map, Value};
use sheets_emulator::person::{AddRow, RowSpan, WebhookTarget};
use sheetsync::sync::writer::placement::SETTLE;

use crate::sync_support::{
    assert_no_key_twice, try_wait_for_tab_to_equal_table, wait_past_the_load_allowance,
};
use crate::twoway_echo::{now_iso, people_service, post, SECRET};

const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_row_that_moved_before_its_delivery_lands_on_the_row_it_moved_to() {
    let (bed, service) =
        people_service("twoway_new_row_moved", &["ada", "grace", "linus"], "").await;
    let port = service.port;
    let limit = Duration::from_secs(30);
    // The webhook side reads the tab's keys once the load is done (only a key seen in the tab
    // counts as removed from it), and edits right after a reload are written back once.
    wait_past_the_load_allowance().await;

    // The webhook is unreachable: the script queues what the person does. They type a new row
    // (row 5), then delete row 2, so the typed row moves up to row 4.
    let person = bed.emulator.state.person();
    person
        .configure_webhook(WebhookTarget::new("http://127.0.0.1:1/webhook", SECRET))
        .expect("webhook target");
    let mut values = Map::new();
    values.insert("name".into(), json!("typed while offline"));
    let typed = person
        .add_row(&AddRow {
            spreadsheet_id: bed.spreadsheet_id.clone(),
            sheet: "People".into(),
            values,
            row: None,
            user: None,
        })
        .await
        .expect("add row");
    let edit: Value = serde_json::from_str(&typed.deliveries[0].request_body).expect("body");
    assert_eq!(edit["rows"][0]["row"], 5, "{edit}");
    person
        .delete_rows(&RowSpan {
            spreadsheet_id: bed.spreadsheet_id.clone(),
            sheet: "People".into(),
            row: 2,
            count: 1,
            user: None,
        })
        .await
        .expect("delete row");
    assert_eq!(
        bed.tab("People")[3][1],
        "typed while offline",
        "it moved up to row 4"
    );

    // The queue is delivered, the edit first; the writer learns of the insert (named row 5)
    // before the deletion's report arrives. The script's queue is sent by hand here, so the
    // writer surely acts in that gap.
    let (status, answer) = post(port, &edit).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["status"], "inserted", "{answer}");
    // Keys come back as JSON numbers (4.0); the tab shows 4.
    let key = answer["results"][0]["key"]["id"]
        .as_f64()
        .map(|id| id.to_string())
        .expect("a numeric key");
    // The script writes the key where the typed row is now (`relocatedRow_`): row 4. The
    // writer, told of the insert (named row 5), must find it there, not write row 5.
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!A4",
            vec![vec![json!(key)]],
            false,
        )
        .expect("the script's key");
    tokio::time::sleep(SETTLE + Duration::from_secs(1)).await;
    let tab = bed.tab("People");
    let rows_with = |column: usize, text: &str| {
        (0..tab.len())
            .filter(|index| tab[*index].get(column).map(String::as_str) == Some(text))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        (rows_with(0, &key), rows_with(1, "typed while offline")),
        (vec![3], vec![3]),
        "the writer wrote the row where it is now, not one row off: {tab:?}"
    );
    let report = json!({
        "version": 1, "delivery_id": "moved-structure", "kind": "structure",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": null, "change_type": "REMOVE_ROW",
        "changed_at": now_iso(), "key_columns": ["id"], "keys": [[2], [3], [null]]
    });
    let (status, answer) = post(port, &report).await;
    assert_eq!(status, 200, "{answer}");

    try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit)
        .await
        .unwrap_or_else(|difference| panic!("{difference}"));
    let tab = bed.tab("People");
    assert_no_key_twice(&tab);
    assert!(
        tab.iter().skip(1).all(|row| !row[0].is_empty()),
        "no keyless row: {tab:?}"
    );
    let _ = service.stop().await;
}
