//! Converted cells on the wire: every kind of value `cell::to_cell` produces is written with
//! one `updateCells` (value, number format, note) to the emulator and read back with
//! `UNFORMATTED_VALUE`; each key reads back to the same canonical key text, text stays text
//! (formulas are not evaluated), and a truncated cell is accepted and carries its note.

use sheetsync::cell::{to_cell, CellOptions, MAX_CELL_CHARACTERS};
use sheetsync::sheets::model::{GridCoordinate, Request, RowData, UpdateCellsRequest};
use sheetsync::sync::{cell_key_text, json_key_text};
use sheetsync::value::Value;
use tokio_util::sync::CancellationToken;

use crate::sheets_support::{client, start_emulator};

#[tokio::test]
async fn converted_cells_are_accepted_and_read_back_with_the_same_key_text() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let cancel = CancellationToken::new();
    let created = client
        .create_spreadsheet("Types", &["Values"], &cancel)
        .await
        .expect("create");
    let id = created.spreadsheet_id;
    let values = vec![
        Value::Int(i64::MIN),
        Value::Int(42),
        Value::UInt(u64::MAX),
        Value::Decimal("-0.05".into()),
        Value::Decimal("12345678901234567890.123456789012345678901234567890".into()),
        Value::Float(0.1),
        Value::Text("=1+1".into()),
        Value::Text("007".into()),
        Value::Set(vec!["a".into(), "c".into()]),
        Value::Bytes(vec![0xff, 0x00]),
        Value::Date {
            year: 2024,
            month: 2,
            day: 29,
        },
        Value::Date {
            year: 0,
            month: 0,
            day: 0,
        },
        Value::Timestamp {
            unix_seconds: 1_711_846_800,
            microsecond: 250_000,
        },
        Value::Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            microsecond: 0,
        },
        Value::Text("😀".repeat(MAX_CELL_CHARACTERS / 2 + 1)),
    ];
    let options = CellOptions::default();
    let converted: Vec<_> = values
        .iter()
        .map(|value| to_cell(value, &options).expect("written"))
        .collect();
    let request = Request::UpdateCells(UpdateCellsRequest {
        rows: vec![RowData {
            values: converted.iter().map(|c| c.cell.clone()).collect(),
        }],
        fields: "userEnteredValue,userEnteredFormat.numberFormat,note".into(),
        start: Some(GridCoordinate {
            sheet_id: created.sheets[0].properties.sheet_id.unwrap_or(0),
            row_index: 0,
            column_index: 0,
        }),
        range: None,
    });
    client
        .batch_update(&id, &[request], &cancel)
        .await
        .expect("Sheets accepts every converted cell");
    let read = client
        .get_values(&id, "'Values'!1:1", &cancel)
        .await
        .expect("read back");
    let row: Vec<serde_json::Value> = read.values[0]
        .iter()
        .map(|cell| serde_json::to_value(cell).expect("json"))
        .collect();
    assert_eq!(row.len(), values.len());
    for ((value, converted), json) in values.iter().zip(&converted).zip(&row) {
        assert_eq!(
            cell_key_text(&converted.cell),
            json_key_text(json),
            "{value} read back as {json}"
        );
    }
    assert_eq!(row[6], serde_json::json!("=1+1"), "never evaluated");
    assert_eq!(row[7], serde_json::json!("007"));
    let date = emulator
        .state
        .store
        .cell_data(&id, "Values", 0, 10)
        .expect("date cell");
    assert_eq!(
        date["userEnteredFormat"]["numberFormat"],
        serde_json::json!({"type": "DATE", "pattern": "yyyy-mm-dd"}),
        "{date}"
    );
    let truncated = converted.last().expect("last");
    assert_eq!(truncated.truncated_from, Some(MAX_CELL_CHARACTERS + 2));
    let note = emulator
        .state
        .store
        .cell_note(&id, "Values", 0, values.len() as u32 - 1)
        .expect("note");
    assert!(note.contains("truncated from 50002"), "{note}");
}
