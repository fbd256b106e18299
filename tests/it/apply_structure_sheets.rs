//! Removed rows found by reading the tab's key column through the Sheets API (the emulator):
//! a row is deleted only when both the fresh read and the script's snapshot lack it; an empty
//! key column never deletes; a failed read answers 503 so the script retries later.

use std::sync::Arc;

use serde_json::json;
use sheets_emulator::control::{ClassFilter, FaultSpec, FaultStage};
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::{CellData, GridCoordinate, Request, RowData, UpdateCellsRequest};
use sheetsync_testbed::MariaDb;
use tokio_util::sync::CancellationToken;

use crate::apply_support::{delivery, mapping, prepare, structure, ApplyBed};
use crate::sheets_support::{client, start_emulator};

fn write_rows(sheet_id: i64, rows: Vec<Vec<CellData>>) -> Request {
    Request::UpdateCells(UpdateCellsRequest {
        rows: rows.into_iter().map(|values| RowData { values }).collect(),
        fields: "userEnteredValue".into(),
        start: Some(GridCoordinate {
            sheet_id,
            row_index: 0,
            column_index: 0,
        }),
        range: None,
    })
}

/// Header `name, id` (the key is not the first column) and one row per id.
fn tab(ids: &[Option<f64>]) -> Vec<Vec<CellData>> {
    let mut rows = vec![vec![CellData::text("name"), CellData::text("id")]];
    rows.extend(ids.iter().map(|id| {
        vec![
            CellData::text("x"),
            id.map(CellData::number).unwrap_or_else(CellData::empty),
        ]
    }));
    // Clear what a longer earlier version left below.
    rows.extend((0..5).map(|_| vec![CellData::empty(), CellData::empty()]));
    rows
}

#[tokio::test]
async fn removed_rows_are_found_by_reading_the_key_column() {
    let emulator = start_emulator().await;
    let sheets = Arc::new(client(&emulator).await);
    let cancel = CancellationToken::new();
    let spreadsheet = sheets
        .create_spreadsheet("Shop", &["Items"], &cancel)
        .await
        .expect("create");
    let sheet_id = spreadsheet
        .sheet_by_title("Items")
        .and_then(|sheet| sheet.sheet_id)
        .unwrap_or(0);
    let set_tab = |ids: Vec<Option<f64>>| {
        let sheets = sheets.clone();
        let spreadsheet_id = spreadsheet.spreadsheet_id.clone();
        async move {
            sheets
                .batch_update(
                    &spreadsheet_id,
                    &[write_rows(sheet_id, tab(&ids))],
                    &CancellationToken::new(),
                )
                .await
                .expect("write the tab");
        }
    };
    set_tab(vec![Some(1.0), Some(2.0), Some(3.0)]).await;

    let server = MariaDb::shared();
    let (database, pool) = prepare(
        server,
        "apply_structure_sheets",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO items VALUES (1, 'x'), (2, 'x'), (3, 'x')",
        ],
    )
    .await;
    let mut items = mapping(&database, "items", "Items", ConflictPolicy::LastWriteWins);
    items.spreadsheet_id = spreadsheet.spreadsheet_id.clone();
    let bed = ApplyBed::serve_with(database, pool, vec![items], Some(sheets.clone())).await;
    let report = |change: &str, keys: serde_json::Value| {
        let mut message = structure(&delivery("sheets"), "Items", change, &["id"], keys);
        message["spreadsheet_id"] = json!(spreadsheet.spreadsheet_id);
        message
    };
    let ids = || bed.rows("SELECT id FROM items ORDER BY id");
    let (status, _) = bed
        .send(&report("INSERT_ROW", json!([[1], [2], [3]])))
        .await;
    assert_eq!(status, 200);

    // The person deleted row 2, but the report's snapshot still has it (taken before): kept.
    set_tab(vec![Some(1.0), Some(3.0)]).await;
    let (status, _) = bed
        .send(&report("REMOVE_ROW", json!([[1], [2], [3]])))
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids().await.len(), 3);

    // The key column reads back empty (a broken read): nothing is deleted.
    set_tab(vec![None, None]).await;
    let (status, _) = bed.send(&report("REMOVE_ROW", json!([[1], [3]]))).await;
    assert_eq!(status, 200);
    assert_eq!(ids().await.len(), 3);

    // The read fails: 503, the script retries, and nothing is deleted meanwhile.
    set_tab(vec![Some(1.0), Some(3.0)]).await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::random(
            1.0,
            0,
            ClassFilter::Read,
            503,
            FaultStage::Before,
        ))
        .expect("fault");
    let retried = report("REMOVE_ROW", json!([[1], [3]]));
    let (status, answer) = bed.send(&retried).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(ids().await.len(), 3);
    emulator.state.control.clear_faults();

    // Both agree row 2 is gone: deleted.
    let (status, _) = bed.send(&retried).await;
    assert_eq!(status, 200);
    assert_eq!(ids().await, [[Some("1".into())], [Some("3".into())]]);
}
