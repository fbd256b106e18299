use std::sync::Arc;

use super::*;
use crate::apply::columns::{ColumnInfo, ColumnKind};

fn column(name: &str, kind: ColumnKind) -> ColumnInfo {
    ColumnInfo {
        name: Arc::from(name),
        kind,
        nullable: true,
        column_type: String::new(),
        auto_increment: false,
    }
}

#[test]
fn drift_is_listed_by_kind() {
    let integer = ColumnKind::Integer {
        unsigned: false,
        bits: 32,
        boolean: false,
    };
    let text = ColumnKind::Text {
        max_characters: Some(20),
        max_bytes: Some(80),
        charset: None,
    };
    let table = TableInfo {
        database: "shop".into(),
        table: "orders".into(),
        columns: vec![
            column("id", integer.clone()),
            column("name", text),
            column("qty", integer),
        ],
        key: vec![0],
        synced: vec![0, 1, 2],
        display: Default::default(),
    };
    let mapping: MappingConfig = crate::config::Config::from_toml(
        "[mysql]\nurl = \"mysql://u@h\"\nserver_id = 1\n[[mapping]]\ntable = \"shop.orders\"\nspreadsheet_id = \"s\"\nsheet = \"Orders\"\n",
    )
    .expect("config")
    .mappings
    .remove(0);
    let sheet_row = |number: u32, cells: &[(&str, CellValue)]| SheetRow {
        number,
        cells: cells
            .iter()
            .map(|(name, cell)| (name.to_string(), cell.clone()))
            .collect(),
    };
    let sheet = vec![
        sheet_row(
            2,
            &[
                ("id", CellValue::Number(1.0)),
                ("name", CellValue::Text("a".into())),
                ("qty", CellValue::Number(5.0)),
            ],
        ),
        sheet_row(
            3,
            &[
                ("id", CellValue::Number(2.0)),
                ("name", CellValue::Text("B".into())),
                ("qty", CellValue::Empty),
            ],
        ),
        sheet_row(
            4,
            &[
                ("id", CellValue::Number(9.0)),
                ("name", CellValue::Text("x".into())),
            ],
        ),
        sheet_row(
            5,
            &[
                ("id", CellValue::Empty),
                ("name", CellValue::Text("no key".into())),
            ],
        ),
    ];
    let row = |id: i128, name: &str, qty: Option<i128>| -> BTreeMap<usize, Typed> {
        [
            (0, Typed::Integer(id)),
            (1, Typed::Text(name.into())),
            (2, qty.map(Typed::Integer).unwrap_or(Typed::Null)),
        ]
        .into()
    };
    let database = vec![
        row(1, "a", Some(5)),
        row(2, "b", None),
        row(3, "c", Some(1)),
    ];
    let mut comparison = Comparison::new(&mapping, table, sheet);
    comparison.add(database);
    let diff = comparison.finish().diff;
    let key = |text: &str| RowKey(vec![text.to_string()]);
    assert_eq!((diff.rows_in_sheet, diff.rows_in_database), (3, 3));
    assert_eq!(
        diff.drift,
        [
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
                sheet_row: 4
            },
        ]
    );
}

#[test]
fn dates_compare_as_the_serial_numbers_the_writer_writes() {
    let table = TableInfo {
        database: "shop".into(),
        table: "orders".into(),
        columns: vec![
            column(
                "id",
                ColumnKind::Integer {
                    unsigned: false,
                    bits: 32,
                    boolean: false,
                },
            ),
            column("due", ColumnKind::Date),
            column(
                "price",
                ColumnKind::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
        ],
        key: vec![0],
        synced: vec![0, 1, 2],
        display: Default::default(),
    };
    let mapping: MappingConfig = crate::config::Config::from_toml(
        "[mysql]\nurl = \"mysql://u@h\"\nserver_id = 1\n[[mapping]]\ntable = \"shop.orders\"\nspreadsheet_id = \"s\"\nsheet = \"Orders\"\n",
    )
    .expect("config")
    .mappings
    .remove(0);
    let sheet = vec![SheetRow {
        number: 2,
        cells: [
            ("id".to_string(), CellValue::Number(1.0)),
            ("due".to_string(), CellValue::Number(45351.0)),
            ("price".to_string(), CellValue::Number(1.5)),
        ]
        .into(),
    }];
    let due = crate::apply::typed::Date {
        year: 2024,
        month: 2,
        day: 29,
    };
    let mut comparison = Comparison::new(&mapping, table, sheet);
    comparison.add(vec![[
        (0, Typed::Integer(1)),
        (1, Typed::Date(due)),
        (2, Typed::Decimal("1.5".into())),
    ]
    .into()]);
    assert_eq!(comparison.finish().diff.drift, []);
}
