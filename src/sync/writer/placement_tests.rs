use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

fn key(id: &str) -> RowKey {
    RowKey(vec![id.to_string()])
}

/// A tab `id | name` whose key column reads `ids` from sheet row 2 ("" = keyless).
fn layout(ids: &[&str]) -> TabLayout {
    let keys = ids.iter().map(|id| json!(id)).collect();
    TabLayout::from_values(0, "People", 100, 2, &[json!("id"), json!("name")], &[keys])
}

fn names(names: &[&str]) -> TypedColumns {
    let mut columns = TypedColumns::new();
    columns.insert(
        Arc::from("name"),
        names.iter().map(|name| name.to_string()).collect(),
    );
    columns
}

fn placement(id: &str, sheet_row: u32, name: Option<&str>) -> Placement {
    Placement {
        tab: 0,
        key: key(id),
        sheet_row,
        typed: name
            .map(|name| vec![(Arc::from("name"), name.to_string())])
            .unwrap_or_default(),
        received: Instant::now(),
    }
}

#[test]
fn placements_go_where_the_typed_row_is_now() {
    use PlacementDecision::{At, InSheet, Nowhere};
    let cases: Vec<(&str, TabLayout, TypedColumns, Placement, PlacementDecision)> = vec![
        (
            "the script wrote the key already: done",
            layout(&["1", "9", "2"]),
            names(&["ada", "new", "grace"]),
            placement("9", 3, Some("new")),
            InSheet,
        ),
        (
            "the row is where the person typed it",
            layout(&["1", "2"]),
            names(&["ada", "grace", "new"]),
            placement("9", 4, Some("new")),
            At(3),
        ),
        (
            "a row above was deleted: the typed row moved up one",
            layout(&["2"]),
            names(&["grace", "new"]),
            placement("9", 4, Some("new")),
            At(2),
        ),
        (
            "a row was inserted above: it moved down one",
            layout(&["", "1", "2"]),
            names(&["", "ada", "grace", "new"]),
            placement("9", 4, Some("new")),
            At(4),
        ),
        (
            "two keyless rows hold the same cells: the nearest, the upper one on a tie",
            layout(&["1", "", "2", ""]),
            names(&["ada", "new", "grace", "new"]),
            placement("9", 4, Some("new")),
            At(2),
        ),
        (
            "a keyed row holding the same cells is not a candidate",
            layout(&["1", "5", "2"]),
            names(&["ada", "new", "grace", "new"]),
            placement("9", 3, Some("new")),
            At(4),
        ),
        (
            "no row holds the typed cells (changed since): the named row, keyless",
            layout(&["1", "2"]),
            names(&["ada", "grace", "renamed"]),
            placement("9", 4, Some("new")),
            At(3),
        ),
        (
            "… but not when another key holds it: appended instead",
            layout(&["1", "2", "3"]),
            names(&["ada", "grace", "carl"]),
            placement("9", 4, Some("new")),
            Nowhere,
        ),
        (
            "nothing typed to compare: the named row",
            layout(&["1"]),
            names(&["ada"]),
            placement("9", 3, None),
            At(2),
        ),
        (
            "a typed column the tab does not show: the named row",
            layout(&["1"]),
            TypedColumns::new(),
            placement("9", 3, Some("new")),
            At(2),
        ),
        (
            "the header row is never a place",
            layout(&[]),
            names(&[]),
            placement("9", 1, Some("new")),
            Nowhere,
        ),
    ];
    for (case, layout, typed_columns, placement, expected) in cases {
        assert_eq!(
            decide(&layout, &placement, &typed_columns),
            expected,
            "{case}"
        );
    }
}

#[test]
fn old_placements_expire_and_the_count_is_capped() {
    let now = Instant::now();
    let mut old = placement("1", 2, None);
    old.received = now
        .checked_sub(PLACEMENT_TTL + Duration::from_secs(1))
        .unwrap_or(now);
    let mut placements = vec![old.clone(), placement("2", 3, None)];
    expire(&mut placements, now);
    if old.received < now {
        assert_eq!(placements.len(), 1);
        assert_eq!(placements[0].key, key("2"));
    }
    let mut many: Vec<Placement> = (0..MAX_PLACEMENTS + 5)
        .map(|index| placement(&index.to_string(), 2, None))
        .collect();
    expire(&mut many, now);
    assert_eq!(many.len(), MAX_PLACEMENTS);
    assert_eq!(many[0].key, key("5"), "the oldest go first");
}
