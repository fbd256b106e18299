use serde_json::json;

use super::*;
use crate::sheets::model::ExtendedValue;
use crate::sync::layout::KeyHash;
use grid::Grid;

mod grid;
mod limits;
mod property;

const SHEET: i64 = 11;

fn key(id: u32) -> RowKey {
    RowKey(vec![id.to_string()])
}

fn spec(columns: &[&str]) -> TabSpec {
    TabSpec {
        title: "Orders".into(),
        key_columns: vec![Arc::from("id")],
        columns: columns.iter().map(|column| Arc::from(*column)).collect(),
    }
}

/// A grid with this header and one row per id (`None` = a blank row), every other cell empty.
fn grid(header: &[&str], ids: &[Option<u32>], rows: usize, columns: usize) -> Grid {
    let mut grid = Grid::new(SHEET, rows, columns);
    for (column, name) in header.iter().enumerate() {
        if !name.is_empty() {
            grid.set(0, column, ExtendedValue::StringValue(name.to_string()));
        }
    }
    if let Some(id_column) = header.iter().position(|name| *name == "id") {
        for (row, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                grid.set(
                    row + 1,
                    id_column,
                    ExtendedValue::NumberValue(f64::from(*id)),
                );
            }
        }
    }
    grid
}

fn upsert(id: u32, cells: &[(&str, CellData)], changed: &[&str]) -> RowUpdate {
    let mut cells: Vec<(Arc<str>, CellData)> = cells
        .iter()
        .map(|(name, cell)| (Arc::from(*name), cell.clone()))
        .collect();
    cells.insert(0, (Arc::from("id"), CellData::number(f64::from(id))));
    RowUpdate::Upsert {
        cells,
        changed: changed.iter().map(|name| Arc::from(*name)).collect(),
    }
}

fn insert(id: u32, cells: &[(&str, CellData)]) -> RowUpdate {
    let mut changed: Vec<&str> = cells.iter().map(|(name, _)| *name).collect();
    changed.push("id");
    upsert(id, cells, &changed)
}

fn noted(value: &str, note: &str) -> CellData {
    let mut cell = CellData::text(value);
    cell.note = Some(note.into());
    cell
}

/// Plans `changes` (arrival = position in the list) against what `grid` holds, applies the
/// requests to it, and checks the layout afterwards is what a fresh read finds.
fn plan_and_apply(grid: &mut Grid, spec: &TabSpec, changes: Vec<(u32, RowUpdate)>) -> Planned {
    let mut layout = grid.read_layout("Orders", &["id"]);
    let rows: std::collections::BTreeMap<RowKey, PendingRow> = (0u64..)
        .zip(changes)
        .map(|(arrival, (id, update))| (key(id), PendingRow::new(update, arrival)))
        .collect();
    let plan = plan_tab(&mut layout, spec, rows.iter()).unwrap();
    grid.apply(&plan.requests).unwrap();
    assert_eq!(layout.trimmed(), grid.read_layout("Orders", &["id"]));
    Planned {
        plan,
        layout_after: layout,
    }
}

/// A plan and the layout it left.
struct Planned {
    plan: TabPlan,
    layout_after: TabLayout,
}

impl std::ops::Deref for Planned {
    type Target = TabPlan;

    fn deref(&self) -> &TabPlan {
        &self.plan
    }
}

fn value(grid: &Grid, row: usize, column: usize) -> Option<ExtendedValue> {
    grid.cells[row][column].value.clone()
}

fn request_json(plan: &TabPlan) -> Vec<serde_json::Value> {
    plan.requests
        .iter()
        .map(|request| serde_json::to_value(request).unwrap())
        .collect()
}

#[test]
fn an_update_writes_only_changed_synced_columns_grouped_by_adjacency() {
    // Column 2 is a person's own column between synced ones.
    let mut sheet = grid(&["id", "a", "memo", "b", "c"], &[Some(1), Some(2)], 10, 5);
    sheet.set(2, 2, ExtendedValue::StringValue("mine".into()));
    let changes = vec![(
        2,
        upsert(
            2,
            &[
                ("a", CellData::text("a2")),
                ("b", CellData::number(2.5)),
                ("c", CellData::boolean(true)),
                ("memo", CellData::text("never written")),
            ],
            &["a", "b", "c", "memo"],
        ),
    )];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a", "b", "c"]), changes);
    assert_eq!(
        request_json(&plan),
        vec![
            json!({"updateCells": {"rows": [{"values": [{"userEnteredValue": {"stringValue": "a2"}}]}],
                "fields": "userEnteredValue,userEnteredFormat.numberFormat",
                "start": {"sheetId": SHEET, "rowIndex": 2, "columnIndex": 1}}}),
            json!({"updateCells": {"rows": [{"values": [
                    {"userEnteredValue": {"numberValue": 2.5}}, {"userEnteredValue": {"boolValue": true}}]}],
                "fields": "userEnteredValue,userEnteredFormat.numberFormat",
                "start": {"sheetId": SHEET, "rowIndex": 2, "columnIndex": 3}}}),
        ]
    );
    assert_eq!(sheet.text(2, 2), Some("mine"));
    assert_eq!((plan.cells_written, plan.rows_appended), (3, 0));
}

#[test]
fn missing_header_columns_go_right_of_the_last_header_cell_and_grow_the_grid() {
    let mut sheet = grid(&["memo", "id", "", "a"], &[Some(1)], 5, 4);
    let changes = vec![(
        1,
        upsert(
            1,
            &[("b", CellData::text("b1")), ("c", CellData::text("c1"))],
            &["b"],
        ),
    )];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a", "b", "c"]), changes);
    let json = request_json(&plan);
    assert_eq!(
        json[0],
        json!({"appendDimension": {"sheetId": SHEET, "dimension": "COLUMNS", "length": 2}})
    );
    assert_eq!(json[1]["updateCells"]["fields"], "userEnteredValue");
    assert_eq!(sheet.text(0, 4), Some("b"));
    assert_eq!(sheet.text(0, 5), Some("c"));
    assert_eq!(sheet.text(1, 4), Some("b1"));
    assert_eq!(value(&sheet, 1, 5), None, "c did not change");
    assert_eq!(plan.layout_after.grid_columns, 6);
    assert_eq!(plan.cells_written, 3);
}

#[test]
fn deletes_go_bottom_up_in_ranges_and_skip_absent_keys() {
    let ids: Vec<Option<u32>> = (1..=8).map(Some).collect();
    let mut sheet = grid(&["id"], &ids, 12, 1);
    let changes = [2, 3, 4, 7, 9].map(|id| (id, RowUpdate::Delete)).to_vec();
    let plan = plan_and_apply(&mut sheet, &spec(&["id"]), changes);
    let ranges: Vec<(u32, u32)> = plan
        .requests
        .iter()
        .map(|request| match request {
            Request::DeleteDimension(delete) => (
                delete.range.start_index.unwrap(),
                delete.range.end_index.unwrap(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ranges, vec![(7, 8), (2, 5)]);
    assert_eq!((plan.rows_deleted, plan.rows_skipped), (4, 1));
    let left: Vec<KeyHash> = plan.layout_after.keys().collect();
    let expected: Vec<KeyHash> = [1, 5, 6, 8].map(|id| KeyHash::of(&key(id))).to_vec();
    assert_eq!(left, expected);
    assert_eq!(plan.layout_after.grid_rows, 8);
}

#[test]
fn new_keys_are_appended_as_whole_rows_in_arrival_order_after_the_last_key() {
    // Row 3 is blank but inside the data; rows 4.. are free; the grid has room for one row.
    let mut sheet = grid(&["id", "memo", "a"], &[Some(1), None, Some(2)], 5, 3);
    sheet.set(2, 1, ExtendedValue::StringValue("a person's draft".into()));
    let changes = vec![
        (30, insert(30, &[("a", CellData::text("thirty"))])),
        (4, upsert(4, &[("a", CellData::text("four"))], &["a"])), // not in the sheet: whole row
        (1, upsert(1, &[("a", CellData::text("one"))], &["a"])),
    ];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a"]), changes);
    let json = request_json(&plan);
    assert_eq!(
        json[1],
        json!({"appendDimension": {"sheetId": SHEET, "dimension": "ROWS", "length": 1}})
    );
    assert_eq!(
        json.len(),
        4,
        "update of 1, grow, one request for both new rows (id and a are not adjacent: two)"
    );
    assert_eq!(plan.layout_after.row_of(&key(30)), Some(4));
    assert_eq!(plan.layout_after.row_of(&key(4)), Some(5));
    assert_eq!(sheet.text(4, 2), Some("thirty"));
    assert_eq!(value(&sheet, 5, 0), Some(ExtendedValue::NumberValue(4.0)));
    assert_eq!(sheet.text(5, 2), Some("four"));
    assert_eq!(sheet.text(1, 2), Some("one"));
    assert_eq!(sheet.text(2, 1), Some("a person's draft"));
    assert_eq!(plan.rows_appended, 2);
}

#[test]
fn a_key_change_leaves_the_new_key_exactly_once() {
    let mut sheet = grid(&["id", "a"], &[Some(1), Some(2), Some(3)], 4, 2);
    let changes = vec![
        (2, RowUpdate::Delete),
        (9, insert(9, &[("a", CellData::text("was two"))])),
    ];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a"]), changes);
    assert_eq!(plan.layout_after.row_of(&key(2)), None);
    assert_eq!(plan.layout_after.row_of(&key(9)), Some(3));
    assert_eq!(plan.layout_after.keys().count(), 3);
    assert_eq!(
        plan.layout_after.grid_rows, 4,
        "the deleted row's space is reused"
    );
    // Replayed after a crash: the new key is there, so it is updated, not appended again.
    let changes = vec![
        (2, RowUpdate::Delete),
        (9, insert(9, &[("a", CellData::text("was two"))])),
    ];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a"]), changes);
    assert_eq!(
        (plan.rows_appended, plan.rows_deleted, plan.rows_skipped),
        (0, 0, 1)
    );
    assert_eq!(plan.layout_after.keys().count(), 3);
}

#[test]
fn write_backs_never_create_rows_and_notes_stay_in_their_own_requests() {
    let mut sheet = grid(&["id", "a", "b", "c"], &[Some(1)], 3, 4);
    sheet.cells[1][3].note = Some("a person's note".into());
    sheet.cells[1][1].note = Some("old reason".into());
    let cells = |pairs: Vec<(&str, CellData)>| RowUpdate::Cells {
        cells: pairs
            .into_iter()
            .map(|(name, cell)| (Arc::from(name), cell))
            .collect(),
    };
    let changes = vec![
        (
            1,
            cells(vec![
                ("a", CellData::text("x")),
                ("b", noted("7", "refused: not a number")),
                ("c", CellData::text("z")),
            ]),
        ),
        (5, cells(vec![("a", noted("x", "never written"))])),
    ];
    let plan = plan_and_apply(&mut sheet, &spec(&["id", "a", "b", "c"]), changes);
    assert_eq!((plan.rows_skipped, plan.rows_appended), (1, 0));
    let fields: Vec<String> = request_json(&plan)
        .iter()
        .map(|r| r["updateCells"]["fields"].to_string())
        .collect();
    assert_eq!(fields.len(), 3, "a | b (with note) | c: {fields:?}");
    assert_eq!(
        sheet.cells[1][2].note.as_deref(),
        Some("refused: not a number")
    );
    assert_eq!(
        sheet.cells[1][3].note.as_deref(),
        Some("a person's note"),
        "not in the mask"
    );
    assert_eq!(sheet.cells[1][1].note.as_deref(), Some("old reason"));
    let changes = vec![(1, cells(vec![("a", noted("x", ""))]))];
    plan_and_apply(&mut sheet, &spec(&["id", "a", "b", "c"]), changes);
    assert_eq!(
        sheet.cells[1][1].note, None,
        "an empty note clears the old one"
    );
}

#[test]
fn deleting_every_data_row_first_adds_a_spare_row() {
    let mut sheet = grid(&["id"], &[Some(1), Some(2)], 3, 1);
    let changes = vec![(1, RowUpdate::Delete), (2, RowUpdate::Delete)];
    let plan = plan_and_apply(&mut sheet, &spec(&["id"]), changes);
    assert!(matches!(plan.requests[0], Request::AppendDimension(_)));
    assert_eq!(plan.layout_after.grid_rows, 2);
    assert_eq!(plan.layout_after.keys().count(), 0);
}

#[test]
fn upserts_with_an_empty_key_are_counted_not_written() {
    let mut layout = TabLayout::empty(SHEET, "Orders", 10, 2);
    let empty = RowKey(vec![String::new()]);
    let row = PendingRow::new(insert(0, &[]), 0);
    let plan = plan_tab(&mut layout, &spec(&["id"]), [(&empty, &row)].into_iter()).unwrap();
    assert_eq!((plan.rows_with_empty_key, plan.rows_appended), (1, 0));
    assert_eq!(plan.requests.len(), 1, "only the header");
}

#[test]
fn plans_of_two_tabs_concatenate_into_one_batch() {
    let mut first = grid(&["id", "a"], &[Some(1)], 2, 2);
    let mut second = Grid::new(SHEET + 1, 1, 1);
    let changes = || {
        vec![
            (1, RowUpdate::Delete),
            (2, insert(2, &[("a", CellData::text("x"))])),
        ]
    };
    let first_plan = plan_and_apply(&mut first, &spec(&["id", "a"]), changes());
    let second_plan = plan_and_apply(&mut second, &spec(&["id", "a"]), changes());
    let sheet_id_of = |request: &Request| {
        let json = serde_json::to_value(request).unwrap();
        let inner = json.as_object().unwrap().values().next().unwrap().clone();
        ["/sheetId", "/range/sheetId", "/start/sheetId"]
            .iter()
            .find_map(|pointer| inner.pointer(pointer).and_then(serde_json::Value::as_i64))
            .unwrap()
    };
    let sheet_ids: std::collections::BTreeSet<i64> = first_plan
        .requests
        .iter()
        .chain(&second_plan.requests)
        .map(sheet_id_of)
        .collect();
    assert_eq!(sheet_ids, [SHEET, SHEET + 1].into());
    assert_eq!(second.text(0, 1), Some("a"));
    assert_eq!(second_plan.layout_after.row_of(&key(2)), Some(1));
}
