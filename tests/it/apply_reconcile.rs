//! `reconcile` on a real table and an emulated tab: the dry run lists the drift and changes
//! nothing; a repair under `last-write-wins` sends the database's values to the sheet; under
//! `sheet-wins` it writes the sheet's values (and its extra row) to the table.

use std::sync::Arc;

use sheetsync::apply::cells::SheetDisplay;
use sheetsync::apply::clock::RowClock;
use sheetsync::apply::reconcile::{diff, reconcile, Drift, RepairTarget};
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::{
    CellData, ExtendedValue, GridCoordinate, Request, RowData, UpdateCellsRequest,
};
use sheetsync::sync::RowKey;
use sheetsync::webhook::CellValue;
use sheetsync_testbed::MariaDb;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::apply_support::{mapping, prepare};
use crate::sheets_support::{client, start_emulator};

fn rows(sheet_id: i64, rows: Vec<Vec<CellData>>) -> Request {
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

#[tokio::test]
async fn reconcile_lists_and_repairs_drift_by_policy() {
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
    let (text, number) = (CellData::text, CellData::number);
    sheets
        .batch_update(
            &spreadsheet.spreadsheet_id,
            &[rows(
                sheet_id,
                vec![
                    vec![text("id"), text("name"), text("qty")],
                    vec![number(1.0), text("a"), number(5.0)],
                    vec![number(2.0), text("B"), CellData::empty()],
                    vec![number(9.0), text("x"), number(1.0)],
                ],
            )],
            &cancel,
        )
        .await
        .expect("write the tab");
    let server = MariaDb::shared();
    let (database, pool) = prepare(
        server,
        "apply_reconcile",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)",
            "INSERT INTO items VALUES (1, 'a', 5), (2, 'b', NULL), (3, 'c', 7)",
        ],
    )
    .await;
    let mut items = mapping(&database, "items", "Items", ConflictPolicy::LastWriteWins);
    items.spreadsheet_id = spreadsheet.spreadsheet_id.clone();
    let key = |text: &str| RowKey(vec![text.to_string()]);
    let expected_drift = vec![
        Drift::Cell {
            key: key("2"),
            sheet_row: 3,
            column: "name".into(),
            sheet: CellValue::Text("B".into()),
            database: "b".into(),
            database_text: "b".into(),
        },
        Drift::MissingInSheet { key: key("3") },
        Drift::MissingInDatabase {
            key: key("9"),
            sheet_row: 4,
        },
    ];
    let display = SheetDisplay::default();
    let listed = diff(&pool, &sheets, &items, &display).await.expect("diff");
    assert_eq!(listed.drift, expected_drift);
    let table = || async {
        let mut connection = pool.get_conn().await.expect("connect");
        use mysql_async::prelude::Queryable;
        connection
            .query::<(i32, Option<String>, Option<i32>), _>(
                "SELECT id, name, qty FROM items ORDER BY id",
            )
            .await
            .expect("select")
    };
    let before = table().await;

    // Dry run: the same list, nothing written.
    let (sender, mut write_backs) = mpsc::channel(16);
    let target = || RepairTarget {
        origin: "it-reconcile",
        write_back: &sender,
        row_clock: None,
    };
    let (dry, summary) = reconcile(&pool, &sheets, &items, &display, true, target())
        .await
        .expect("dry run");
    assert_eq!((dry.drift, summary.left), (expected_drift.clone(), 3));
    assert!(write_backs.try_recv().is_err());
    assert_eq!(table().await, before);

    // A row the stream changed while reconcile read is left to the stream.
    let clock = RowClock::new(16);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    clock.record(&items.name, &key("2"), now);
    let (_, summary) = reconcile(
        &pool,
        &sheets,
        &items,
        &display,
        false,
        RepairTarget {
            row_clock: Some(&clock),
            ..target()
        },
    )
    .await
    .expect("repair");
    assert_eq!((summary.sheet_writes, summary.changed_meanwhile), (1, 1));
    let only = write_backs.recv().await.expect("write-back");
    assert_eq!((only.key, only.whole_row), (key("3"), true));

    // last-write-wins: the table is the record; the sheet is sent its values.
    let (_, summary) = reconcile(&pool, &sheets, &items, &display, false, target())
        .await
        .expect("repair");
    assert_eq!(
        (summary.sheet_writes, summary.database_rows, summary.left),
        (2, 0, 1)
    );
    let first = write_backs.recv().await.expect("write-back");
    assert_eq!((&first.key, first.whole_row), (&key("2"), false));
    assert_eq!(
        first.cells[0].1.user_entered_value,
        Some(ExtendedValue::StringValue("b".into()))
    );
    let second = write_backs.recv().await.expect("write-back");
    assert_eq!(second.key, key("3"));
    assert_eq!(second.cells.len(), 3, "the whole row");
    assert!(second.whole_row, "appended when the sheet lacks it");
    assert_eq!(table().await, before);

    // sheet-wins: the sheet's cell and row go to the table.
    items.conflict = ConflictPolicy::SheetWins;
    let (_, summary) = reconcile(&pool, &sheets, &items, &display, false, target())
        .await
        .expect("repair");
    assert_eq!((summary.database_rows, summary.left), (2, 0));
    assert_eq!(
        table().await,
        [
            (1, Some("a".into()), Some(5)),
            (2, Some("B".into()), None),
            (3, Some("c".into()), Some(7)),
            (9, Some("x".into()), Some(1)),
        ]
    );
    let (listed, _) = reconcile(&pool, &sheets, &items, &display, true, target())
        .await
        .expect("again");
    assert_eq!(
        listed.drift,
        [Drift::MissingInSheet { key: key("3") }],
        "only the row the writer must append"
    );
}
