//! Round trips of the typed model against JSON shaped like the examples in Google's Sheets v4
//! reference and samples (batchUpdate requests, developer metadata, responses): parsing the
//! example and serialising it again gives the same JSON, and absent fields stay absent.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::model::*;
use super::responses::*;

fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(example: Value) -> T {
    let parsed: T = serde_json::from_value(example.clone()).expect("parse example");
    let again = serde_json::to_value(&parsed).expect("serialise");
    assert_eq!(again, example, "round trip of {parsed:?}");
    parsed
}

#[test]
fn update_cells_with_typed_values_and_formats() {
    let example = json!({"updateCells": {
        "rows": [{"values": [
            {"userEnteredValue": {"stringValue": "=1+2"}},
            {"userEnteredValue": {"numberValue": 42.5}},
            {"userEnteredValue": {"boolValue": true}},
            {"userEnteredValue": {"numberValue": 45000.5},
             "userEnteredFormat": {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}}},
            {},
            {"note": "rejected: not a number"}
        ]}],
        "fields": "userEnteredValue,userEnteredFormat.numberFormat,note",
        "start": {"sheetId": 7, "rowIndex": 1, "columnIndex": 0}
    }});
    let request: Request = round_trip(example);
    let Request::UpdateCells(update) = request else {
        panic!("not updateCells");
    };
    assert_eq!(
        update.rows[0].values[0],
        CellData::text("=1+2"),
        "a leading = stays a string value"
    );
}

#[test]
fn cell_constructors_serialise_as_google_expects() {
    let row = RowData {
        values: vec![
            CellData::text("abc"),
            CellData::number(1.0),
            CellData::boolean(false),
            CellData::empty(),
            CellData::number(45000.0).with_number_format(NumberFormat {
                format_type: NumberFormatType::Date,
                pattern: Some("yyyy-mm-dd".into()),
            }),
        ],
    };
    assert_eq!(
        serde_json::to_value(&row).expect("json"),
        json!({"values": [
            {"userEnteredValue": {"stringValue": "abc"}},
            {"userEnteredValue": {"numberValue": 1.0}},
            {"userEnteredValue": {"boolValue": false}},
            {},
            {"userEnteredValue": {"numberValue": 45000.0},
             "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}}
        ]})
    );
}

#[test]
fn update_cells_with_a_range() {
    round_trip::<Request>(json!({"updateCells": {
        "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
        "fields": "userEnteredValue",
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 3}
    }}));
}

#[test]
fn dimension_requests() {
    round_trip::<Request>(
        json!({"appendDimension": {"sheetId": 123, "dimension": "ROWS", "length": 500}}),
    );
    round_trip::<Request>(json!({"insertDimension": {
        "range": {"sheetId": 123, "dimension": "COLUMNS", "startIndex": 2, "endIndex": 4},
        "inheritFromBefore": true
    }}));
    round_trip::<Request>(json!({"deleteDimension": {
        "range": {"sheetId": 123, "dimension": "ROWS", "startIndex": 9, "endIndex": 10}
    }}));
    assert_eq!(
        serde_json::to_value(Request::DeleteDimension(DeleteDimensionRequest {
            range: DimensionRange::rows(5, 1, 2)
        }))
        .expect("json"),
        json!({"deleteDimension": {"range": {"sheetId": 5, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}})
    );
}

#[test]
fn sheet_requests() {
    round_trip::<Request>(json!({"addSheet": {"properties": {
        "title": "Deposits",
        "gridProperties": {"rowCount": 20, "columnCount": 12},
        "hidden": false
    }}}));
    round_trip::<Request>(json!({"updateSheetProperties": {
        "properties": {"sheetId": 0, "gridProperties": {"frozenRowCount": 1}},
        "fields": "gridProperties.frozenRowCount"
    }}));
    round_trip::<Request>(json!({"appendCells": {
        "sheetId": 4,
        "rows": [{"values": [{"userEnteredValue": {"numberValue": 1.0}}]}],
        "fields": "userEnteredValue"
    }}));
}

#[test]
fn developer_metadata_requests() {
    round_trip::<Request>(json!({"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": 1001,
        "metadataKey": "sheetsync.checkpoint",
        "metadataValue": "0-1-42",
        "location": {"spreadsheet": true},
        "visibility": "DOCUMENT"
    }}}));
    round_trip::<Request>(json!({"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": "Sales",
        "metadataValue": "2022",
        "location": {"dimensionRange": {"sheetId": 0, "dimension": "ROWS", "startIndex": 6, "endIndex": 7}},
        "visibility": "DOCUMENT"
    }}}));
    round_trip::<Request>(json!({"updateDeveloperMetadata": {
        "dataFilters": [{"developerMetadataLookup": {"metadataId": 1001}}],
        "developerMetadata": {"metadataValue": "0-1-43"},
        "fields": "metadataValue"
    }}));
    round_trip::<Request>(json!({"deleteDeveloperMetadata": {
        "dataFilter": {"developerMetadataLookup": {"metadataKey": "Sales", "locationType": "ROW"}}
    }}));
    assert_eq!(
        serde_json::to_value(DataFilter::metadata_key("k")).expect("json"),
        json!({"developerMetadataLookup": {"metadataKey": "k"}})
    );
}

#[test]
fn data_filters_by_range() {
    round_trip::<DataFilter>(json!({"a1Range": "'Orders'!A:A"}));
    round_trip::<DataFilter>(json!({"gridRange": {"sheetId": 3, "startRowIndex": 1}}));
}

#[test]
fn spreadsheet_get_response() {
    let spreadsheet: Spreadsheet = round_trip(json!({
        "spreadsheetId": "1abc",
        "properties": {"title": "Shop", "locale": "en_US", "timeZone": "Etc/GMT"},
        "sheets": [
            {"properties": {"sheetId": 0, "title": "Orders", "index": 0, "sheetType": "GRID",
                            "gridProperties": {"rowCount": 1000, "columnCount": 26}}},
            {"properties": {"sheetId": 93, "title": "Jon's", "index": 1, "sheetType": "GRID",
                            "gridProperties": {"rowCount": 5, "columnCount": 2, "frozenRowCount": 1}}}
        ],
        "spreadsheetUrl": "https://docs.google.com/spreadsheets/d/1abc/edit"
    }));
    let orders = spreadsheet.sheet_by_title("Orders").expect("Orders");
    assert_eq!(
        orders
            .grid_properties
            .as_ref()
            .and_then(|grid| grid.row_count),
        Some(1000)
    );
    assert!(spreadsheet.sheet_by_title("Missing").is_none());
}

#[test]
fn value_ranges_keep_types_and_tolerate_missing_values() {
    let range: ValueRange = serde_json::from_value(json!({
        "range": "Orders!A1:D3", "majorDimension": "ROWS",
        "values": [["id", "=x", "", 3], [1, 2.5, true], []]
    }))
    .expect("parse");
    assert_eq!(range.values[0][1], CellValue::Text("=x".into()));
    assert_eq!(range.values[0][3], CellValue::Number(3.0));
    assert_eq!(range.values[1][2], CellValue::Bool(true));
    assert!(range.values[2].is_empty());
    let empty: ValueRange =
        serde_json::from_value(json!({"range": "Orders!A1:B2", "majorDimension": "ROWS"}))
            .expect("parse");
    assert!(empty.values.is_empty());
}

#[test]
fn batch_update_and_search_responses() {
    let response: BatchUpdateResponse = serde_json::from_value(json!({
        "spreadsheetId": "1abc",
        "replies": [
            {},
            {"addSheet": {"properties": {"sheetId": 42, "title": "New"}}},
            {"createDeveloperMetadata": {"developerMetadata": {"metadataId": 7, "metadataKey": "k",
                "location": {"locationType": "SPREADSHEET", "spreadsheet": true}, "visibility": "DOCUMENT"}}},
            {"updateDeveloperMetadata": {"developerMetadata": [{"metadataId": 7, "metadataKey": "k", "metadataValue": "v"}]}},
            {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": [{"metadataId": 7, "metadataKey": "k"}]}},
            {"someFutureReply": {"x": 1}}
        ]
    }))
    .expect("parse");
    assert_eq!(response.replies.len(), 6);
    assert_eq!(response.replies[0], Reply::default());
    assert_eq!(
        response.replies[1]
            .add_sheet
            .as_ref()
            .and_then(|reply| reply.properties.sheet_id),
        Some(42)
    );
    let metadata = &response.replies[2]
        .create_developer_metadata
        .as_ref()
        .expect("create reply")
        .developer_metadata;
    assert_eq!(metadata.metadata_id, Some(7));
    let search: SearchDeveloperMetadataResponse = serde_json::from_value(json!({
        "matchedDeveloperMetadata": [{
            "developerMetadata": {"metadataId": 7, "metadataKey": "k", "metadataValue": "v"},
            "dataFilters": [{"developerMetadataLookup": {"metadataKey": "k"}}]
        }]
    }))
    .expect("parse");
    assert_eq!(search.matched_developer_metadata.len(), 1);
    let nothing: SearchDeveloperMetadataResponse =
        serde_json::from_value(json!({})).expect("parse");
    assert!(nothing.matched_developer_metadata.is_empty());
}
