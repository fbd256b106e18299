//! Google's cell limit, and what planning costs on a tab near it.

use serde_json::json;

use super::*;

#[test]
fn a_batch_that_would_exceed_the_cell_limit_is_refused_whole() {
    // 10 rows × 1,000,000 columns: exactly Google's limit, with room for one more key.
    let ids: Vec<serde_json::Value> = (1..=8).map(|id| json!(id)).collect();
    let layout = TabLayout::from_values(SHEET, "Orders", 10, 1_000_000, &[json!("id")], &[ids]);
    let spec = spec(&["id"]);
    let plan_rows = |changes: Vec<(u32, RowUpdate)>| {
        let rows: Vec<(RowKey, PendingRow)> = (0u64..)
            .zip(changes)
            .map(|(arrival, (id, update))| (key(id), PendingRow::new(update, arrival)))
            .collect();
        let mut planned = layout.clone();
        let plan = plan_tab(
            &mut planned,
            &spec,
            rows.iter().map(|(key, row)| (key, row)),
        );
        if plan.is_err() {
            assert_eq!(
                planned, layout,
                "a refused batch leaves the layout as it was"
            );
        }
        plan
    };

    let one_more = plan_rows(vec![(9, insert(9, &[]))]).unwrap();
    assert_eq!(one_more.peak_cells, MAX_CELLS_PER_TAB);

    let error = plan_rows(vec![(9, insert(9, &[])), (10, insert(10, &[]))]).unwrap_err();
    assert_eq!(
        error,
        PlanError::TooLarge {
            title: "Orders".into(),
            rows: 11,
            columns: 1_000_000,
            cells: 11_000_000,
            limit: MAX_CELLS_PER_TAB
        }
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("at most 10000000"), "{error}");

    // Deletes go first, so a delete and two inserts stay within the limit at every step.
    let changes = vec![
        (5, RowUpdate::Delete),
        (9, insert(9, &[])),
        (10, insert(10, &[])),
    ];
    assert_eq!(plan_rows(changes).unwrap().peak_cells, MAX_CELLS_PER_TAB);

    // A new synced column needs an 11th grid column on a full 1,000,000 × 10 tab.
    let mut header: Vec<serde_json::Value> =
        (0..10).map(|column| json!(format!("c{column}"))).collect();
    header[0] = json!("id");
    let full = TabLayout::from_values(SHEET, "Orders", 1_000_000, 10, &header, &[]);
    let mut planned = full.clone();
    let error = plan_tab(
        &mut planned,
        &self::spec(&["id", "total"]),
        std::iter::empty(),
    )
    .unwrap_err();
    assert_eq!(planned, full, "the header column is not added");
    assert!(
        matches!(
            error,
            PlanError::TooLarge {
                rows: 1_000_000,
                columns: 11,
                cells: 11_000_000,
                ..
            }
        ),
        "{error:?}"
    );
}

/// Cost of planning against a large tab (in place; a clone is what it would cost otherwise):
/// `cargo test --lib plan_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn plan_cost_for_a_large_tab() {
    let ids: Vec<serde_json::Value> = (1..=1_000_000).map(|id| json!(id)).collect();
    let started = std::time::Instant::now();
    let mut layout = TabLayout::from_values(SHEET, "Orders", 1_000_001, 5, &[json!("id")], &[ids]);
    let read = started.elapsed();
    let rows = [(key(7), PendingRow::new(insert(7, &[]), 0))];
    let started = std::time::Instant::now();
    plan_tab(
        &mut layout,
        &spec(&["id"]),
        rows.iter().map(|(key, row)| (key, row)),
    )
    .unwrap();
    let planned = started.elapsed();
    let started = std::time::Instant::now();
    let copy = layout.clone();
    let cloned = started.elapsed();
    assert_eq!(copy, layout);
    println!("1,000,000 keys: layout read in {read:?}, one update planned in {planned:?} (clone {cloned:?})");
}

#[test]
fn tabs_of_one_spreadsheet_share_the_cell_limit() {
    // Each tab's cells, and the (tabs, cells) of the refusal when the sum is over the limit.
    type Case = (Vec<u64>, Option<(usize, u64)>);
    let cases: Vec<Case> = vec![
        (vec![], None),
        (vec![MAX_CELLS_PER_TAB], None),
        (vec![6_000_000, 4_000_000], None),
        (vec![6_000_000, 4_000_001], Some((2, 10_000_001))),
        (vec![1, 2, MAX_CELLS_PER_TAB], Some((3, 10_000_003))),
        (vec![u64::MAX, 1], Some((2, u64::MAX))),
    ];
    for (tabs, refused) in cases {
        let result = check_spreadsheet_cells(tabs.clone());
        match refused {
            None => assert_eq!(result, Ok(()), "{tabs:?}"),
            Some((count, cells)) => {
                let error = result.expect_err("over the limit");
                assert_eq!(
                    error,
                    PlanError::SpreadsheetTooLarge {
                        tabs: count,
                        cells,
                        limit: MAX_CELLS_PER_TAB
                    }
                );
                assert!(!error.is_transient());
                assert!(error.to_string().contains("another spreadsheet"), "{error}");
            }
        }
    }
}
