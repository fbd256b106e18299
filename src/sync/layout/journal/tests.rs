use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::sync::RowKey;

fn key(id: u32) -> RowKey {
    RowKey(vec![id.to_string()])
}

/// Keys 1, 2, 1 (a copy), blank, 3, 4 under header `id`, `a`.
fn layout() -> TabLayout {
    let ids = vec![
        json!(1),
        json!(2),
        json!(1),
        json!(null),
        json!(3),
        json!(4),
    ];
    TabLayout::from_values(7, "T", 10, 2, &[json!("id"), json!("a")], &[ids])
}

#[test]
fn undo_puts_back_removed_rows_appended_rows_and_header_names() {
    let original = layout();
    let mut changed = original.clone();
    let mark = changed.begin_changes();
    changed.remove_grid_rows(&[1, 5]);
    assert_eq!(changed.row_of(&key(1)), Some(2), "the copy took over");
    changed.add_header_column("b", 2);
    changed.grid_columns = 3;
    changed.push_row(key(9));
    changed.push_row(key(2));
    assert_eq!(changed.rename_column("a", "total").len(), 1);
    changed.grid_rows = 12;
    changed.undo_changes(mark);
    assert_eq!(changed, original);
    assert_eq!(
        changed.row_of(&key(1)),
        Some(1),
        "the first row is the first again"
    );
    assert_eq!(changed.row_of(&key(2)), Some(2));
    assert_eq!(changed.row_of(&key(3)), Some(5));
    assert_eq!(changed.row_of(&key(9)), None);
    assert_eq!(
        (changed.column("a"), changed.column("total")),
        (Some(1), None)
    );
    assert_eq!((changed.column("b"), changed.header_end()), (None, 2));
    assert!(
        changed.journal.is_none(),
        "the mark that opened it closed it"
    );
}

#[test]
fn kept_changes_stay_and_nothing_is_recorded_without_a_mark() {
    let mut changed = layout();
    let mark = changed.begin_changes();
    changed.push_row(key(9));
    changed.keep_changes(mark);
    assert!(changed.journal.is_none());
    changed.push_row(key(10));
    assert!(changed.journal.is_none());
    assert_eq!(
        (changed.row_of(&key(9)), changed.row_of(&key(10))),
        (Some(7), Some(8))
    );
}

#[test]
fn an_inner_undo_keeps_the_outer_changes_and_the_outer_undo_reverts_all() {
    let original = layout();
    let mut changed = original.clone();
    let outer = changed.begin_changes();
    changed.push_row(key(8));
    let after_outer = changed.clone();
    let inner = changed.begin_changes();
    changed.push_row(key(9));
    changed.remove_grid_rows(&[2]);
    changed.undo_changes(inner);
    assert_eq!(changed, after_outer);
    assert!(changed.journal.is_some(), "the outer mark still records");
    let inner = changed.begin_changes();
    changed.push_row(key(10));
    changed.keep_changes(inner);
    changed.undo_changes(outer);
    assert_eq!(changed, original);
    assert_eq!(changed.row_of(&key(10)), None);
}

proptest! {
    #[test]
    fn any_removals_and_appends_undo_to_the_same_lookups(
        ids in prop::collection::vec(prop::option::of(1u32..12), 0..24),
        removed in prop::collection::vec(1u32..30, 0..8),
        appended in prop::collection::vec(1u32..16, 0..6),
        again in prop::collection::vec(1u32..30, 0..4),
    ) {
        let values: Vec<serde_json::Value> =
            ids.iter().map(|id| id.map_or(json!(null), |id| json!(id))).collect();
        let original = TabLayout::from_values(7, "T", 40, 1, &[json!("id")], &[values]);
        let mut changed = original.clone();
        let mark = changed.begin_changes();
        changed.remove_grid_rows(&removed);
        for id in &appended {
            if changed.row_of(&key(*id)).is_none() {
                changed.push_row(key(*id));
            }
        }
        changed.remove_grid_rows(&again);
        changed.undo_changes(mark);
        prop_assert_eq!(&changed, &original);
        for id in 1..16 {
            prop_assert_eq!(changed.row_of(&key(id)), original.row_of(&key(id)), "key {}", id);
        }
    }
}
