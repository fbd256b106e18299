//! A 20×5 paste (no old values, as Google gives none for pastes) is one message, one
//! transaction and one echo marker listing all 20 rows (and none of their columns: the
//! paste's binlog copy goes back to the sheet).

use serde_json::{json, Value};
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

#[tokio::test]
async fn a_twenty_by_five_paste_lands_in_one_transaction() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_paste",
        &[
            "CREATE TABLE grid (id INT PRIMARY KEY, a INT, b VARCHAR(20), c DECIMAL(8,2), d DATE, e DOUBLE)",
            "INSERT INTO grid (id) SELECT seq FROM seq_1_to_20",
            "CREATE TABLE codes (code VARCHAR(10) PRIMARY KEY, n INT) COLLATE utf8mb4_general_ci",
            "INSERT INTO codes VALUES ('ABC', 0), ('DEF', 0)",
        ],
        |database| {
            vec![
                mapping(database, "grid", "Grid", ConflictPolicy::LastWriteWins),
                mapping(database, "codes", "Codes", ConflictPolicy::LastWriteWins),
            ]
        },
    )
    .await;
    let rows: Vec<Value> = (1..=20)
        .map(|id| {
            json!({ "row": id + 1, "key": {"id": id}, "values": {
                "a": id * 10, "b": format!("row {id}"), "c": f64::from(id) + 0.25,
                "d": 46023 + id, "e": f64::from(id) / 8.0 } })
        })
        .collect();
    let (status, answer) = bed
        .send(&edit(
            &delivery("paste"),
            "Grid",
            &["id", "a", "b", "c", "d", "e"],
            Value::Array(rows),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 20);
    assert!(
        results
            .iter()
            .all(|result| result["status"] == json!("applied")),
        "{answer}"
    );
    let stored = bed
        .rows("SELECT id, a, b, c, d, e FROM grid WHERE id IN (1, 20) ORDER BY id")
        .await;
    assert_eq!(
        stored,
        [
            ["1", "10", "row 1", "1.25", "2026-01-02", "0.125"].map(|text| Some(text.to_string())),
            ["20", "200", "row 20", "20.25", "2026-01-21", "2.5"]
                .map(|text| Some(text.to_string())),
        ]
    );
    let marker = bed
        .rows(&format!(
            "SELECT cells FROM sheetsync.echo_marker WHERE origin = '{}'",
            bed.origin
        ))
        .await;
    assert_eq!(marker.len(), 1, "one transaction, one marker row");
    let cells: Value =
        serde_json::from_str(marker[0][0].as_deref().unwrap_or_default()).expect("JSON");
    assert_eq!(cells["rows"].as_array().map(Vec::len), Some(20));
    // No column is marked: a paste carries no old values, so the stream writes its binlog copy
    // back over whatever older value the writer may have put in the sheet since (twoway_paste).
    assert_eq!(
        cells["rows"][0]["c"]
            .as_object()
            .map(|columns| columns.len()),
        Some(0)
    );

    // Keys the sheet spells differently from a case-insensitive table still find their rows.
    let (status, answer) = bed
        .send(&edit(
            &delivery("paste-ci"),
            "Codes",
            &["code", "n"],
            json!([
                { "row": 2, "key": {"code": "abc"}, "values": {"n": 1} },
                { "row": 3, "key": {"code": "DEF"}, "values": {"n": 2} },
            ]),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        bed.rows("SELECT code, n FROM codes ORDER BY code").await,
        [
            [Some("ABC".into()), Some("1".into())],
            [Some("DEF".into()), Some("2".into())]
        ]
    );
    // The marker names the key as the database stores it (what the binlog shows).
    let marker = bed
        .rows(&format!(
            "SELECT cells FROM sheetsync.echo_marker WHERE origin = '{}' AND cells LIKE '%codes%'",
            bed.origin
        ))
        .await;
    let cells = marker[0][0].as_deref().unwrap_or_default();
    assert!(cells.contains("[[\"code\",\"ABC\"]]"), "{cells}");
}
