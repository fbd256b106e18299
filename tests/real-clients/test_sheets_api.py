"""The Sheets data plane through Google's own Python clients: google-api-python-client with its
bundled discovery document, and gspread. If a client and the emulator disagree, the emulator is
wrong."""

import json

import pytest
from googleapiclient.errors import HttpError


@pytest.fixture(autouse=True)
def unlimited(admin):
    """No quota, faults or latency left over from other tests."""
    admin.reset()


def create(sheets, title="real client", sheet_properties=None):
    body = {"properties": {"title": title}}
    if sheet_properties is not None:
        body["sheets"] = [{"properties": properties} for properties in sheet_properties]
    return sheets.spreadsheets().create(body=body).execute()


def error_of(call):
    """Run a request expected to fail; return (HTTP status, error object)."""
    with pytest.raises(HttpError) as raised:
        call.execute()
    return raised.value.resp.status, json.loads(raised.value.content)["error"]


def test_create_and_get_with_field_mask(sheets):
    created = create(sheets, "Book", [{"title": "Orders", "gridProperties": {"rowCount": 50, "columnCount": 4}}])
    spreadsheet_id = created["spreadsheetId"]
    assert created["properties"]["title"] == "Book"
    assert created["spreadsheetUrl"].endswith(f"/d/{spreadsheet_id}/edit")
    got = (
        sheets.spreadsheets()
        .get(spreadsheetId=spreadsheet_id, fields="sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))")
        .execute()
    )
    assert got == {"sheets": [{"properties": {"sheetId": 0, "title": "Orders", "gridProperties": {"rowCount": 50, "columnCount": 4}}}]}


def test_values_update_get_batch_get_append_clear(sheets):
    spreadsheet_id = create(sheets, sheet_properties=[{"title": "My Tab"}])["spreadsheetId"]
    values = sheets.spreadsheets().values()
    updated = values.update(
        spreadsheetId=spreadsheet_id, range="'My Tab'!A1", valueInputOption="USER_ENTERED",
        body={"values": [["id", "amount", "when", "text"], [1, "1,234.5", "2024-01-31", "'=not a formula"]]},
    ).execute()
    assert updated == {
        "spreadsheetId": spreadsheet_id, "updatedRange": "'My Tab'!A1:D2",
        "updatedRows": 2, "updatedColumns": 4, "updatedCells": 8,
    }
    formatted = values.get(spreadsheetId=spreadsheet_id, range="'My Tab'!A1:D2").execute()
    assert formatted["values"] == [["id", "amount", "when", "text"], ["1", "1,234.5", "2024-01-31", "=not a formula"]]
    unformatted = values.get(spreadsheetId=spreadsheet_id, range="'My Tab'!A2:D2", valueRenderOption="UNFORMATTED_VALUE").execute()
    assert unformatted["values"] == [[1, 1234.5, 45322, "=not a formula"]]

    appended = values.append(
        spreadsheetId=spreadsheet_id, range="'My Tab'!A1", valueInputOption="RAW",
        insertDataOption="INSERT_ROWS", includeValuesInResponse=True, body={"values": [[2, 7, None, "=raw"]]},
    ).execute()
    assert appended["tableRange"] == "'My Tab'!A1:D2"
    assert appended["updates"]["updatedRange"] == "'My Tab'!A3:D3"
    assert appended["updates"]["updatedData"]["values"] == [["2", "7", "", "=raw"]]

    batch = values.batchGet(spreadsheetId=spreadsheet_id, ranges=["'My Tab'!A:A", "'My Tab'!Z1"], majorDimension="COLUMNS").execute()
    assert batch["valueRanges"][0] == {"range": "'My Tab'!A1:A1001", "majorDimension": "COLUMNS", "values": [["id", "1", "2"]]}
    assert "values" not in batch["valueRanges"][1]

    cleared = values.clear(spreadsheetId=spreadsheet_id, range="'My Tab'!B2:D3", body={}).execute()
    assert cleared == {"spreadsheetId": spreadsheet_id, "clearedRange": "'My Tab'!B2:D3"}
    assert values.get(spreadsheetId=spreadsheet_id, range="'My Tab'").execute()["values"] == [
        ["id", "amount", "when", "text"], ["1"], ["2"],
    ]


def test_values_errors_are_googles(sheets):
    spreadsheet_id = create(sheets, sheet_properties=[{"title": "S", "gridProperties": {"rowCount": 3, "columnCount": 2}}])["spreadsheetId"]
    values = sheets.spreadsheets().values()
    status, error = error_of(values.update(spreadsheetId=spreadsheet_id, range="S!A1", body={"values": [[1]]}))
    assert (status, error["message"], error["status"]) == (400, "'valueInputOption' is required but not specified", "INVALID_ARGUMENT")
    status, error = error_of(values.get(spreadsheetId=spreadsheet_id, range="S!A1:C1"))
    assert (status, error["message"]) == (400, "Range (S!A1:C1) exceeds grid limits. Max rows: 3, max columns: 2")
    status, error = error_of(values.get(spreadsheetId=spreadsheet_id, range="Nope!A1"))
    assert (status, error["message"]) == (400, "Unable to parse range: Nope!A1")
    status, error = error_of(values.update(spreadsheetId=spreadsheet_id, range="S!A1", valueInputOption="RAW", body={"values": [["x" * 50001]]}))
    assert (status, error["message"]) == (400, "Your input contains more than the maximum of 50000 characters in a single cell.")
    status, error = error_of(sheets.spreadsheets().get(spreadsheetId="no-such-spreadsheet"))
    assert (status, error) == (404, {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"})


def test_batch_update_rows_cells_and_atomicity(sheets):
    spreadsheet_id = create(sheets)["spreadsheetId"]
    spreadsheets = sheets.spreadsheets()
    spreadsheets.values().update(
        spreadsheetId=spreadsheet_id, range="Sheet1!A1", valueInputOption="RAW", body={"values": [["r1"], ["r2"], ["r3"]]},
    ).execute()
    reply = spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [
        {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}},
        {"updateCells": {"start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 0}, "fields": "userEnteredValue,note",
                         "rows": [{"values": [{"userEnteredValue": {"numberValue": 42}, "note": "inserted"}]}]}},
        {"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 3, "endIndex": 4}}},
        {"addSheet": {"properties": {"title": "Extra", "gridProperties": {"rowCount": 10, "columnCount": 2}}}},
    ]}).execute()
    assert reply["replies"][:3] == [{}, {}, {}]
    assert reply["replies"][3]["addSheet"]["properties"]["title"] == "Extra"
    rows = spreadsheets.values().get(spreadsheetId=spreadsheet_id, range="Sheet1", valueRenderOption="UNFORMATTED_VALUE").execute()
    assert rows["values"] == [["r1"], [42], ["r2"]]

    status, error = error_of(spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [
        {"updateCells": {"start": {"sheetId": 0}, "fields": "userEnteredValue", "rows": [{"values": [{"userEnteredValue": {"stringValue": "lost"}}]}]}},
        {"deleteSheet": {"sheetId": 424242}},
    ]}))
    assert (status, error["message"]) == (400, "Invalid requests[1].deleteSheet: No sheet with id: 424242")
    unchanged = spreadsheets.values().get(spreadsheetId=spreadsheet_id, range="Sheet1!A1").execute()
    assert unchanged["values"] == [["r1"]]


def test_grid_guard_copy_paste_onto_itself(sheets):
    """sheetsync's grid guard: one cell pasted onto itself changes nothing; past the grid (rows
    deleted meanwhile) it fails the whole batch."""
    spreadsheet_id = create(sheets, sheet_properties=[{"title": "S", "gridProperties": {"rowCount": 3, "columnCount": 2}}])["spreadsheetId"]
    sheet_id = sheets.spreadsheets().get(spreadsheetId=spreadsheet_id).execute()["sheets"][0]["properties"]["sheetId"]
    spreadsheets = sheets.spreadsheets()
    spreadsheets.values().update(
        spreadsheetId=spreadsheet_id, range="S!A1", valueInputOption="RAW", body={"values": [["a"], ["b"], ["c"]]},
    ).execute()

    def guard(row):
        cell = {"sheetId": sheet_id, "startRowIndex": row, "endRowIndex": row + 1, "startColumnIndex": 0, "endColumnIndex": 1}
        return {"copyPaste": {"source": cell, "destination": cell, "pasteType": "PASTE_NORMAL", "pasteOrientation": "NORMAL"}}

    write = {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 1}, "fields": "userEnteredValue",
                             "rows": [{"values": [{"userEnteredValue": {"stringValue": "written"}}]}]}}
    reply = spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [guard(2), write]}).execute()
    assert reply["replies"] == [{}, {}]
    status, error = error_of(spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [guard(3), write]}))
    assert (status, error["message"]) == (400, "Invalid requests[0].copyPaste: Range (S!A4) exceeds grid limits. Max rows: 3, max columns: 2")
    rows = spreadsheets.values().get(spreadsheetId=spreadsheet_id, range="S", valueRenderOption="UNFORMATTED_VALUE").execute()
    assert rows["values"] == [["a", "written"], ["b"], ["c"]]


def test_developer_metadata(sheets):
    spreadsheet_id = create(sheets)["spreadsheetId"]
    spreadsheets = sheets.spreadsheets()
    created = spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": "checkpoint", "metadataValue": "gtid-1", "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}},
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataId": 77, "metadataKey": "row-key", "metadataValue": "k5", "visibility": "DOCUMENT",
            "location": {"dimensionRange": {"sheetId": 0, "dimension": "ROWS", "startIndex": 4, "endIndex": 5}}}}},
    ]}).execute()
    checkpoint = created["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert checkpoint["location"] == {"locationType": "SPREADSHEET", "spreadsheet": True}

    spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [
        {"updateDeveloperMetadata": {
            "dataFilters": [{"developerMetadataLookup": {"metadataKey": "checkpoint"}}],
            "developerMetadata": {"metadataValue": "gtid-2"}, "fields": "metadataValue"}},
        {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 3}}},
    ]}).execute()
    found = spreadsheets.developerMetadata().search(spreadsheetId=spreadsheet_id, body={
        "dataFilters": [{"developerMetadataLookup": {"metadataKey": "checkpoint"}}]}).execute()
    assert found["matchedDeveloperMetadata"][0]["developerMetadata"]["metadataValue"] == "gtid-2"
    moved = spreadsheets.developerMetadata().get(spreadsheetId=spreadsheet_id, metadataId=77).execute()
    assert moved["location"]["dimensionRange"] == {"sheetId": 0, "dimension": "ROWS", "startIndex": 7, "endIndex": 8}
    by_range = spreadsheets.developerMetadata().search(spreadsheetId=spreadsheet_id, body={"dataFilters": [{"a1Range": "Sheet1!8:8"}]}).execute()
    assert [match["developerMetadata"]["metadataId"] for match in by_range["matchedDeveloperMetadata"]] == [77]

    spreadsheets.batchUpdate(spreadsheetId=spreadsheet_id, body={"requests": [
        {"deleteDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 7, "endIndex": 8}}},
    ]}).execute()
    status, _ = error_of(spreadsheets.developerMetadata().get(spreadsheetId=spreadsheet_id, metadataId=77))
    assert status == 404


def test_gspread_worksheet_workflow(sheets, gspread_client):
    # gspread creates spreadsheets through Drive, which the emulator lacks: create with Sheets.
    spreadsheet_id = create(sheets, "gspread")["spreadsheetId"]
    spreadsheet = gspread_client.open_by_key(spreadsheet_id)
    assert spreadsheet.title == "gspread"
    worksheet = spreadsheet.sheet1
    worksheet.update(range_name="A1", values=[["id", "name"], [1, "a"]])
    worksheet.append_row([2, "b"])
    worksheet.append_rows([[3, "c"], [4, "d"]], value_input_option="USER_ENTERED")
    worksheet.insert_row([10, "inserted"], index=2)
    worksheet.delete_rows(4)
    assert worksheet.get_all_values() == [["id", "name"], ["10", "inserted"], ["1", "a"], ["3", "c"], ["4", "d"]]
    assert worksheet.get_all_records()[0] == {"id": 10, "name": "inserted"}
    worksheet.batch_update([{"range": "D1", "values": [["=A2*2"]]}], value_input_option="USER_ENTERED")
    assert worksheet.acell("D1", value_render_option="FORMULA").value == "=A2*2"
    assert worksheet.batch_get(["A1:B2", "B5"]) == [[["id", "name"], ["10", "inserted"]], [["d"]]]
    worksheet.update_note("B2", "from gspread")
    assert worksheet.get_note("B2") == "from gspread"
    # gspread counts appended rows into its local rowCount (1003), so add_rows(5) resizes to 1008.
    worksheet.add_rows(5)
    worksheet.update_title("Renamed")
    worksheet.freeze(rows=1)
    extra = spreadsheet.add_worksheet("Second", rows=10, cols=3)
    titles = [(sheet.title, sheet.row_count, sheet.col_count, sheet.frozen_row_count) for sheet in spreadsheet.worksheets()]
    assert titles == [("Renamed", 1008, 26, 1), ("Second", 10, 3, 0)]
    spreadsheet.del_worksheet(extra)
    assert [sheet.title for sheet in spreadsheet.worksheets()] == ["Renamed"]
    cell = worksheet.find("inserted")
    assert (cell.row, cell.col) == (2, 2)
