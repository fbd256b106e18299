//! One cell typed into the sheet reaches the table through the signed router: compare-and-set
//! on the old value, the echo marker names the cell, an unchanged value writes nothing, and a
//! delivery retried after a restart is answered from `sheetsync.deliveries`, not applied twice.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::ExtendedValue;
use sheetsync::sync::RowKey;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

const HEADER: &[&str] = &["id", "customer", "total"];

#[tokio::test]
async fn a_single_edit_is_applied_once_and_marked() {
    let server = MariaDb::shared();
    let mut bed = ApplyBed::start(
        server,
        "apply_single",
        &[
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(50), total DECIMAL(10,2))",
            "INSERT INTO orders VALUES (1, 'ann', 10.00), (2, 'bob', 20.00)",
        ],
        |database| vec![mapping(database, "orders", "Orders", ConflictPolicy::LastWriteWins)],
    )
    .await;
    let id = delivery("single");
    let message = edit(
        &id,
        "Orders",
        HEADER,
        json!([{ "row": 2, "key": {"id": 1}, "values": {"total": 12.5}, "old_values": {"total": "10"} }]),
    );
    let (status, answer) = bed.send(&message).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"results": [{"row": 2, "status": "applied"}]})
    );
    assert_eq!(
        bed.rows("SELECT id, customer, total FROM orders ORDER BY id")
            .await,
        [
            [Some("1".into()), Some("ann".into()), Some("12.50".into())],
            [Some("2".into()), Some("bob".into()), Some("20.00".into())],
        ]
    );
    let marker = bed
        .rows(&format!(
            "SELECT delivery_id, cells FROM sheetsync.echo_marker WHERE origin = '{}'",
            bed.origin
        ))
        .await;
    assert_eq!(marker.len(), 1);
    assert_eq!(marker[0][0].as_deref(), Some(id.as_str()));
    let cells: serde_json::Value =
        serde_json::from_str(marker[0][1].as_deref().unwrap_or_default()).expect("marker JSON");
    assert_eq!(
        cells["rows"][0]["t"],
        json!(format!("{}.orders", bed.database))
    );
    assert_eq!(cells["rows"][0]["k"], json!([["id", "1"]]));
    assert_eq!(cells["rows"][0]["op"], json!("u"));
    assert!(cells["rows"][0]["c"]["total"].is_string(), "{cells}");
    assert!(bed.take_write_backs(0).await.is_empty());

    // The same value again changes nothing.
    let again = edit(
        &delivery("single-same"),
        "Orders",
        HEADER,
        json!([{ "row": 2, "key": {"id": 1}, "values": {"total": 12.5}, "old_values": {"total": "12.5"} }]),
    );
    let (status, answer) = bed.send(&again).await;
    assert_eq!(
        (status, answer),
        (200, json!({"results": [{"row": 2, "status": "unchanged"}]}))
    );

    // A key cell changed in the sheet is refused and set back; no row 99 appears.
    let key_edit = edit(
        &delivery("single-key"),
        "Orders",
        HEADER,
        json!([{ "row": 3, "key": {"id": 99}, "values": {"id": 99}, "old_values": {"id": "2"} }]),
    );
    let (status, answer) = bed.send(&key_edit).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"][0]["status"],
        json!("rejected"),
        "{answer}"
    );
    assert_eq!(
        bed.rows("SELECT COUNT(*) FROM orders WHERE id = 99").await,
        [[Some("0".into())]]
    );
    let write_backs = bed.take_write_backs(1).await;
    assert_eq!(write_backs.len(), 1);
    assert_eq!(
        write_backs[0].key,
        RowKey(vec!["99".into()]),
        "found where the sheet shows it"
    );
    assert_eq!(write_backs[0].cells[0].0.as_ref(), "id");
    assert_eq!(
        write_backs[0].cells[0].1.user_entered_value,
        Some(ExtendedValue::NumberValue(2.0))
    );
    assert!(
        bed.structure.take_stale("orders"),
        "the writer re-reads the key column"
    );

    // After a restart (new apply, empty replay memory) the first delivery is answered from the
    // database, even though the row changed since: it is not applied a second time.
    bed.execute("UPDATE orders SET total = 99 WHERE id = 1")
        .await;
    let restarted =
        ApplyBed::serve(bed.database.clone(), bed.pool.clone(), bed.mappings.clone()).await;
    let (status, replayed) = restarted.send(&message).await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(
        replayed,
        json!({"results": [{"row": 2, "status": "applied"}]})
    );
    assert_eq!(
        bed.rows("SELECT total FROM orders WHERE id = 1").await,
        [[Some("99.00".into())]]
    );
    let stored = bed
        .rows(&format!(
            "SELECT COUNT(*) FROM sheetsync.deliveries WHERE delivery_id = '{id}'"
        ))
        .await;
    assert_eq!(stored, [[Some("1".into())]]);

    // A column added to the table after the start is editable at once (types read again).
    bed.execute("ALTER TABLE orders ADD COLUMN note VARCHAR(20)")
        .await;
    let note = edit(
        &delivery("single-note"),
        "Orders",
        &["id", "customer", "total", "note"],
        json!([{ "row": 3, "key": {"id": 2}, "values": {"note": "new column"} }]),
    );
    let (status, answer) = restarted.send(&note).await;
    assert_eq!(
        (status, answer),
        (200, json!({"results": [{"row": 3, "status": "applied"}]}))
    );
    assert_eq!(
        bed.rows("SELECT note FROM orders WHERE id = 2").await,
        [[Some("new column".into())]]
    );
}
