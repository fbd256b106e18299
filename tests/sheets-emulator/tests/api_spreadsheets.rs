//! `spreadsheets.create` and `spreadsheets.get` over HTTP.

mod common;

use common::start;
use serde_json::json;

#[tokio::test]
async fn create_defaults_and_explicit_sheets() {
    let emulator = start().await;
    let (status, created) = emulator
        .post(
            "/v4/spreadsheets?alt=json&prettyPrint=false",
            json!({"properties": {"title": "Plain"}}),
        )
        .await;
    assert_eq!(status, 200);
    let id = created["spreadsheetId"].as_str().expect("id");
    assert_eq!(created["properties"]["title"], "Plain");
    assert_eq!(
        created["spreadsheetUrl"],
        format!("https://docs.google.com/spreadsheets/d/{id}/edit")
    );
    assert_eq!(
        created["sheets"],
        json!([{"properties": {"sheetId": 0, "title": "Sheet1", "index": 0, "sheetType": "GRID", "gridProperties": {"rowCount": 1000, "columnCount": 26}}}])
    );
    let (_, created) = emulator
        .post("/v4/spreadsheets", json!({"sheets": [
            {"properties": {"title": "One", "gridProperties": {"rowCount": 5, "columnCount": 2}}},
            {"properties": {"title": "Two", "sheetId": 77}},
        ]}))
        .await;
    assert_eq!(created["properties"]["title"], "Untitled spreadsheet");
    assert_eq!(
        created["sheets"][0]["properties"]["gridProperties"],
        json!({"rowCount": 5, "columnCount": 2})
    );
    assert_eq!(created["sheets"][1]["properties"]["sheetId"], 77);
    assert_eq!(created["sheets"][1]["properties"]["index"], 1);
}

#[tokio::test]
async fn get_with_field_mask_ranges_and_grid_data() {
    let emulator = start().await;
    let id = emulator.create(json!({"properties": {"title": "Book"}, "sheets": [{"properties": {"title": "A"}}, {"properties": {"title": "B"}}]})).await;
    emulator
        .write(
            &id,
            "B!A1",
            "USER_ENTERED",
            json!([["x", "1"], [null, "true"]]),
        )
        .await;
    let (_, masked) = emulator
        .get(&format!(
            "/v4/spreadsheets/{id}?fields=spreadsheetId,properties.title,sheets.properties.title"
        ))
        .await;
    assert_eq!(
        masked,
        json!({"spreadsheetId": id, "properties": {"title": "Book"}, "sheets": [{"properties": {"title": "A"}}, {"properties": {"title": "B"}}]})
    );
    let (_, grid) = emulator.get(&format!("/v4/spreadsheets/{id}?ranges=B!A1:B2&ranges=B!B2&includeGridData=true&fields=sheets(properties.title,data)")).await;
    assert_eq!(
        grid,
        json!({"sheets": [{"properties": {"title": "B"}, "data": [
            {"rowData": [
                {"values": [
                    {"userEnteredValue": {"stringValue": "x"}, "effectiveValue": {"stringValue": "x"}, "formattedValue": "x"},
                    {"userEnteredValue": {"numberValue": 1}, "effectiveValue": {"numberValue": 1}, "formattedValue": "1"},
                ]},
                {"values": [{}, {"userEnteredValue": {"boolValue": true}, "effectiveValue": {"boolValue": true}, "formattedValue": "TRUE"}]},
            ]},
            {"startRow": 1, "startColumn": 1, "rowData": [{"values": [{"userEnteredValue": {"boolValue": true}, "effectiveValue": {"boolValue": true}, "formattedValue": "TRUE"}]}]},
        ]}]})
    );
    let (status, missing) = emulator.get("/v4/spreadsheets/does-not-exist").await;
    assert_eq!(status, 404);
    assert_eq!(
        missing,
        json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})
    );
}
