//! A row typed into the sheet without a key becomes one INSERT and the answer carries the new
//! key; the next cells typed into the same row, before the script has written the key, update
//! that row instead of inserting more. A table without AUTO_INCREMENT needs the key typed.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

const HEADER: &[&str] = &["id", "customer", "total"];

#[tokio::test]
async fn a_new_row_is_inserted_once_and_its_key_returned() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_new_row",
        &[
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(50), \
             total DECIMAL(10,2), status VARCHAR(10) NOT NULL DEFAULT 'new') AUTO_INCREMENT = 1042",
            "CREATE TABLE codes (code VARCHAR(10) PRIMARY KEY, label VARCHAR(20))",
        ],
        |database| {
            vec![
                mapping(database, "orders", "Orders", ConflictPolicy::LastWriteWins),
                mapping(database, "codes", "Codes", ConflictPolicy::LastWriteWins),
            ]
        },
    )
    .await;
    let first = edit(
        &delivery("new"),
        "Orders",
        HEADER,
        json!([{ "row": 7, "key": {"id": null}, "values": {"customer": "ann"}, "old_values": {"customer": ""} }]),
    );
    let (status, answer) = bed.send(&first).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"results": [{"row": 7, "status": "inserted", "key": {"id": 1042.0}}]})
    );
    // The echo marker lists the insert and the sheet row it was typed in.
    let marker = bed
        .rows(&format!(
            "SELECT cells FROM sheetsync.echo_marker WHERE origin = '{}'",
            bed.origin
        ))
        .await;
    assert!(
        marker.iter().any(|row| row[0]
            .as_deref()
            .unwrap_or_default()
            .contains("\"op\":\"i\"")
            && row[0].as_deref().unwrap_or_default().contains("\"r\":7")),
        "{marker:?}"
    );
    // The next cell of the same row arrives before the script wrote the key.
    let second = edit(
        &delivery("new"),
        "Orders",
        HEADER,
        json!([{ "row": 7, "key": {"id": null}, "values": {"total": 5}, "old_values": {"total": ""} }]),
    );
    let (status, answer) = bed.send(&second).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"results": [{"row": 7, "status": "inserted", "key": {"id": 1042.0}}]})
    );
    assert_eq!(
        bed.rows("SELECT id, customer, total, status FROM orders")
            .await,
        [[
            Some("1042".into()),
            Some("ann".into()),
            Some("5.00".into()),
            Some("new".into())
        ]]
    );

    // Rows moved in the sheet: row 7 may now be another row, so a keyless row 7 is new again.
    let (status, _) = bed
        .send(&crate::apply_support::structure(
            &delivery("moved"),
            "Orders",
            "INSERT_ROW",
            &["id"],
            json!([[1042]]),
        ))
        .await;
    assert_eq!(status, 200);
    let third = edit(
        &delivery("new"),
        "Orders",
        HEADER,
        json!([{ "row": 7, "key": {"id": null}, "values": {"customer": "bob", "total": "7"} }]),
    );
    let (_, answer) = bed.send(&third).await;
    assert_eq!(
        answer["results"][0]["key"],
        json!({"id": 1043.0}),
        "{answer}"
    );

    // Without AUTO_INCREMENT the key must be typed; typed, it is the new row's key.
    let keyless = edit(
        &delivery("code"),
        "Codes",
        &["code", "label"],
        json!([{ "row": 2, "key": {"code": null}, "values": {"label": "x"} }]),
    );
    let (_, answer) = bed.send(&keyless).await;
    assert_eq!(
        answer["results"][0]["status"],
        json!("rejected"),
        "{answer}"
    );
    assert!(
        answer["results"][0]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("a new row needs its key (code) typed first"),
        "{answer}"
    );
    let keyed = edit(
        &delivery("code"),
        "Codes",
        &["code", "label"],
        json!([{ "row": 2, "key": {"code": "A-1"}, "values": {"code": "A-1", "label": "x"}, "old_values": null }]),
    );
    let (_, answer) = bed.send(&keyed).await;
    assert_eq!(
        answer,
        json!({"results": [{"row": 2, "status": "inserted", "key": {"code": "A-1"}}]})
    );
    assert_eq!(
        bed.rows("SELECT code, label FROM codes").await,
        [[Some("A-1".into()), Some("x".into())]]
    );
}
