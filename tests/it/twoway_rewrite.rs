//! A person's edit that a wholesale rewrite of the tab (here a forced re-snapshot) put the
//! database's older value back over, delivered after that rewrite: the edit is applied to MySQL
//! and its binlog copy is written to the sheet again, not dropped as an echo, so both sides end
//! holding the person's value. (Found by the convergence suite after a purged-binlog re-snapshot.)

use std::time::Duration;

use serde_json::json;
use sheetsync::sync::pipeline::RunOptions;
use tokio_util::sync::CancellationToken;

use crate::sync_support::{table_rows, wait_for, wait_for_tab_to_equal_table, SyncBed};
use crate::twoway_echo::{now_iso, post, two_way_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_a_reload_wrote_over_reaches_both_sides() {
    let bed = SyncBed::start(
        "twoway_rewrite",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            "INSERT INTO people VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let (config, port) = two_way_config(&bed);
    let options = || RunOptions {
        heartbeat: Duration::from_secs(1),
        ..RunOptions::default()
    };
    let limit = Duration::from_secs(30);

    // A first run loads the tab.
    let shutdown = CancellationToken::new();
    let first = tokio::spawn(sheetsync::service::run(
        config.clone(),
        options(),
        shutdown.clone(),
    ));
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty", limit).await;
    shutdown.cancel();
    let stopped = tokio::time::timeout(limit, first).await.expect("stops");
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");

    // The person types over a name; the message is not delivered yet.
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!B2",
            vec![vec![json!("Ada L.")]],
            false,
        )
        .expect("the person's edit");
    let edited_at = now_iso();
    tokio::time::sleep(Duration::from_millis(20)).await;

    // A forced re-snapshot writes the database's value back over it...
    let shutdown = CancellationToken::new();
    let second = tokio::spawn(sheetsync::service::run(
        config,
        RunOptions {
            snapshot: vec!["people".into()],
            ..options()
        },
        shutdown.clone(),
    ));
    wait_for(limit, "the reload to write `ada` back", || {
        bed.tab("People")
            .get(1)
            .and_then(|row| row.get(1))
            .map(String::as_str)
            == Some("ada")
    })
    .await;

    // ...and then the edit arrives, made before the reload finished.
    let message = json!({
        "version": 1, "delivery_id": "late-edit", "kind": "edit",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": edited_at,
        "header": ["id", "name", "qty"],
        "rows": [{"row": 2, "key": {"id": 1}, "values": {"name": "Ada L."}, "old_values": {"name": "ada"}}]
    });
    let mut answer = post(port, &message).await;
    for _ in 0..100 {
        if answer.0 != 503 {
            break;
        }
        // The webhook answers 503 until the apply side is ready; the script retries.
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = post(port, &message).await;
    }
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let rows = table_rows(
        &bed.database.url,
        &format!("{}.people", bed.database.name),
        "id, name",
    )
    .await;
    assert_eq!(rows[0], ["1", "Ada L."]);
    wait_for_tab_to_equal_table(&bed, "People", "people", "id, name, qty", limit).await;
    assert_eq!(bed.tab("People")[1][1], "Ada L.");

    shutdown.cancel();
    let stopped = tokio::time::timeout(limit, second).await.expect("stops");
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}
