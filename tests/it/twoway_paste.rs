//! A paste (Google gives no old values for it) racing the stream, as the convergence harness
//! found it: the database's change to the pasted cell reaches the sheet after the paste and
//! overwrites it, then the paste's delivery arrives. Both sides must end holding one value:
//! - the paste is later than the database's commit: it wins, and its binlog copy is written
//!   back over the older value the writer put in the sheet (not suppressed as an echo);
//! - the database's commit is later than the paste: the person cannot have seen it, so it is a
//!   conflict (recorded), which last-write-wins gives to the database.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::json;
use sheets_emulator::control::LatencySettings;

use crate::sync_support::{execute, table_rows, SyncBed};
use crate::twoway_echo::{now_iso, post, TwoWayService};

fn paste(bed: &SyncBed, delivery: &str, name: &str, edited_at: &str) -> serde_json::Value {
    json!({
        "version": 1, "delivery_id": delivery, "kind": "edit",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": edited_at,
        "header": ["id", "name", "qty"],
        "rows": [{"row": 2, "key": {"id": 1}, "values": {"name": name, "qty": 5}}]
    })
}

async fn wait_both(bed: &SyncBed, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let table = table_rows(&bed.database.url, "people", "id, name").await;
        let sheet = bed.tab("People");
        let shown = sheet.get(1).and_then(|row| row.get(1)).cloned();
        if table[0][1] == name && shown.as_deref() == Some(name) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "both sides must hold {name:?}: table {table:?}, sheet {sheet:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn type_in_sheet(bed: &SyncBed, name: &str) {
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!B2:C2",
            vec![vec![json!(name), json!(5)]],
            false,
        )
        .expect("the person's paste");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_overwritten_by_the_stream_still_converges() {
    let bed = SyncBed::start(
        "twoway_paste",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let service = TwoWayService::start(&bed);
    let port = service.port;
    wait_both(&bed, "ada").await;
    let control = &bed.emulator.state.control;

    // 1. The paste is later than the commit, but the writer's copy of the commit lands later
    //    still (its write is slow) and overwrites the paste in the sheet.
    control.set_latency(LatencySettings {
        write_ms: Some(2_500),
        ..LatencySettings::default()
    });
    execute(
        &bed.database.url,
        &["UPDATE people SET name = 'changed in the database' WHERE id = 1"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // the paste is in a later second
    let pasted_at = now_iso();
    type_in_sheet(&bed, "pasted later");
    wait_both_sheet(&bed, "changed in the database").await;
    control.set_latency(LatencySettings::default());
    let (status, body) = post(port, &paste(&bed, "paste-1", "pasted later", &pasted_at)).await;
    assert_eq!(status, 200, "{body}");
    wait_both(&bed, "pasted later").await;

    // 2. The paste is older than the commit that overwrote it: a conflict the database wins.
    let pasted_at = now_iso();
    type_in_sheet(&bed, "pasted earlier");
    tokio::time::sleep(Duration::from_millis(1100)).await; // the commit is in a later second
    execute(
        &bed.database.url,
        &["UPDATE people SET name = 'committed later' WHERE id = 1"],
    )
    .await;
    wait_both_sheet(&bed, "committed later").await;
    let (status, body) = post(port, &paste(&bed, "paste-2", "pasted earlier", &pasted_at)).await;
    assert_eq!(status, 200, "{body}");
    wait_both(&bed, "committed later").await;
    let mut connection = mysql_async::Conn::from_url(&bed.mysql_url)
        .await
        .expect("connect");
    let recorded: Option<String> = connection
        .query_first("SELECT winner FROM sheetsync.conflicts WHERE sheet_value LIKE '%pasted earlier%' AND table_name LIKE 'twoway_paste%'")
        .await
        .expect("conflicts");
    assert_eq!(recorded.as_deref(), Some("database"));
    let _ = service.stop().await;
}

/// Waits until the sheet shows `name` in the first data row.
async fn wait_both_sheet(bed: &SyncBed, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let sheet = bed.tab("People");
        if sheet.get(1).and_then(|row| row.get(1)).map(String::as_str) == Some(name) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sheet never showed {name:?}: {sheet:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
