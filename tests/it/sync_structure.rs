//! People rearranging the sheet: rows sorted, blank rows inserted in the middle, synced rows
//! deleted — each through the API, each followed by the structure hook
//! (`StructureNotifier::mark_stale`, what the Apps Script's `onChange` triggers). Every later
//! update lands on the row holding its key, rows a person deleted come back when their row
//! changes, and no key is ever on two rows.

use std::time::Duration;

use serde_json::{json, Value as Json};
use sheetsync::sync::pipeline::{Extensions, RunOptions};
use sheetsync::sync::StructureNotifier;
use tokio_util::sync::CancellationToken;

use crate::sheets_support::client;
use crate::sync_support::{
    assert_no_key_twice, execute, log_to_test_output, wait_for_tab_to_equal_table, RunningSync,
    SyncBed,
};

const LIMIT: Duration = Duration::from_secs(20);
const COLUMNS: &str = "id, name, qty";

/// A person's `batchUpdate`, applied by the emulator as if sent from the Sheets UI.
fn person(bed: &SyncBed, requests: Json) {
    bed.emulator
        .state
        .store
        .batch_update(&bed.spreadsheet_id, &json!({ "requests": requests }))
        .expect("the person's change is valid");
}

/// A JSON cell value as the `ExtendedValue` that writes it back unchanged.
fn extended_value(value: &Json) -> Json {
    match value {
        Json::Number(number) => json!({"numberValue": number}),
        Json::Bool(flag) => json!({"boolValue": flag}),
        Json::String(text) if text.is_empty() => json!({}),
        Json::String(text) => json!({"stringValue": text}),
        _ => json!({}),
    }
}

/// Sorts the data rows by `name`, descending: what Data → Sort range does to the grid (the
/// emulator has no `sortRange`, so the sorted rows are written back in place, which leaves the
/// sheet exactly as a sort would).
fn sort_by_name_descending(bed: &SyncBed, sheet_id: i64) {
    let values = bed
        .emulator
        .state
        .store
        .sheet_values(&bed.spreadsheet_id, "People")
        .expect("values");
    let mut rows: Vec<Vec<Json>> = values.into_iter().skip(1).collect();
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    rows.sort_by(|a, b| {
        let name = |row: &Vec<Json>| row.get(1).and_then(Json::as_str).unwrap_or("").to_string();
        name(b).cmp(&name(a))
    });
    let rows: Vec<Json> = rows
        .iter()
        .map(|row| {
            let values: Vec<Json> = (0..width)
                .map(|column| extended_value(row.get(column).unwrap_or(&Json::Null)))
                .map(|value| json!({"userEnteredValue": value}))
                .collect();
            json!({"values": values})
        })
        .collect();
    person(
        bed,
        json!([{"updateCells": {
            "rows": rows,
            "fields": "userEnteredValue",
            "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 0}
        }}]),
    );
}

#[tokio::test]
async fn updates_land_on_the_row_holding_their_key_after_people_rearrange_rows() {
    log_to_test_output();
    let rows: Vec<String> = (1..=20)
        .map(|id| format!("({id}, 'name {:02}', {id})", (id * 7) % 20))
        .collect();
    let insert = format!("INSERT INTO people VALUES {}", rows.join(","));
    let bed = SyncBed::start(
        "sync_structure",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT)",
            &insert,
        ],
    )
    .await;
    let url = bed.database.url.clone();
    let notifier = StructureNotifier::default();
    let sync = RunningSync::start_with(
        bed.config(&[("people", "People")]),
        RunOptions {
            heartbeat: Duration::from_secs(1),
            ..RunOptions::default()
        },
        Extensions {
            notifier: notifier.clone(),
            ..Extensions::default()
        },
    );
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    let spreadsheet = client(&bed.emulator)
        .await
        .get_spreadsheet(&bed.spreadsheet_id, None, &CancellationToken::new())
        .await
        .expect("spreadsheet");
    let sheet_id = spreadsheet
        .sheets
        .iter()
        .find(|sheet| sheet.properties.title.as_deref() == Some("People"))
        .and_then(|sheet| sheet.properties.sheet_id)
        .expect("the People tab");

    // 1. Sorted by name: every key moves.
    sort_by_name_descending(&bed, sheet_id);
    notifier.mark_stale("people");
    execute(
        &url,
        &[
            "UPDATE people SET qty = qty + 100",
            "INSERT INTO people VALUES (21, 'name zz', 21)",
            "DELETE FROM people WHERE id = 4",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));

    // 2. Three blank rows inserted in the middle: the rows below shift down.
    person(
        &bed,
        json!([{"insertDimension": {
            "range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 5, "endIndex": 8},
            "inheritFromBefore": false
        }}]),
    );
    notifier.mark_stale("people");
    execute(
        &url,
        &[
            "UPDATE people SET qty = qty + 1000, name = CONCAT(name, '!')",
            "INSERT INTO people VALUES (22, 'name yy', 22)",
            "DELETE FROM people WHERE id = 15",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    assert_no_key_twice(&bed.tab("People"));
    let blank_rows = bed
        .tab("People")
        .iter()
        .filter(|row| row.is_empty())
        .count();
    assert_eq!(blank_rows, 3, "the person's blank rows stay");

    // 3. Two synced rows deleted by a person: they come back when their rows change.
    let deleted: Vec<String> = bed.tab("People")[2..4]
        .iter()
        .map(|row| row[0].clone())
        .collect();
    person(
        &bed,
        json!([{"deleteDimension": {
            "range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 2, "endIndex": 4}
        }}]),
    );
    notifier.mark_stale("people");
    execute(
        &url,
        &[
            "UPDATE people SET qty = qty + 10000",
            "DELETE FROM people WHERE id = 2",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, LIMIT).await;
    let tab = bed.tab("People");
    assert_no_key_twice(&tab);
    for key in deleted.iter().filter(|key| key.as_str() != "2") {
        assert!(
            tab.iter().any(|row| row.first() == Some(key)),
            "row {key} came back"
        );
    }
    sync.stop().await.expect("graceful stop");
}
