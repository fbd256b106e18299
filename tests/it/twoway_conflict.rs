//! A conflict the sheet wins while the database's own change is still on its way to the sheet:
//! the person typed over a cell the database had just changed. Both sides must end holding the
//! person's value — the database's older value must not be left in the sheet (a divergence the
//! convergence harness found: the winning value came back only as a suppressed echo).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::sync_support::{execute, table_rows, SyncBed};
use crate::twoway_echo::{now_iso, post, TwoWayService};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sheets_winning_value_ends_on_both_sides() {
    let bed = SyncBed::start(
        "twoway_conflict",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let service = TwoWayService::start(&bed);
    let port = service.port;
    let deadline = Instant::now() + Duration::from_secs(30);
    while bed.tab("People").len() < 3 {
        assert!(Instant::now() < deadline, "initial load");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The person types over "ada"; at the same moment the database changes the same cell.
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!B2",
            vec![vec![json!("typed by the person")]],
            false,
        )
        .expect("the person's edit");
    execute(
        &bed.database.url,
        &["UPDATE people SET name = 'changed in the database' WHERE id = 1"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // the edit is later than the commit
    let message = json!({
        "version": 1, "delivery_id": "conflict-1", "kind": "edit",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": now_iso(),
        "header": ["id", "name", "qty"],
        "rows": [{"row": 2, "key": {"id": 1}, "values": {"name": "typed by the person"}, "old_values": {"name": "ada"}}]
    });
    let (status, body) = post(port, &message).await;
    assert_eq!(status, 200, "{body}");

    // last-write-wins: the later edit wins; both sides end with it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let table = table_rows(&bed.database.url, "people", "id, name").await;
        let sheet = bed.tab("People");
        let sheet_name = sheet
            .get(1)
            .and_then(|row| row.get(1))
            .cloned()
            .unwrap_or_default();
        if table[0][1] == "typed by the person" && sheet_name == "typed by the person" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "both sides must hold the winner: table {table:?}, sheet {sheet:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = service.stop().await;
}
