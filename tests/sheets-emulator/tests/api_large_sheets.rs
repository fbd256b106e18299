//! Large sheets stay fast: 100,000 rows × 5 columns written in ~2 MB batches, then batches that
//! touch a few rows, insert and delete rows, and a full read. Guards against per-request costs
//! that grow with the square of the sheet size.

mod common;

use std::time::{Duration, Instant};

use common::start;
use serde_json::{json, Value};

#[tokio::test]
async fn hundred_thousand_rows() {
    let emulator = start().await;
    let id = emulator
        .create(json!({"sheets": [{"properties": {"title": "Big", "gridProperties": {"rowCount": 100_001, "columnCount": 5}}}]}))
        .await;
    let started = Instant::now();
    for chunk in 0..10 {
        let rows: Vec<Value> = (0..10_000)
            .map(|offset| {
                let key = chunk * 10_000 + offset;
                json!([
                    key,
                    format!("customer {key}"),
                    key as f64 * 1.5,
                    key % 2 == 0,
                    "2024-01-31"
                ])
            })
            .collect();
        let body = json!({"valueInputOption": "RAW", "data": [{"range": format!("Big!A{}", chunk * 10_000 + 2), "values": rows}]});
        let (status, response) = emulator
            .post(&format!("/v4/spreadsheets/{id}/values:batchUpdate"), body)
            .await;
        assert_eq!(status, 200, "{response}");
    }
    let bulk_load = started.elapsed();

    let started = Instant::now();
    for round in 0..20 {
        let requests: Vec<Value> = (0..500)
            .map(|index| {
                json!({"updateCells": {
                    "start": {"sheetId": 0, "rowIndex": 1 + (index * 197 + round) % 100_000, "columnIndex": 1},
                    "fields": "userEnteredValue",
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": format!("edited {round}")}}]}],
                }})
            })
            .chain([
                json!({"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}}),
                json!({"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}}),
            ])
            .collect();
        let (status, response) = emulator.batch_update(&id, Value::Array(requests)).await;
        assert_eq!(status, 200, "{response}");
    }
    let small_batches = started.elapsed();

    let started = Instant::now();
    let (status, read) = emulator
        .read(&id, "Big", "valueRenderOption=UNFORMATTED_VALUE")
        .await;
    assert_eq!(status, 200);
    let full_read = started.elapsed();
    let values = read["values"].as_array().expect("values");
    assert_eq!(values.len(), 100_001);
    assert_eq!(values[100_000][0], 99_999);

    eprintln!(
        "bulk load {bulk_load:?}, 20 small batches {small_batches:?}, full read {full_read:?}"
    );
    // Generous bounds for an unoptimised build on a busy machine; quadratic behaviour would blow
    // through them by orders of magnitude.
    assert!(
        small_batches < Duration::from_secs(20),
        "small batches took {small_batches:?}"
    );
    assert!(
        bulk_load < Duration::from_secs(60),
        "bulk load took {bulk_load:?}"
    );
}
