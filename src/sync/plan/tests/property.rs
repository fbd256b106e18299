//! The planner against a model of the sheet: random tables, sheets (blank rows, copied rows,
//! stale rows, people's own column, missing header columns, tight grids) and random change
//! sequences (inserts, updates, deletes, key changes, write-backs) flushed at random points.
//! After every flush the requests must apply cleanly, the planned layout must equal a fresh read of
//! the sheet, every table row must be on the sheet with the table's values, and no row may be
//! written that should not be.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::sync::coalesce::Coalescer;
use crate::sync::layout::KeyHash;

/// Synced columns after `id`: text, number, boolean, and one no header starts with.
const VALUE_COLUMNS: [&str; 4] = ["a", "b", "c", "d"];
const MAX_ID: u32 = 24;

type Values = [u8; 4];

fn cell(column: usize, value: u8) -> CellData {
    match column {
        0 => CellData::text(format!("a{value}")),
        1 => CellData::number(f64::from(value)),
        2 => CellData::boolean(value % 2 == 0),
        _ => CellData::text(format!("d{value}")),
    }
}

fn image(id: u32, values: &Values) -> Vec<(Arc<str>, CellData)> {
    let mut cells = vec![(Arc::from("id"), CellData::number(f64::from(id)))];
    for (column, name) in VALUE_COLUMNS.iter().enumerate() {
        cells.push((Arc::from(*name), cell(column, values[column])));
    }
    cells
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u32, Values),
    Update(u32, [Option<u8>; 4]),
    Delete(u32),
    ChangeKey(u32, u32),
    WriteBack(u32, usize, bool),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1..=MAX_ID;
    prop_oneof![
        3 => (id.clone(), any::<Values>()).prop_map(|(id, values)| Op::Insert(id, values)),
        3 => (id.clone(), any::<[Option<u8>; 4]>()).prop_map(|(id, values)| Op::Update(id, values)),
        2 => id.clone().prop_map(Op::Delete),
        1 => (id.clone(), id.clone()).prop_map(|(old, new)| Op::ChangeKey(old, new)),
        1 => (id, 0..4usize, any::<bool>()).prop_map(|(id, column, note)| Op::WriteBack(id, column, note)),
        1 => Just(Op::Flush),
    ]
}

/// Header layouts: people's column `memo` anywhere, synced columns missing, gaps, no header.
const HEADERS: [&[&str]; 4] = [
    &["id", "a", "b", "c", "memo"],
    &["memo", "b", "id", "", "a"],
    &[],
    &["id", "memo", "a", "b", "c", "d"],
];

#[derive(Debug, Clone)]
struct Setup {
    header: usize,
    spare_rows: usize,
    spare_columns: usize,
    table: BTreeMap<u32, Values>,
    /// Sheet rows under the header: a key (maybe not in the table, maybe twice) or a blank row.
    sheet: Vec<(Option<u32>, bool)>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        0..HEADERS.len(),
        0..3usize,
        0..2usize,
        prop::collection::btree_map(1..=MAX_ID, any::<Values>(), 0..16),
        prop::collection::vec(
            (prop::option::weighted(0.8, 1..=MAX_ID), any::<bool>()),
            0..20,
        ),
    )
        .prop_map(|(header, spare_rows, spare_columns, table, sheet)| Setup {
            header,
            spare_rows,
            spare_columns,
            table,
            sheet,
        })
}

/// The starting sheet: keyed rows hold the table's values (stale rows a fixed value), every
/// keyed row and some blank rows carry a marker in `memo`.
fn build_sheet(setup: &Setup) -> Grid {
    let header = HEADERS[setup.header];
    let no_header = header.is_empty();
    let rows = if no_header {
        1
    } else {
        1 + setup.sheet.len() + setup.spare_rows
    };
    let mut grid = Grid::new(SHEET, rows, header.len().max(1) + setup.spare_columns);
    for (column, name) in header.iter().enumerate() {
        if !name.is_empty() {
            grid.set(0, column, ExtendedValue::StringValue(name.to_string()));
        }
    }
    if no_header {
        return grid;
    }
    let column_of = |name: &str| header.iter().position(|header| *header == name);
    for (index, (id, marked)) in setup.sheet.iter().enumerate() {
        let row = index + 1;
        if let Some(id) = id {
            let values = setup.table.get(id).copied().unwrap_or([99; 4]);
            for (name, cell) in image(*id, &values) {
                if let (Some(column), Some(value)) = (column_of(&name), cell.user_entered_value) {
                    grid.set(row, column, value);
                }
            }
        }
        if let (Some(column), true) = (column_of("memo"), id.is_some() || *marked) {
            grid.set(row, column, ExtendedValue::StringValue(format!("m{index}")));
        }
    }
    grid
}

fn key_counts(grid: &Grid) -> HashMap<KeyHash, usize> {
    let layout = grid.read_layout("Orders", &["id"]);
    let mut counts = HashMap::new();
    for row in 1..grid.cells.len() as u32 {
        if let Some(key) = layout.key_at(row) {
            *counts.entry(key).or_default() += 1;
        }
    }
    counts
}

fn markers(grid: &Grid) -> HashMap<String, Option<KeyHash>> {
    let layout = grid.read_layout("Orders", &["id"]);
    let Some(column) = grid.header_column("memo") else {
        return HashMap::new();
    };
    (1..grid.cells.len())
        .filter_map(|row| {
            let marker = grid.text(row, column)?.to_string();
            Some((marker, layout.key_at(row as u32)))
        })
        .collect()
}

struct Run {
    grid: Grid,
    layout: TabLayout,
    table: BTreeMap<u32, Values>,
    coalescer: Coalescer,
    counts: HashMap<KeyHash, usize>,
    keyed_markers: HashMap<String, Option<KeyHash>>,
    blank_markers: Vec<String>,
    /// Per key, the columns whose sheet cell is known to hold the table's value: those in the
    /// starting header, then whatever the batches wrote (a new column is not backfilled).
    known: HashMap<RowKey, HashSet<Arc<str>>>,
    spec: TabSpec,
}

impl Run {
    fn change(&mut self, id: u32, update: RowUpdate) {
        self.coalescer.add(0, key(id), update, Instant::now());
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert(id, values) if !self.table.contains_key(&id) => {
                self.table.insert(id, values);
                let cells = image(id, &values);
                let changed = cells.iter().map(|(name, _)| name.clone()).collect();
                self.change(id, RowUpdate::Upsert { cells, changed });
            }
            Op::Insert(id, values) => self.apply(Op::Update(id, values.map(Some)))?,
            Op::Update(id, new) => {
                let Some(values) = self.table.get_mut(&id) else {
                    return Ok(());
                };
                let mut changed = Vec::new();
                for (column, value) in new.iter().enumerate() {
                    if let Some(value) = value.filter(|value| *value != values[column]) {
                        values[column] = value;
                        changed.push(Arc::from(VALUE_COLUMNS[column]));
                    }
                }
                let cells = image(id, values);
                if !changed.is_empty() {
                    self.change(id, RowUpdate::Upsert { cells, changed });
                }
            }
            Op::Delete(id) => {
                if self.table.remove(&id).is_some() {
                    self.change(id, RowUpdate::Delete);
                }
            }
            Op::ChangeKey(old, new) => {
                if self.table.contains_key(&new) {
                    return Ok(());
                }
                if let Some(values) = self.table.remove(&old) {
                    self.change(old, RowUpdate::Delete);
                    self.apply(Op::Insert(new, values))?;
                }
            }
            Op::WriteBack(id, column, note) => {
                // The webhook writes back the database's value; for a row the table no longer
                // has, whatever it last saw.
                let values = self.table.get(&id).copied().unwrap_or([7; 4]);
                let mut cell = cell(column, values[column]);
                cell.note = Some(if note {
                    "refused".into()
                } else {
                    String::new()
                });
                let cells = vec![(Arc::from(VALUE_COLUMNS[column]), cell)];
                self.change(id, RowUpdate::Cells { cells });
            }
            Op::Flush => self.flush()?,
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TestCaseError> {
        let batch = self.coalescer.take();
        for (key, pending) in batch.tab_rows(0) {
            let count = self.counts.entry(KeyHash::of(key)).or_default();
            let known = self.known.entry(key.clone()).or_default();
            match &pending.update {
                RowUpdate::Delete => {
                    *count = count.saturating_sub(1);
                    known.clear();
                }
                RowUpdate::Upsert { cells, .. } if *count == 0 => {
                    *count = 1;
                    known.extend(cells.iter().map(|(name, _)| name.clone()));
                }
                RowUpdate::Upsert { changed, .. } => known.extend(changed.iter().cloned()),
                RowUpdate::Cells { cells } if *count > 0 => {
                    known.extend(cells.iter().map(|(name, _)| name.clone()))
                }
                RowUpdate::Cells { .. } => {}
            }
        }
        let plan = plan_tab(&mut self.layout, &self.spec, batch.tab_rows(0))
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        self.grid
            .apply(&plan.requests)
            .map_err(TestCaseError::fail)?;
        // Keys, header and grid exactly as a fresh read finds them; new rows never land on a
        // row that holds anything.
        let read_back = self.grid.read_layout("Orders", &["id"]);
        prop_assert_eq!(&self.layout.trimmed(), &read_back);
        prop_assert!(self.layout.used_rows() >= self.grid.used_rows());

        for name in ["id", "a", "b", "c", "d"] {
            prop_assert!(self.layout.column(name).is_some(), "header lacks {}", name);
        }
        for (id, values) in &self.table {
            let Some(known) = self.known.get(&key(*id)).filter(|known| !known.is_empty()) else {
                continue; // On neither the sheet nor in any batch yet.
            };
            let row = self.layout.row_of(&key(*id));
            prop_assert!(row.is_some(), "{} is not in the sheet", id);
            for (name, expected) in image(*id, values) {
                if !known.contains(&name) {
                    continue;
                }
                let column = self.layout.column(&name).unwrap_or(u32::MAX) as usize;
                let actual = &self.grid.cells[row.unwrap_or(0) as usize][column].value;
                prop_assert_eq!(actual, &expected.user_entered_value, "{} of {}", name, id);
            }
        }
        let mut counts = key_counts(&self.grid);
        counts.retain(|_, count| *count > 0);
        self.counts.retain(|_, count| *count > 0);
        prop_assert_eq!(&counts, &self.counts);

        // Rows move only with their key; people's blank rows are never deleted.
        let markers = markers(&self.grid);
        for (marker, key) in &markers {
            if let Some(initial) = self.keyed_markers.get(marker) {
                prop_assert_eq!(key, initial, "row {} changed key", marker);
            }
        }
        for marker in &self.blank_markers {
            prop_assert!(markers.contains_key(marker), "blank row {} is gone", marker);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn layout_after_is_what_the_sheet_holds(setup in setup(), ops in prop::collection::vec(op(), 0..40)) {
        let grid = build_sheet(&setup);
        let markers = markers(&grid);
        let blank_markers = markers.iter().filter(|(_, key)| key.is_none()).map(|(marker, _)| marker.clone()).collect();
        let header: HashSet<Arc<str>> = HEADERS[setup.header].iter().map(|name| Arc::from(*name)).collect();
        let known = setup.sheet.iter().filter_map(|(id, _)| Some((key((*id)?), header.clone()))).collect();
        let mut run = Run {
            known,
            layout: grid.read_layout("Orders", &["id"]).with_used_rows(grid.used_rows()),
            counts: key_counts(&grid),
            keyed_markers: markers.into_iter().filter(|(_, key)| key.is_some()).collect(),
            blank_markers,
            grid,
            table: setup.table.clone(),
            coalescer: Coalescer::new(),
            spec: spec(&["id", "a", "b", "c", "d"]),
        };
        for op in ops {
            run.apply(op)?;
        }
        run.flush()?;
    }
}
