//! A person types a new row in the first empty row while the writer appends a database row to
//! the same row (found by the convergence harness): the writer's whole-row write lands over
//! the person's cells, then the person's delivery inserts their row. The writer must not
//! believe the person's key is on that row (which lost the database row: it was appended a
//! second time later, and the person's row never appeared); the tab ends holding both rows,
//! each once, equal to the table.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::sync_support::{assert_no_key_twice, execute, try_wait_for_tab_to_equal_table};
use crate::twoway_echo::{now_iso, people_service, post};

const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_typed_where_the_writer_appends_ends_in_the_tab_once() {
    let (bed, service) = people_service("twoway_new_row", &["ada", "grace"], "").await;
    let port = service.port;
    let limit = Duration::from_secs(30);

    // The person types into row 4, the first empty one; before their delivery arrives, the
    // database inserts a row, which the writer appends at row 4 too, over the person's cell.
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!B4",
            vec![vec![json!("typed by the person")]],
            false,
        )
        .expect("the person's cell");
    let edited_at = now_iso();
    execute(
        &bed.database.url,
        &["INSERT INTO people (name, qty) VALUES ('from the database', 7)"],
    )
    .await;
    let deadline = Instant::now() + limit;
    while bed
        .tab("People")
        .get(3)
        .and_then(|row| row.first())
        .map(String::as_str)
        != Some("3")
    {
        assert!(
            Instant::now() < deadline,
            "the database row never reached row 4: {:?}",
            bed.tab("People")
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let message = json!({
        "version": 1, "delivery_id": "new-row-1", "kind": "edit",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": edited_at,
        "header": ["id", "name", "qty"],
        "rows": [{"row": 4, "key": {"id": null}, "values": {"name": "typed by the person"},
                  "old_values": {"name": ""}}]
    });
    let (status, body) = post(port, &message).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "inserted", "{body}");

    // Both rows in the tab, once each, and later changes to the database row land on it.
    execute(
        &bed.database.url,
        &["UPDATE people SET qty = 8 WHERE id = 3"],
    )
    .await;
    try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit)
        .await
        .unwrap_or_else(|difference| panic!("{difference}"));
    assert_no_key_twice(&bed.tab("People"));
    let _ = service.stop().await;
}
