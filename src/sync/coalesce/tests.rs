use std::time::{Duration, Instant};

use super::*;
use crate::sheets::model::CellData;

fn name(text: &str) -> Arc<str> {
    Arc::from(text)
}

fn cells(pairs: &[(&str, &str)]) -> Vec<(Arc<str>, CellData)> {
    pairs
        .iter()
        .map(|(column, value)| (name(column), CellData::text(*value)))
        .collect()
}

fn noted(column: &str, value: &str, note: &str) -> (Arc<str>, CellData) {
    let mut cell = CellData::text(value);
    cell.note = Some(note.to_string());
    (name(column), cell)
}

fn upsert(pairs: &[(&str, &str)], changed: &[&str]) -> RowUpdate {
    RowUpdate::Upsert {
        cells: cells(pairs),
        changed: changed.iter().map(|column| name(column)).collect(),
    }
}

fn write_back(cells: Vec<(Arc<str>, CellData)>) -> RowUpdate {
    RowUpdate::Cells { cells }
}

/// Order-insensitive comparison: column order inside a row does not matter to the planner.
fn normalized(update: RowUpdate) -> RowUpdate {
    match update {
        RowUpdate::Upsert {
            mut cells,
            mut changed,
        } => {
            cells.sort_by(|a, b| a.0.cmp(&b.0));
            changed.sort();
            RowUpdate::Upsert { cells, changed }
        }
        RowUpdate::Cells { mut cells } => {
            cells.sort_by(|a, b| a.0.cmp(&b.0));
            RowUpdate::Cells { cells }
        }
        RowUpdate::Delete => RowUpdate::Delete,
    }
}

#[test]
fn merge_rules() {
    let mut revert_b = cells(&[("id", "1"), ("a", "x2")]);
    revert_b.push(noted("b", "y1", "refused: not a number"));
    let cases: Vec<(&str, RowUpdate, RowUpdate, RowUpdate)> = vec![
        (
            "upsert after upsert: later cells win, changed = union",
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y1")], &["a"]),
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y2")], &["b"]),
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y2")], &["a", "b"]),
        ),
        (
            "upsert after upsert: the same column changed twice keeps the later value",
            upsert(&[("id", "1"), ("a", "x1")], &["a"]),
            upsert(&[("id", "1"), ("a", "x2")], &["a"]),
            upsert(&[("id", "1"), ("a", "x2")], &["a"]),
        ),
        (
            "delete after upsert: delete (not dropped: the row may be in the sheet)",
            upsert(&[("id", "1"), ("a", "x1")], &["id", "a"]),
            RowUpdate::Delete,
            RowUpdate::Delete,
        ),
        (
            "upsert after delete: the whole row is written",
            RowUpdate::Delete,
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y1")], &["a"]),
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y1")], &["id", "a", "b"]),
        ),
        (
            "cells after upsert: merged into the upsert, note kept",
            upsert(&[("id", "1"), ("a", "x1"), ("b", "y1")], &["a"]),
            write_back(vec![noted("b", "y0", "refused")]),
            RowUpdate::Upsert {
                cells: vec![
                    (name("id"), CellData::text("1")),
                    (name("a"), CellData::text("x1")),
                    noted("b", "y0", "refused"),
                ],
                changed: vec![name("a"), name("b")],
            },
        ),
        (
            "upsert after cells: upsert wins its columns, notes kept on the others",
            write_back(vec![
                noted("a", "x0", "conflict: database won"),
                noted("b", "y0", "refused: not a number"),
            ]),
            upsert(&[("id", "1"), ("a", "x2"), ("b", "y1")], &["a"]),
            RowUpdate::Upsert {
                cells: revert_b,
                changed: vec![name("a"), name("b")],
            },
        ),
        (
            "cells after cells: later cells win cell by cell",
            write_back(vec![noted("a", "x0", "one"), noted("b", "y0", "two")]),
            write_back(vec![noted("b", "y1", "three")]),
            write_back(vec![noted("a", "x0", "one"), noted("b", "y1", "three")]),
        ),
        (
            "cells after delete: delete",
            RowUpdate::Delete,
            write_back(cells(&[("a", "x0")])),
            RowUpdate::Delete,
        ),
        (
            "delete after cells: delete",
            write_back(cells(&[("a", "x0")])),
            RowUpdate::Delete,
            RowUpdate::Delete,
        ),
        (
            "upsert after upsert: a note of an earlier write-back survives a later change elsewhere",
            RowUpdate::Upsert {
                cells: vec![(name("id"), CellData::text("1")), noted("a", "x0", "refused")],
                changed: vec![name("a")],
            },
            upsert(&[("id", "1"), ("a", "x0"), ("b", "y5")], &["b"]),
            RowUpdate::Upsert {
                cells: vec![
                    (name("id"), CellData::text("1")),
                    noted("a", "x0", "refused"),
                    (name("b"), CellData::text("y5")),
                ],
                changed: vec![name("a"), name("b")],
            },
        ),
    ];
    for (case, earlier, later, expected) in cases {
        assert_eq!(
            normalized(merge(earlier, later)),
            normalized(expected),
            "{case}"
        );
    }
}

#[test]
fn a_hot_row_costs_one_row() {
    let start = Instant::now();
    let mut coalescer = Coalescer::new();
    let key = RowKey(vec!["7".into()]);
    coalescer.add(
        0,
        key.clone(),
        upsert(&[("id", "7"), ("n", "0")], &["id", "n"]),
        start,
    );
    let one_row = coalescer.estimated_bytes();
    for round in 1..=10_000u32 {
        let value = round.to_string();
        let update = upsert(&[("id", "7"), ("n", &value)], &["n"]);
        coalescer.add(
            0,
            key.clone(),
            update,
            start + Duration::from_micros(round.into()),
        );
    }
    assert_eq!(coalescer.rows(), 1);
    // The insert stays whole (priced as an appended row) and "10000" is longer than "0".
    assert!(
        coalescer.estimated_bytes() <= one_row + 10,
        "{}",
        coalescer.estimated_bytes()
    );
    assert_eq!(coalescer.oldest(), Some(start));
    assert_eq!(
        coalescer.newest(),
        Some(start + Duration::from_micros(10_000))
    );
    let batch = coalescer.take();
    assert_eq!(batch.changes, 10_001);
    assert_eq!(batch.changes_merged, 10_000);
    assert_eq!(
        normalized(batch.rows[&(0, key)].update.clone()),
        normalized(upsert(&[("id", "7"), ("n", "10000")], &["id", "n"]))
    );
}

#[test]
fn take_empties_the_rows_and_keeps_the_position_as_baseline() {
    let now = Instant::now();
    let mut coalescer = Coalescer::new();
    assert!(coalescer.is_empty());
    let position: BinlogPosition = "0-1-17".parse().unwrap();
    coalescer.set_position(position.clone());
    assert!(coalescer.is_empty(), "a position alone is not a row change");
    coalescer.add(1, RowKey(vec!["b".into()]), RowUpdate::Delete, now);
    coalescer.add(0, RowKey(vec!["z".into()]), RowUpdate::Delete, now);
    coalescer.add(1, RowKey(vec!["a".into()]), RowUpdate::Delete, now);
    assert!(!coalescer.is_empty());
    assert!(coalescer.estimated_bytes() > 0);
    let batch = coalescer.take();
    assert_eq!(batch.position.as_ref(), Some(&position));
    assert_eq!(coalescer.position(), Some(&position));
    assert!(coalescer.is_empty());
    assert_eq!(coalescer.estimated_bytes(), 0);
    assert_eq!((coalescer.oldest(), coalescer.newest()), (None, None));
    let tab_one: Vec<(&RowKey, u64)> = batch
        .tab_rows(1)
        .map(|(key, row)| (key, row.arrival))
        .collect();
    assert_eq!(
        tab_one,
        vec![
            (&RowKey(vec!["a".into()]), 2),
            (&RowKey(vec!["b".into()]), 0)
        ]
    );
    assert_eq!(batch.tab_rows(0).count(), 1);
    assert_eq!(batch.tab_rows(2).count(), 0);
    assert_eq!(coalescer.take().changes, 0);
}

mod flush;
mod size;

#[test]
fn take_at_most_splits_a_large_batch_and_keeps_the_position_for_the_last_part() {
    use crate::sheets::model::CellData;
    let mut coalescer = Coalescer::new();
    let now = std::time::Instant::now();
    for id in 0..100 {
        let cells = vec![(
            std::sync::Arc::<str>::from("v"),
            CellData::text("x".repeat(100)),
        )];
        let changed = vec![std::sync::Arc::<str>::from("v")];
        coalescer.add(
            0,
            RowKey(vec![format!("{id:03}")]),
            RowUpdate::Upsert { cells, changed },
            now,
        );
    }
    coalescer.set_position("0-1-9".parse().expect("position"));
    let total = coalescer.estimated_bytes();
    let limit = total / 3;
    let mut parts = Vec::new();
    while !coalescer.is_empty() {
        parts.push(coalescer.take_at_most(limit, |_, _| None));
    }
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let rows: usize = parts.iter().map(|part| part.rows.len()).sum();
    assert_eq!(rows, 100, "every row taken once");
    for part in &parts[..parts.len() - 1] {
        assert!(
            part.position.is_none(),
            "a partial batch must not move the checkpoint"
        );
        let bytes: usize = part.rows.values().map(|row| row.estimated_bytes()).sum();
        assert!(bytes <= limit, "{bytes} > {limit}");
    }
    assert_eq!(
        parts.last().and_then(|part| part.position.clone()),
        Some("0-1-9".parse().expect("position"))
    );
    assert_eq!(coalescer.estimated_bytes(), 0);
}

#[test]
fn take_at_most_prices_rows_against_the_sheet() {
    let now = std::time::Instant::now();
    let fill = |coalescer: &mut Coalescer| {
        for id in 0..100u32 {
            let cells = vec![(std::sync::Arc::<str>::from("v"), CellData::number(1.0))];
            let changed = vec![std::sync::Arc::<str>::from("v")];
            let key = RowKey(vec![format!("{id:03}")]);
            coalescer.add(0, key, RowUpdate::Upsert { cells, changed }, now);
        }
    };
    let grid_row = |spacing: u32| {
        move |_: TabIndex, key: &RowKey| key.0[0].parse::<u32>().ok().map(|id| 1 + id * spacing)
    };
    let mut consecutive = Coalescer::new();
    fill(&mut consecutive);
    let limit = consecutive.estimated_bytes();
    // Consecutive grid rows share one request: all of them fit in the optimistic estimate
    // (one request's overhead aside).
    let together = consecutive.priced_bytes(grid_row(1));
    assert!(together < limit + 200, "{together} vs {limit}");

    let mut scattered = Coalescer::new();
    fill(&mut scattered);
    let apart = scattered.priced_bytes(grid_row(2));
    assert!(
        apart > 3 * limit,
        "every scattered row pays for its own request: {apart} vs {limit}"
    );
    let batch = scattered.take_at_most(limit, grid_row(2));
    let per_row = apart / 100;
    assert_eq!(
        batch.rows.len(),
        limit / per_row,
        "{limit} bytes at {per_row} a row"
    );
    assert!(batch.position.is_none());
    assert!(scattered.estimated_bytes() > 0);
}
