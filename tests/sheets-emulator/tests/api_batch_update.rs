//! `spreadsheets.batchUpdate` over HTTP: each request kind, replies, errors, atomicity.

mod common;

use common::{invalid, start};
use serde_json::json;

#[tokio::test]
async fn add_update_and_delete_sheets() {
    let emulator = start().await;
    let id = emulator
        .create(json!({"properties": {"title": "Book"}}))
        .await;
    let (status, response) = emulator
        .batch_update(&id, json!([
            {"addSheet": {"properties": {"title": "Orders", "gridProperties": {"rowCount": 10, "columnCount": 3}}}},
            {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "Renamed", "gridProperties": {"frozenRowCount": 1}}, "fields": "title,gridProperties.frozenRowCount"}},
        ]))
        .await;
    assert_eq!(status, 200, "{response}");
    let properties = &response["replies"][0]["addSheet"]["properties"];
    assert_eq!(properties["title"], "Orders");
    assert_eq!(properties["index"], 1);
    assert_eq!(
        properties["gridProperties"],
        json!({"rowCount": 10, "columnCount": 3})
    );
    assert_eq!(response["replies"][1], json!({}));
    let orders_id = properties["sheetId"].as_i64().expect("sheetId");
    let (_, got) = emulator
        .get(&format!(
            "/v4/spreadsheets/{id}?fields=sheets.properties(sheetId,title,gridProperties)"
        ))
        .await;
    assert_eq!(
        got,
        json!({"sheets": [
            {"properties": {"sheetId": 0, "title": "Renamed", "gridProperties": {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1}}},
            {"properties": {"sheetId": orders_id, "title": "Orders", "gridProperties": {"rowCount": 10, "columnCount": 3}}},
        ]})
    );
    let (status, body) = emulator
        .batch_update(
            &id,
            json!([{"addSheet": {"properties": {"title": "Orders"}}}]),
        )
        .await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].addSheet: A sheet with the name \"Orders\" already exists. Please enter another name.")));
    let (status, _) = emulator
        .batch_update(&id, json!([{"deleteSheet": {"sheetId": orders_id}}]))
        .await;
    assert_eq!(status, 200);
    let (status, body) = emulator
        .batch_update(&id, json!([{"deleteSheet": {"sheetId": 0}}]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(
                "Invalid requests[0].deleteSheet: You can't remove all the sheets in a document."
            )
        )
    );
    let (status, body) = emulator
        .batch_update(&id, json!([{"deleteSheet": {"sheetId": 999}}]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Invalid requests[0].deleteSheet: No sheet with id: 999")
        )
    );
}

#[tokio::test]
async fn update_cells_writes_typed_values_notes_and_formats() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, response) = emulator
        .batch_update(&id, json!([{"updateCells": {
            "start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 1},
            "fields": "userEnteredValue,note,userEnteredFormat.numberFormat",
            "rows": [{"values": [
                {"userEnteredValue": {"stringValue": "=not a formula"}, "note": "why"},
                {"userEnteredValue": {"numberValue": 45322}, "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}},
                {"userEnteredValue": {"boolValue": false}},
                {"userEnteredValue": {"formulaValue": "=B2"}},
            ]}],
        }}]))
        .await;
    assert_eq!(
        (status, &response["replies"]),
        (200, &json!([{}])),
        "{response}"
    );
    let (_, values) = emulator.read(&id, "Sheet1!B2:E2", "").await;
    assert_eq!(
        values["values"],
        json!([["=not a formula", "2024-01-31", "FALSE", "=B2"]])
    );
    assert_eq!(
        emulator
            .state
            .store
            .cell_note(&id, "Sheet1", 1, 1)
            .as_deref(),
        Some("why")
    );
    let date_cell = emulator
        .state
        .store
        .cell_data(&id, "Sheet1", 1, 2)
        .expect("cell");
    assert_eq!(
        date_cell["userEnteredFormat"]["numberFormat"]["type"],
        "DATE"
    );
    assert_eq!(
        emulator.state.store.cell_data(&id, "Sheet1", 50, 20),
        Some(json!({}))
    );
    let (_, grid) = emulator
        .get(&format!(
            "/v4/spreadsheets/{id}?includeGridData=true&ranges=Sheet1!B2:C2"
        ))
        .await;
    let data = &grid["sheets"][0]["data"][0];
    assert_eq!(
        (data["startRow"].clone(), data["startColumn"].clone()),
        (json!(1), json!(1))
    );
    let cells = &data["rowData"][0]["values"];
    assert_eq!(
        cells[0]["userEnteredValue"],
        json!({"stringValue": "=not a formula"})
    );
    assert_eq!(cells[0]["note"], "why");
    assert_eq!(cells[1]["effectiveValue"], json!({"numberValue": 45322}));
    assert_eq!(cells[1]["formattedValue"], "2024-01-31");
    assert_eq!(
        cells[1]["userEnteredFormat"]["numberFormat"]["type"],
        "DATE"
    );

    // With a range, cells the rows do not cover lose the masked fields.
    let (status, _) = emulator
        .batch_update(&id, json!([{"updateCells": {
            "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 1, "endColumnIndex": 5},
            "fields": "userEnteredValue",
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "only"}}]}],
        }}]))
        .await;
    assert_eq!(status, 200);
    let (_, values) = emulator.read(&id, "Sheet1!B2:E2", "").await;
    assert_eq!(values["values"], json!([["only"]]));
    assert_eq!(
        emulator
            .state
            .store
            .cell_note(&id, "Sheet1", 1, 1)
            .as_deref(),
        Some("why")
    );

    let (status, body) = emulator
        .batch_update(
            &id,
            json!([{"updateCells": {"start": {"sheetId": 0}, "rows": []}}]),
        )
        .await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].updateCells: At least one field must be listed in 'fields'. (Use '*' to indicate all fields.)")));
    let (status, body) = emulator.batch_update(&id, json!([{"updateCells": {"start": {"sheetId": 7}, "fields": "*", "rows": [{"values": [{}]}]}}])).await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Invalid requests[0].updateCells: No grid with id: 7")
        )
    );
    let huge = "x".repeat(50_001);
    let (status, body) = emulator
        .batch_update(&id, json!([{"updateCells": {"start": {"sheetId": 0}, "fields": "userEnteredValue", "rows": [{"values": [{"userEnteredValue": {"stringValue": huge}}]}]}}]))
        .await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].updateCells: Your input contains more than the maximum of 50000 characters in a single cell.")));
    let (status, body) = emulator
        .batch_update(&id, json!([{"updateCells": {"start": {"sheetId": 0, "rowIndex": 999}, "fields": "userEnteredValue", "rows": [{"values": [{}]}, {"values": [{}]}]}}]))
        .await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].updateCells: Range (Sheet1!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26")));
}

#[tokio::test]
async fn dimensions_insert_delete_append() {
    let emulator = start().await;
    let id = emulator.create(json!({"sheets": [{"properties": {"title": "S", "gridProperties": {"rowCount": 4, "columnCount": 2}}}]})).await;
    emulator
        .write(&id, "S!A1", "RAW", json!([["r1"], ["r2"], ["r3"], ["r4"]]))
        .await;
    let (status, response) = emulator
        .batch_update(&id, json!([
            {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 3}, "inheritFromBefore": true}},
            {"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 4, "endIndex": 5}}},
            {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 3}},
            {"insertDimension": {"range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}}},
        ]))
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["replies"], json!([{}, {}, {}, {}]));
    assert_eq!(emulator.state.store.grid_size(&id, "S"), Some((5, 6)));
    let values = emulator.state.store.sheet_values(&id, "S").expect("values");
    assert_eq!(
        values,
        vec![
            vec![json!(""), json!("r1")],
            vec![],
            vec![],
            vec![json!(""), json!("r2")],
            vec![json!(""), json!("r4")]
        ]
    );
    let (status, body) = emulator.batch_update(&id, json!([{"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 4, "endIndex": 6}}}])).await;
    assert_eq!((status, body), (400, invalid("Invalid requests[0].deleteDimension: Cannot delete a row that doesn't exist. Tried to delete row index 5 but there are only 5 rows.")));
    let (status, body) = emulator.batch_update(&id, json!([{"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 5}}}])).await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(
                "Invalid requests[0].deleteDimension: You can't delete all the rows on the sheet."
            )
        )
    );
}

#[tokio::test]
async fn append_cells_adds_after_the_last_row_with_data() {
    let emulator = start().await;
    let id = emulator.create(json!({"sheets": [{"properties": {"gridProperties": {"rowCount": 2, "columnCount": 2}}}]})).await;
    emulator
        .write(&id, "Sheet1!A1", "RAW", json!([["header"]]))
        .await;
    let rows = json!([{"values": [{"userEnteredValue": {"numberValue": 1}}]}, {"values": [{"userEnteredValue": {"numberValue": 2}}]}]);
    let (status, _) = emulator
        .batch_update(
            &id,
            json!([{"appendCells": {"sheetId": 0, "rows": rows, "fields": "userEnteredValue"}}]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        emulator.state.store.sheet_values(&id, "Sheet1"),
        Some(vec![vec![json!("header")], vec![json!(1)], vec![json!(2)]])
    );
    assert_eq!(emulator.state.store.grid_size(&id, "Sheet1"), Some((3, 2)));
}

#[tokio::test]
async fn a_failing_request_applies_nothing() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    emulator
        .write(&id, "Sheet1!A1", "RAW", json!([["before"]]))
        .await;
    let (status, body) = emulator
        .batch_update(&id, json!([
            {"updateCells": {"start": {"sheetId": 0}, "fields": "userEnteredValue", "rows": [{"values": [{"userEnteredValue": {"stringValue": "after"}}]}]}},
            {"addSheet": {"properties": {"title": "New"}}},
            {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 5}}},
            {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "k", "location": {"spreadsheet": true}, "visibility": "DOCUMENT"}}},
            {"deleteDimension": {"range": {"sheetId": 42, "dimension": "ROWS", "startIndex": 0, "endIndex": 1}}},
        ]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Invalid requests[4].deleteDimension: No grid with id: 42")
        )
    );
    let store = &emulator.state.store;
    assert_eq!(
        store.sheet_values(&id, "Sheet1"),
        Some(vec![vec![json!("before")]])
    );
    assert_eq!(store.sheet_titles(&id), Some(vec!["Sheet1".to_string()]));
    assert_eq!(store.grid_size(&id, "Sheet1"), Some((1000, 26)));
    assert_eq!(store.developer_metadata(&id), Some(vec![]));
}

#[tokio::test]
async fn ten_million_cell_limit() {
    let emulator = start().await;
    let id = emulator.create(json!({"sheets": [{"properties": {"gridProperties": {"rowCount": 1_000_000, "columnCount": 10}}}]})).await;
    let limit = "This action would increase the number of cells in the workbook above the limit of 10000000 cells.";
    let (status, body) = emulator
        .batch_update(
            &id,
            json!([{"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 1}}]),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(&format!("Invalid requests[0].appendDimension: {limit}"))
        )
    );
    let (status, body) = emulator.batch_update(&id, json!([{"addSheet": {}}])).await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(&format!("Invalid requests[0].addSheet: {limit}"))
        )
    );
    let (status, body) = emulator
        .batch_update(&id, json!([{"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"columnCount": 11}}, "fields": "gridProperties.columnCount"}}]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(&format!(
                "Invalid requests[0].updateSheetProperties: {limit}"
            ))
        )
    );
    let (status, body) = emulator.post("/v4/spreadsheets", json!({"sheets": [{"properties": {"gridProperties": {"rowCount": 1_000_001, "columnCount": 10}}}]})).await;
    assert_eq!((status, body), (400, invalid(limit)));
    // Shrinking first makes room within the same batch.
    let (status, _) = emulator
        .batch_update(&id, json!([
            {"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 1000}}},
            {"addSheet": {"properties": {"gridProperties": {"rowCount": 1000, "columnCount": 10}}}},
        ]))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_requests_and_spreadsheets() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, body) = emulator
        .batch_update(&id, json!([{"frobnicate": {}}]))
        .await;
    assert_eq!((status, body), (400, invalid("Invalid JSON payload received. Unknown name \"frobnicate\" at 'requests[0]': Cannot find field.")));
    let (status, body) = emulator.batch_update(&id, json!([])).await;
    assert_eq!(
        (status, body),
        (400, invalid("Must specify at least one request."))
    );
    let (status, body) = emulator
        .batch_update("nope", json!([{"addSheet": {}}]))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    let (status, response) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}:batchUpdate"),
            json!({"requests": [{"addSheet": {}}], "includeSpreadsheetInResponse": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        response["updatedSpreadsheet"]["sheets"][1]["properties"]["title"],
        "Sheet2"
    );
}

#[tokio::test]
async fn absurd_indexes_fail_cleanly() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let limit = "This action would increase the number of cells in the workbook above the limit of 10000000 cells.";
    let (status, body) = emulator
        .batch_update(&id, json!([{"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 1_099_511_627_776_i64}}}]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(&format!("Invalid requests[0].insertDimension: {limit}"))
        )
    );
    let (status, body) = emulator
        .batch_update(&id, json!([{"updateCells": {"start": {"sheetId": 0, "rowIndex": 8_589_934_597_i64}, "fields": "*", "rows": [{"values": [{}]}]}}]))
        .await;
    assert_eq!(status, 400, "{body}");
    // A date format on a number far outside the calendar renders without panicking.
    let (status, _) = emulator
        .batch_update(&id, json!([{"updateCells": {"start": {"sheetId": 0}, "fields": "userEnteredValue,userEnteredFormat",
            "rows": [{"values": [{"userEnteredValue": {"numberValue": 1e300}, "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy"}}}]}]}}]))
        .await;
    assert_eq!(status, 200);
    let (status, read) = emulator.read(&id, "Sheet1!A1", "").await;
    assert_eq!((status, read["values"].clone()), (200, json!([["1E+300"]])));
}

/// Google has no hard payload limit (it recommends 2 MB): a 3 MB batch is applied, not refused.
#[tokio::test]
async fn a_batch_above_two_megabytes_is_applied() {
    let emulator = start().await;
    let id = emulator
        .create(json!({"sheets": [{"properties": {"gridProperties": {"rowCount": 30_000, "columnCount": 2}}}]}))
        .await;
    let rows: Vec<serde_json::Value> = (0..30_000)
        .map(
            |row| json!({"values": [{"userEnteredValue": {"stringValue": format!("{row:0>80}")}}]}),
        )
        .collect();
    let body = json!([{"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0}, "fields": "userEnteredValue", "rows": rows}}]);
    assert!(body.to_string().len() > 3_000_000);
    let (status, response) = emulator.batch_update(&id, body).await;
    assert_eq!(status, 200, "{response}");
    let values = emulator
        .state
        .store
        .sheet_values(&id, "Sheet1")
        .expect("values");
    assert_eq!(values.len(), 30_000);
}
