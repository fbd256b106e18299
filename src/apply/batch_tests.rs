//! Unit tests of the group commit's pure parts (the database parts: tests/it/apply_batch.rs).

use super::*;
use crate::apply::marker::{MarkedRow, Marker, Operation};

fn marked(table: &str, id: &str) -> MarkedRow {
    MarkedRow {
        table: table.into(),
        key: vec![("id".into(), id.into())],
        operation: Operation::Update,
        columns: Default::default(),
        sheet_row: None,
    }
}

fn outcome(rows: Vec<MarkedRow>) -> EditOutcome {
    EditOutcome {
        marker: Marker { version: 1, rows },
        ..EditOutcome::default()
    }
}

#[test]
fn a_group_may_not_mark_one_row_from_two_messages() {
    assert!(distinct_rows(&[
        outcome(vec![marked("d.t", "1"), marked("d.t", "1")]),
        outcome(vec![marked("d.t", "2")]),
    ]));
    assert!(!distinct_rows(&[
        outcome(vec![marked("d.t", "1")]),
        outcome(vec![marked("d.t", "1")])
    ]));
    assert!(distinct_rows(&[
        outcome(vec![marked("d.t", "1")]),
        outcome(vec![marked("d.u", "1")])
    ]));
}

#[test]
fn padding_keeps_every_key_and_rounds_up_to_a_power_of_two() {
    let keys = |count: i128| -> Vec<Vec<Typed>> {
        (0..count).map(|id| vec![Typed::Integer(id)]).collect()
    };
    for count in [1, 2, 3, 5, 8, 9, 64, 200] {
        let padded = padded(keys(count));
        assert_eq!(padded.len(), (count as usize).next_power_of_two());
        assert_eq!(padded[..count as usize], keys(count)[..]);
    }
    assert_eq!(padded(keys(300)).len(), 300, "beyond 256 keys as they are");
    assert!(padded(Vec::<Vec<Typed>>::new()).is_empty());
}
