//! The size estimate against the real thing: the planned requests serialized with serde_json.
//! Prints request counts and bytes (`cargo test --lib size_estimate -- --nocapture`).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::super::{Coalescer, RowUpdate};
use crate::sheets::model::{CellData, NumberFormat, NumberFormatType};
use crate::sync::layout::TabLayout;
use crate::sync::plan::{plan_tab, TabSpec};
use crate::sync::RowKey;

const COLUMNS: [&str; 6] = ["id", "name", "email", "amount", "created", "active"];
const SHEET_ID: i64 = 1_234_567_890;

fn spec() -> TabSpec {
    TabSpec {
        title: "Orders".into(),
        key_columns: vec![Arc::from("id")],
        columns: COLUMNS.iter().map(|column| Arc::from(*column)).collect(),
    }
}

/// A tab holding ids 1..=rows.
fn layout(rows: u32) -> TabLayout {
    let header: Vec<_> = COLUMNS.iter().map(|column| json!(column)).collect();
    let ids = (1..=rows).map(|id| json!(id)).collect();
    TabLayout::from_values(SHEET_ID, "Orders", rows + 1, 26, &header, &[ids])
}

fn row(id: u32, version: u32) -> Vec<(Arc<str>, CellData)> {
    let date = NumberFormat {
        format_type: NumberFormatType::DateTime,
        pattern: Some("yyyy-mm-dd hh:mm:ss".into()),
    };
    let values = vec![
        CellData::number(id.into()),
        CellData::text(format!("Customer {id} v{version}")),
        CellData::text(format!("customer{id}@example.com")),
        CellData::number(f64::from(id) * 1.25 + f64::from(version)),
        CellData::number(45_000.5 + f64::from(id)).with_number_format(date),
        CellData::boolean(id % 2 == 0),
    ];
    COLUMNS
        .iter()
        .map(|column| Arc::from(*column))
        .zip(values)
        .collect()
}

fn key(id: u32) -> RowKey {
    RowKey(vec![id.to_string()])
}

fn all_but_id() -> Vec<Arc<str>> {
    COLUMNS[1..]
        .iter()
        .map(|column| Arc::from(*column))
        .collect()
}

/// Plans what the coalescer holds and compares the estimate with the serialized requests.
fn measure(case: &str, coalescer: &mut Coalescer, layout: &TabLayout) -> (f64, usize) {
    let estimate = coalescer.priced_bytes(|_, key| layout.row_of(key));
    let batch = coalescer.take();
    let plan = plan_tab(&mut layout.clone(), &spec(), batch.tab_rows(0)).unwrap();
    let actual = serde_json::to_vec(&plan.requests).unwrap().len();
    let ratio = estimate as f64 / actual as f64;
    println!(
        "{case}: {} rows, {} requests, {actual} bytes ({:.0} bytes/row), estimate {estimate} ({ratio:.2}×)",
        batch.rows.len(),
        plan.requests.len(),
        actual as f64 / batch.rows.len() as f64,
    );
    (ratio, plan.requests.len())
}

#[test]
fn size_estimate_matches_the_planned_requests() {
    let now = Instant::now();
    let mut coalescer = Coalescer::new();
    let within = |ratio: f64| (0.8..=1.2).contains(&ratio);

    for id in 1..=10_000 {
        let update = RowUpdate::Upsert {
            cells: row(id, 0),
            changed: COLUMNS.iter().map(|c| Arc::from(*c)).collect(),
        };
        coalescer.add(0, key(id), update, now);
    }
    let (ratio, requests) = measure("10,000 inserts (appended)", &mut coalescer, &layout(0));
    assert!(within(ratio), "{ratio}");
    assert_eq!(requests, 2, "appendDimension + one updateCells");

    let sheet = layout(20_000);
    for id in (2..=20_000).step_by(2) {
        let update = RowUpdate::Upsert {
            cells: row(id, 1),
            changed: all_but_id(),
        };
        coalescer.add(0, key(id), update, now);
    }
    let (ratio, requests) = measure(
        "10,000 updates of 5 columns, scattered rows",
        &mut coalescer,
        &sheet,
    );
    assert!(within(ratio), "{ratio}");
    assert_eq!(requests, 10_000);

    for id in 1..=10_000 {
        let update = RowUpdate::Upsert {
            cells: row(id, 1),
            changed: all_but_id(),
        };
        coalescer.add(0, key(id), update, now);
    }
    let (ratio, requests) = measure(
        "10,000 updates of 5 columns, consecutive rows",
        &mut coalescer,
        &sheet,
    );
    // One shared request, and priced so: the grid rows are neighbours.
    assert!(within(ratio), "{ratio}");
    assert_eq!(requests, 1);

    for id in 1..=10_000 {
        for version in 0..10 {
            let update = RowUpdate::Upsert {
                cells: row(id, version),
                changed: all_but_id(),
            };
            coalescer.add(0, key(id * 2), update, now);
        }
    }
    let (ratio, _) = measure("100,000 changes to 10,000 hot rows", &mut coalescer, &sheet);
    assert!(within(ratio), "{ratio}");

    for id in (2..=20_000).step_by(2) {
        coalescer.add(0, key(id), RowUpdate::Delete, now);
    }
    let (ratio, _) = measure("10,000 deletes, scattered rows", &mut coalescer, &sheet);
    assert!(within(ratio), "{ratio}");

    for id in (2..=20_000).step_by(20) {
        let mut cell = CellData::number(12.5);
        cell.note =
            Some("refused: \"abc\" is not a number (column amount is DECIMAL(10,2))".into());
        let cells = vec![(Arc::from("amount"), cell)];
        coalescer.add(0, key(id), RowUpdate::Cells { cells }, now);
    }
    let (ratio, _) = measure("1,000 write-backs with a note", &mut coalescer, &sheet);
    assert!(within(ratio), "{ratio}");
}
