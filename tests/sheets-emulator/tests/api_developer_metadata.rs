//! Developer metadata over HTTP: create, search, get, update, delete, and row metadata moving
//! with its row.

mod common;

use common::{invalid, start};
use serde_json::{json, Value};

fn row_location(sheet_id: i64, row: u32) -> Value {
    json!({"dimensionRange": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": row, "endIndex": row + 1}})
}

#[tokio::test]
async fn create_search_get_update_delete() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, response) = emulator
        .batch_update(&id, json!([
            {"createDeveloperMetadata": {"developerMetadata": {"metadataId": 10, "metadataKey": "checkpoint", "metadataValue": "gtid:1", "location": {"spreadsheet": true}, "visibility": "DOCUMENT"}}},
            {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "tab", "location": {"sheetId": 0}, "visibility": "PROJECT"}}},
            {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "row", "metadataValue": "7", "location": row_location(0, 4), "visibility": "DOCUMENT"}}},
        ]))
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        response["replies"][0],
        json!({"createDeveloperMetadata": {"developerMetadata": {"metadataId": 10, "metadataKey": "checkpoint", "metadataValue": "gtid:1",
            "location": {"locationType": "SPREADSHEET", "spreadsheet": true}, "visibility": "DOCUMENT"}}})
    );
    assert!(
        response["replies"][1]["createDeveloperMetadata"]["developerMetadata"]["metadataId"]
            .as_i64()
            .is_some_and(|id| id > 0)
    );
    assert_eq!(
        response["replies"][2]["createDeveloperMetadata"]["developerMetadata"]["location"],
        json!({"locationType": "ROW", "dimensionRange": {"sheetId": 0, "dimension": "ROWS", "startIndex": 4, "endIndex": 5}})
    );

    let search_path = format!("/v4/spreadsheets/{id}/developerMetadata:search");
    let search = |filters: Value| emulator.post(&search_path, json!({"dataFilters": filters}));
    let (_, found) =
        search(json!([{"developerMetadataLookup": {"metadataKey": "checkpoint"}}])).await;
    assert_eq!(
        found["matchedDeveloperMetadata"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        found["matchedDeveloperMetadata"][0]["dataFilters"],
        json!([{"developerMetadataLookup": {"metadataKey": "checkpoint"}}])
    );
    let (_, by_type) = search(json!([{"developerMetadataLookup": {"locationType": "ROW"}}])).await;
    assert_eq!(
        by_type["matchedDeveloperMetadata"][0]["developerMetadata"]["metadataKey"],
        "row"
    );
    let (_, by_range) = search(json!([{"a1Range": "Sheet1!A5:B9"}])).await;
    assert_eq!(
        by_range["matchedDeveloperMetadata"][0]["developerMetadata"]["metadataValue"],
        "7"
    );
    let (_, by_location) = search(json!([{"developerMetadataLookup": {"metadataLocation": {"sheetId": 0}, "locationMatchingStrategy": "INTERSECTING_LOCATION"}}])).await;
    assert_eq!(
        by_location["matchedDeveloperMetadata"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let (_, none) = search(json!([{"developerMetadataLookup": {"metadataKey": "missing"}}])).await;
    assert_eq!(none, json!({}));

    let (_, single) = emulator
        .get(&format!("/v4/spreadsheets/{id}/developerMetadata/10"))
        .await;
    assert_eq!(single["metadataValue"], "gtid:1");
    let (status, _) = emulator
        .get(&format!("/v4/spreadsheets/{id}/developerMetadata/11"))
        .await;
    assert_eq!(status, 404);

    let (status, updated) = emulator
        .batch_update(
            &id,
            json!([{"updateDeveloperMetadata": {
                "dataFilters": [{"developerMetadataLookup": {"metadataId": 10}}],
                "developerMetadata": {"metadataValue": "gtid:2"},
                "fields": "metadataValue",
            }}]),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["replies"][0]["updateDeveloperMetadata"]["developerMetadata"][0]["metadataValue"],
        "gtid:2"
    );
    let (_, single) = emulator
        .get(&format!("/v4/spreadsheets/{id}/developerMetadata/10"))
        .await;
    assert_eq!(single["metadataValue"], "gtid:2");

    let (_, spreadsheet) = emulator
        .get(&format!(
            "/v4/spreadsheets/{id}?fields=developerMetadata,sheets.developerMetadata"
        ))
        .await;
    assert_eq!(
        spreadsheet["developerMetadata"][0]["metadataKey"],
        "checkpoint"
    );
    assert_eq!(
        spreadsheet["sheets"][0]["developerMetadata"][0]["metadataKey"],
        "tab"
    );

    let (status, deleted) = emulator.batch_update(&id, json!([{"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataKey": "tab"}}}}])).await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted["replies"][0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"][0]
            ["metadataKey"],
        "tab"
    );
    assert_eq!(
        emulator
            .state
            .store
            .developer_metadata(&id)
            .map(|all| all.len()),
        Some(2)
    );

    let (status, body) = emulator
        .batch_update(&id, json!([{"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "x", "location": {"dimensionRange": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 3}}}}}]))
        .await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].createDeveloperMetadata: Developer metadata may only be associated with a single row or column.")));
}

#[tokio::test]
async fn row_metadata_moves_with_its_row() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let requests: Vec<Value> = (0..4)
        .map(|row| json!({"createDeveloperMetadata": {"developerMetadata": {"metadataId": 100 + row, "metadataKey": "row", "metadataValue": row.to_string(), "location": row_location(0, row as u32), "visibility": "DOCUMENT"}}}))
        .collect();
    let (status, _) = emulator.batch_update(&id, Value::Array(requests)).await;
    assert_eq!(status, 200);
    let (status, _) = emulator
        .batch_update(&id, json!([
            {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 3}}},
            {"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 3, "endIndex": 4}}},
        ]))
        .await;
    assert_eq!(status, 200);
    // Rows were 0,1,2,3 → insert two at 1 → 0,3,4,5 → delete index 3 (old row 1) → 0,3,4.
    let rows: Vec<(i64, i64)> = emulator
        .state
        .store
        .developer_metadata(&id)
        .unwrap_or_default()
        .iter()
        .map(|metadata| {
            (
                metadata["metadataId"].as_i64().unwrap_or(0),
                metadata["location"]["dimensionRange"]["startIndex"]
                    .as_i64()
                    .unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(rows, vec![(100, 0), (102, 3), (103, 4)]);
    let (status, _) = emulator
        .batch_update(
            &id,
            json!([{"addSheet": {"properties": {"sheetId": 5}}}, {"deleteSheet": {"sheetId": 0}}]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(emulator.state.store.developer_metadata(&id), Some(vec![]));
}
