//! 20 webhooks for the same new sheet row (same tab, same row, no key yet), sent at once through
//! the real router, make one table row, not 20: they are serialised per sheet row and the first
//! one's key is reused by the others.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

#[tokio::test]
async fn twenty_concurrent_webhooks_for_one_new_row_make_one_row() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_concurrent",
        &[
            "CREATE TABLE items (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, c0 INT, c1 INT, \
           c2 INT, c3 INT, c4 INT, c5 INT, c6 INT, c7 INT, c8 INT, c9 INT, c10 INT, c11 INT, \
           c12 INT, c13 INT, c14 INT, c15 INT, c16 INT, c17 INT, c18 INT, c19 INT)",
        ],
        |database| {
            vec![mapping(
                database,
                "items",
                "Items",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let header: Vec<String> = std::iter::once("id".to_string())
        .chain((0..20).map(|column| format!("c{column}")))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let bed = std::sync::Arc::new(bed);
    let sends: Vec<_> = (0..20).map(|column| {
        let bed = bed.clone();
        let message = edit(
            &delivery("same-row"),
            "Items",
            &header,
            json!([{ "row": 9, "key": {"id": null}, "values": {format!("c{column}"): column}, "old_values": {format!("c{column}"): ""} }]),
        );
        tokio::spawn(async move { bed.send(&message).await })
    }).collect();
    let mut keys = std::collections::BTreeSet::new();
    for send in sends {
        let (status, body) = send.await.expect("task");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["status"], json!("inserted"), "{body}");
        keys.insert(body["results"][0]["key"]["id"].to_string());
    }
    assert_eq!(keys.len(), 1, "every answer carries the same key: {keys:?}");
    let rows = bed.rows("SELECT COUNT(*) FROM items").await;
    assert_eq!(rows, [[Some("1".into())]]);
    // Every cell landed in that one row.
    let sum = bed
        .rows(&format!(
            "SELECT {} FROM items",
            (0..20)
                .map(|column| format!("c{column}"))
                .collect::<Vec<_>>()
                .join(" + ")
        ))
        .await;
    assert_eq!(sum, [[Some((0..20).sum::<i32>().to_string())]]);
}
