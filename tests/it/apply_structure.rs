//! Rows removed from the sheet become DELETEs (mapping `deletes = true`), in one transaction
//! with the echo marker, but only rows whose keys were seen in the tab before and are gone
//! now: an empty key read, a row never seen in the tab (the writer may not have appended it
//! yet), a row just inserted for the sheet, or a mapping without deletes never delete anything.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, structure, ApplyBed};

#[tokio::test]
async fn removed_rows_are_deleted_only_when_seen_before_and_gone_now() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_structure",
        &[
            "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')",
            "CREATE TABLE kept (id INT PRIMARY KEY)",
            "INSERT INTO kept VALUES (1), (2)",
        ],
        |database| {
            let mut no_deletes = mapping(database, "kept", "Kept", ConflictPolicy::LastWriteWins);
            no_deletes.deletes = false;
            vec![
                mapping(database, "items", "Items", ConflictPolicy::LastWriteWins),
                no_deletes,
            ]
        },
    )
    .await;
    let ids = || bed.rows("SELECT id FROM items ORDER BY id");
    let send = |change: &str, keys: serde_json::Value| {
        structure(&delivery("structure"), "Items", change, &["id"], keys)
    };

    // The first report after start: rows 1–3 are in the tab (row 4 was never appended yet).
    let (status, answer) = bed.send(&send("INSERT_ROW", json!([[1], [2], [3]]))).await;
    assert_eq!((status, answer), (200, json!({"results": []})));
    assert!(
        bed.structure.take_stale("items"),
        "the writer's row index is stale"
    );

    // An empty snapshot (a failed or partial read) deletes nothing.
    let (status, _) = bed.send(&send("REMOVE_ROW", json!([]))).await;
    assert_eq!(status, 200);
    let (status, _) = bed.send(&send("REMOVE_ROW", json!([[null], [null]]))).await;
    assert_eq!(status, 200);
    assert_eq!(ids().await.len(), 4);

    // A new row typed into the sheet (key not written back yet) is not "removed".
    let (_, answer) = bed
        .send(&edit(
            &delivery("new"),
            "Items",
            &["id", "name"],
            json!([{ "row": 5, "key": {"id": null}, "values": {"name": "e"} }]),
        ))
        .await;
    assert_eq!(answer["results"][0]["key"], json!({"id": 5.0}), "{answer}");

    // Row 2 removed: only it goes. Row 4 (never seen in the tab) and row 5 (just inserted,
    // its key cell still empty in the snapshot) stay.
    let (status, _) = bed
        .send(&send("REMOVE_ROW", json!([[1], [3], [null]])))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        ids().await,
        [
            [Some("1".into())],
            [Some("3".into())],
            [Some("4".into())],
            [Some("5".into())]
        ]
    );
    let marker = bed
        .rows(&format!("SELECT cells FROM sheetsync.echo_marker WHERE origin = '{}' ORDER BY written_at DESC LIMIT 1", bed.origin))
        .await;
    let cells: serde_json::Value =
        serde_json::from_str(marker[0][0].as_deref().unwrap_or_default()).expect("JSON");
    assert_eq!(
        cells["rows"],
        json!([{"t": format!("{}.items", bed.database), "k": [["id", "2"]], "op": "d", "c": {}}])
    );

    // A sort (OTHER) never deletes, even with rows missing from its snapshot.
    let (status, _) = bed.send(&send("OTHER", json!([[3], [1]]))).await;
    assert_eq!(status, 200);
    assert_eq!(ids().await.len(), 4);

    // A mapping without deletes keeps its rows.
    let (status, _) = bed
        .send(&structure(
            &delivery("kept"),
            "Kept",
            "INSERT_ROW",
            &["id"],
            json!([[1], [2]]),
        ))
        .await;
    assert_eq!(status, 200);
    let (status, _) = bed
        .send(&structure(
            &delivery("kept"),
            "Kept",
            "REMOVE_ROW",
            &["id"],
            json!([[1]]),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bed.rows("SELECT COUNT(*) FROM kept").await,
        [[Some("2".into())]]
    );
}
