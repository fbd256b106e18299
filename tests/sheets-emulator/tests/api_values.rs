//! `spreadsheets.values.*` over HTTP: ranges, input options, render options, trimming, errors.

mod common;

use common::{encode, invalid, start};
use serde_json::json;

#[tokio::test]
async fn raw_and_user_entered_writes_read_back_typed() {
    let emulator = start().await;
    let id = emulator.create(json!({"properties": {"title": "T"}})).await;
    let (status, response) = emulator
        .write(
            &id,
            "Sheet1!A1",
            "RAW",
            json!([["=1+2", "42", 42, true, 1.5]]),
        )
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        response,
        json!({"spreadsheetId": id, "updatedRange": "Sheet1!A1:E1", "updatedRows": 1, "updatedColumns": 5, "updatedCells": 5})
    );
    let (_, unformatted) = emulator
        .read(&id, "Sheet1!A1:E1", "valueRenderOption=UNFORMATTED_VALUE")
        .await;
    assert_eq!(
        unformatted,
        json!({"range": "Sheet1!A1:E1", "majorDimension": "ROWS", "values": [["=1+2", "42", 42, true, 1.5]]})
    );
    let (_, formatted) = emulator.read(&id, "Sheet1!A1:E1", "").await;
    assert_eq!(
        formatted["values"],
        json!([["=1+2", "42", "42", "TRUE", "1.5"]])
    );

    let (status, _) = emulator
        .write(
            &id,
            "Sheet1!A2",
            "USER_ENTERED",
            json!([[
                "=1+2",
                "42",
                "1,234.5",
                "50%",
                "$100.15",
                "true",
                "2024-01-31",
                "'007",
                "0050"
            ]]),
        )
        .await;
    assert_eq!(status, 200);
    let (_, unformatted) = emulator
        .read(&id, "Sheet1!A2:I2", "valueRenderOption=UNFORMATTED_VALUE")
        .await;
    assert_eq!(
        unformatted["values"],
        json!([["=1+2", 42, 1234.5, 0.5, 100.15, true, 45322, "007", 50]])
    );
    let (_, formula) = emulator
        .read(&id, "Sheet1!A2:B2", "valueRenderOption=FORMULA")
        .await;
    assert_eq!(formula["values"], json!([["=1+2", 42]]));
    let (_, formatted) = emulator
        .read(&id, "Sheet1!A2:I2", "valueRenderOption=FORMATTED_VALUE")
        .await;
    assert_eq!(
        formatted["values"],
        json!([[
            "=1+2",
            "42",
            "1,234.5",
            "50%",
            "$100.15",
            "TRUE",
            "2024-01-31",
            "007",
            "50"
        ]])
    );
    let (_, date_string) = emulator
        .read(
            &id,
            "Sheet1!G2",
            "valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING",
        )
        .await;
    assert_eq!(date_string["values"], json!([["2024-01-31"]]));
}

#[tokio::test]
async fn value_input_option_is_required() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, body) = emulator
        .put(
            &format!("/v4/spreadsheets/{id}/values/A1"),
            json!({"values": [[1]]}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("'valueInputOption' is required but not specified")
        )
    );
    let (status, body) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}/values/A1:append"),
            json!({"values": [[1]]}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("'valueInputOption' is required but not specified")
        )
    );
    let (status, body) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}/values:batchUpdate"),
            json!({"data": []}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("'valueInputOption' is required but not specified")
        )
    );
}

#[tokio::test]
async fn nulls_skip_and_empty_strings_clear() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    emulator
        .write(
            &id,
            "Sheet1!A1",
            "RAW",
            json!([["a", "b", "c"], ["d", "e", "f"]]),
        )
        .await;
    let (_, response) = emulator
        .write(&id, "Sheet1!A1", "RAW", json!([[null, "", "C"]]))
        .await;
    assert_eq!(response["updatedCells"], 2);
    let (_, read) = emulator.read(&id, "Sheet1", "").await;
    assert_eq!(
        read,
        json!({"range": "Sheet1!A1:Z1000", "majorDimension": "ROWS", "values": [["a", "", "C"], ["d", "e", "f"]]})
    );
}

#[tokio::test]
async fn reads_trim_and_normalise_ranges() {
    let emulator = start().await;
    let id = emulator.create(json!({"sheets": [{"properties": {"title": "My Tab", "gridProperties": {"rowCount": 5, "columnCount": 4}}}]})).await;
    emulator
        .write(&id, "'My Tab'!B2", "RAW", json!([["x", "", ""], [], ["y"]]))
        .await;
    let (_, whole) = emulator.read(&id, "'My Tab'", "").await;
    assert_eq!(
        whole,
        json!({"range": "'My Tab'!A1:D5", "majorDimension": "ROWS", "values": [[], ["", "x"], [], ["", "y"]]})
    );
    let (_, column) = emulator
        .read(&id, "'My Tab'!B:B", "majorDimension=COLUMNS")
        .await;
    assert_eq!(
        column,
        json!({"range": "'My Tab'!B1:B5", "majorDimension": "COLUMNS", "values": [["", "x", "", "y"]]})
    );
    let (_, open) = emulator.read(&id, "'My Tab'!B3:D", "").await;
    assert_eq!(
        open,
        json!({"range": "'My Tab'!B3:D5", "majorDimension": "ROWS", "values": [[], ["y"]]})
    );
    let (_, rows) = emulator.read(&id, "'My Tab'!1:2", "").await;
    assert_eq!(rows["range"], "'My Tab'!A1:D2");
    let (_, empty) = emulator.read(&id, "'My Tab'!C5:D5", "").await;
    assert_eq!(
        empty,
        json!({"range": "'My Tab'!C5:D5", "majorDimension": "ROWS"})
    );
    // No sheet name: the first visible sheet.
    let (_, bare) = emulator.read(&id, "B2", "").await;
    assert_eq!(bare["values"], json!([["x"]]));
}

#[tokio::test]
async fn quoted_names_with_quotes() {
    let emulator = start().await;
    let id = emulator
        .create(json!({"sheets": [{"properties": {"title": "Bob's"}}]}))
        .await;
    let (status, response) = emulator
        .write(&id, "'Bob''s'!A1", "RAW", json!([["hi"]]))
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["updatedRange"], "'Bob''s'!A1");
}

#[tokio::test]
async fn range_errors_are_googles() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, body) = emulator.read(&id, "Nope!A1", "").await;
    assert_eq!(
        (status, body),
        (400, invalid("Unable to parse range: Nope!A1"))
    );
    let (status, body) = emulator.read(&id, "Sheet1!A1:B1001", "").await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Range (Sheet1!A1:B1001) exceeds grid limits. Max rows: 1000, max columns: 26")
        )
    );
    let (status, body) = emulator
        .write(&id, "Sheet1!Z1", "RAW", json!([["a", "b"]]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Range (Sheet1!Z1:AA1) exceeds grid limits. Max rows: 1000, max columns: 26")
        )
    );
    let (status, body) = emulator
        .write(&id, "Sheet1!A1:B1", "RAW", json!([["a", "b", "c"]]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(
                "Requested writing within range [Sheet1!A1:B1], but tried writing to column [C]"
            )
        )
    );
    let (status, body) = emulator
        .write(&id, "Sheet1!A1:B1", "RAW", json!([["a"], ["b"]]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid("Requested writing within range [Sheet1!A1:B1], but tried writing to row [2]")
        )
    );
    let (status, body) = emulator.get("/v4/spreadsheets/missing/values/A1").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})
    );
}

#[tokio::test]
async fn fifty_thousand_characters_per_cell() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (status, _) = emulator
        .write(&id, "A1", "RAW", json!([["x".repeat(50_000)]]))
        .await;
    assert_eq!(status, 200);
    let (status, body) = emulator
        .write(&id, "A2", "RAW", json!([["x".repeat(50_001)]]))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            invalid(
                "Your input contains more than the maximum of 50000 characters in a single cell."
            )
        )
    );
}

#[tokio::test]
async fn batch_get_batch_update_and_clear() {
    let emulator = start().await;
    let id = emulator
        .create(json!({"sheets": [{"properties": {"title": "A"}}, {"properties": {"title": "B"}}]}))
        .await;
    let (status, response) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}/values:batchUpdate"),
            json!({"valueInputOption": "RAW", "includeValuesInResponse": true, "data": [
                {"range": "A!A1", "values": [[1, 2], [3, 4]]},
                {"range": "B!B2", "majorDimension": "COLUMNS", "values": [["x", "y"]]},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["totalUpdatedCells"], 6);
    assert_eq!(response["totalUpdatedSheets"], 2);
    assert_eq!(response["responses"][1]["updatedRange"], "B!B2:B3");
    assert_eq!(
        response["responses"][0]["updatedData"]["values"],
        json!([["1", "2"], ["3", "4"]])
    );
    let query = format!(
        "ranges={}&ranges={}&valueRenderOption=UNFORMATTED_VALUE",
        encode("A!A1:B2"),
        encode("B!B:B")
    );
    let (_, batch) = emulator
        .get(&format!("/v4/spreadsheets/{id}/values:batchGet?{query}"))
        .await;
    assert_eq!(batch["valueRanges"][0]["values"], json!([[1, 2], [3, 4]]));
    assert_eq!(
        batch["valueRanges"][1],
        json!({"range": "B!B1:B1000", "majorDimension": "ROWS", "values": [[], ["x"], ["y"]]})
    );
    let (_, cleared) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}/values/{}:clear", encode("A!A1:A2")),
            json!({}),
        )
        .await;
    assert_eq!(
        cleared,
        json!({"spreadsheetId": id, "clearedRange": "A!A1:A2"})
    );
    let (_, after) = emulator.read(&id, "A!A1:B2", "").await;
    assert_eq!(after["values"], json!([["", "2"], ["", "4"]]));
    let (_, batch_cleared) = emulator
        .post(
            &format!("/v4/spreadsheets/{id}/values:batchClear"),
            json!({"ranges": ["A", "B!B2"]}),
        )
        .await;
    assert_eq!(
        batch_cleared["clearedRanges"],
        json!(["A!A1:Z1000", "B!B2"])
    );
}

#[tokio::test]
async fn append_finds_the_table_and_grows_the_grid() {
    let emulator = start().await;
    let id = emulator.create(json!({"sheets": [{"properties": {"title": "T", "gridProperties": {"rowCount": 3, "columnCount": 3}}}]})).await;
    let append = |range: &str, option: &str| {
        format!(
            "/v4/spreadsheets/{id}/values/{}:append?valueInputOption=RAW&insertDataOption={option}",
            encode(range)
        )
    };
    let (status, first) = emulator
        .post(
            &append("T!A1", "OVERWRITE"),
            json!({"values": [["id", "name"], [1, "a"]]}),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first,
        json!({"spreadsheetId": id, "updates": {"spreadsheetId": id, "updatedRange": "T!A1:B2", "updatedRows": 2, "updatedColumns": 2, "updatedCells": 4}})
    );
    let (_, second) = emulator
        .post(
            &append("T!A:B", "OVERWRITE"),
            json!({"values": [[2, "b"], [3, "c"]]}),
        )
        .await;
    assert_eq!(second["tableRange"], "T!A1:B2");
    assert_eq!(second["updates"]["updatedRange"], "T!A3:B4");
    assert_eq!(emulator.state.store.grid_size(&id, "T"), Some((4, 3)));
    // INSERT_ROWS inserts rows after the table, moving what is below.
    let (status, _) = emulator
        .batch_update(
            &id,
            json!([{"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 2}}]),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = emulator.write(&id, "T!A6", "RAW", json!([["below"]])).await;
    assert_eq!(status, 200);
    let (_, third) = emulator
        .post(
            &append("T!A1", "INSERT_ROWS"),
            json!({"values": [[4, "d", "wide", "wider"]]}),
        )
        .await;
    assert_eq!(third["updates"]["updatedRange"], "T!A5:D5");
    assert_eq!(emulator.state.store.grid_size(&id, "T"), Some((7, 4)));
    let values = emulator.state.store.sheet_values(&id, "T").expect("values");
    assert_eq!(
        values[4],
        vec![json!(4), json!("d"), json!("wide"), json!("wider")]
    );
    assert_eq!(values[6], vec![json!("below")]);
}

#[tokio::test]
async fn append_at_an_empty_cell_writes_there() {
    // gspread's insert_rows: insert blank rows, then append at `A{row}` into them.
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    emulator
        .write(
            &id,
            "Sheet1!A1",
            "RAW",
            json!([["header"], ["old 2"], ["old 3"]]),
        )
        .await;
    let (status, _) = emulator
        .batch_update(&id, json!([{"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}, "inheritFromBefore": true}}]))
        .await;
    assert_eq!(status, 200);
    let path = format!(
        "/v4/spreadsheets/{id}/values/{}:append?valueInputOption=RAW",
        encode("'Sheet1'!A2")
    );
    let (status, response) = emulator
        .post(
            &path,
            json!({"majorDimension": "ROWS", "values": [["new"]]}),
        )
        .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["updates"]["updatedRange"], "Sheet1!A2");
    let values = emulator
        .state
        .store
        .sheet_values(&id, "Sheet1")
        .expect("values");
    assert_eq!(
        values,
        vec![
            vec![json!("header")],
            vec![json!("new")],
            vec![json!("old 2")],
            vec![json!("old 3")]
        ]
    );
}

#[tokio::test]
async fn field_masks_apply_to_every_response_and_select_grid_data() {
    let emulator = start().await;
    let id = emulator.create(json!({})).await;
    let (_, response) = emulator
        .put(
            &format!("/v4/spreadsheets/{id}/values/A1?valueInputOption=RAW&fields=updatedCells"),
            json!({"values": [["a"]]}),
        )
        .await;
    assert_eq!(response, json!({"updatedCells": 1}));
    let (status, _) = emulator
        .batch_update(&id, json!([{"updateCells": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 1}, "fields": "note", "rows": [{"values": [{"note": "hello"}]}]}}]))
        .await;
    assert_eq!(status, 200);
    // gspread's get_note: a `/`-separated mask selects grid data without includeGridData.
    let (_, note) = emulator
        .get(&format!(
            "/v4/spreadsheets/{id}?ranges=Sheet1!A1&fields=sheets/data/rowData/values/note"
        ))
        .await;
    assert_eq!(
        note,
        json!({"sheets": [{"data": [{"rowData": [{"values": [{"note": "hello"}]}]}]}]})
    );
    let (status, _) = emulator
        .batch_update(&id, json!([{"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"rowCount": 1005}}, "fields": "gridProperties/rowCount"}}]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        emulator.state.store.grid_size(&id, "Sheet1"),
        Some((1005, 26))
    );
}
