use std::sync::Arc;

use super::*;
use crate::apply::columns::ColumnInfo;
use crate::apply::typed::{Date, TimeOfDay};
use crate::sheets::model::ExtendedValue;

fn table(kinds: Vec<ColumnKind>, display: SheetDisplay) -> TableInfo {
    let columns: Vec<ColumnInfo> = kinds
        .into_iter()
        .enumerate()
        .map(|(index, kind)| ColumnInfo {
            name: Arc::from(format!("c{index}").as_str()),
            kind,
            nullable: true,
            column_type: String::new(),
            auto_increment: false,
        })
        .collect();
    TableInfo {
        database: "d".into(),
        table: "t".into(),
        synced: (0..columns.len()).collect(),
        key: vec![0],
        columns,
        display,
    }
}

fn number_of(cell: &CellData) -> f64 {
    match cell.user_entered_value {
        Some(ExtendedValue::NumberValue(number)) => number,
        ref other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn keys_read_back_from_the_sheet_match_keys_from_the_database() {
    let integer = ColumnKind::Integer {
        unsigned: false,
        bits: 64,
        boolean: false,
    };
    let cases = [
        (integer.clone(), Typed::Integer(42), CellValue::Number(42.0)),
        (
            ColumnKind::Text {
                max_characters: None,
                max_bytes: None,
                charset: None,
            },
            Typed::Text("A-7".into()),
            CellValue::Text("A-7".into()),
        ),
        (
            integer,
            Typed::Integer(9_007_199_254_740_993),
            CellValue::Text("9007199254740993".into()),
        ),
        (
            ColumnKind::Decimal {
                precision: 10,
                scale: 2,
            },
            Typed::Decimal("12.5".into()),
            CellValue::Number(12.5),
        ),
        (
            ColumnKind::Date,
            Typed::Date(Date {
                year: 2024,
                month: 2,
                day: 29,
            }),
            CellValue::Number(45351.0),
        ),
    ];
    for (kind, database, sheet) in cases {
        let table = table(vec![kind], SheetDisplay::default());
        assert_eq!(response_value(&table, 0, &database), sheet);
        assert_eq!(
            row_key(&table, std::slice::from_ref(&database)).0,
            [request_key_text(&sheet)]
        );
    }
}

#[test]
fn cells_are_the_writers_dates_as_serials_with_formats_and_decimals_with_their_scale() {
    let table = table(
        vec![
            ColumnKind::DateTime {
                fractional_digits: 0,
            },
            ColumnKind::Decimal {
                precision: 10,
                scale: 2,
            },
            ColumnKind::Year,
            ColumnKind::Bit { width: 3 },
        ],
        SheetDisplay::default(),
    );
    let noon = Typed::DateTime(
        Date {
            year: 2024,
            month: 2,
            day: 29,
        },
        TimeOfDay {
            hour: 12,
            minute: 0,
            second: 0,
            microsecond: 0,
        },
    );
    let cell = database_cell(&table, 0, &noon).expect("a cell");
    assert_eq!(number_of(&cell), 45351.5);
    let format = cell.user_entered_format.expect("a format").number_format;
    assert_eq!(
        format.and_then(|format| format.pattern).as_deref(),
        Some("yyyy-mm-dd hh:mm:ss")
    );
    let price = database_cell(&table, 1, &Typed::Decimal("1.5".into())).expect("a cell");
    assert_eq!(number_of(&price), 1.5);
    let pattern = price
        .user_entered_format
        .and_then(|format| format.number_format)
        .and_then(|format| format.pattern);
    assert_eq!(
        pattern.as_deref(),
        Some("0.00"),
        "the column's scale, as the binlog's text has it"
    );
    assert_eq!(
        number_of(&database_cell(&table, 2, &Typed::Integer(2024)).expect("year")),
        2024.0
    );
    assert_eq!(
        number_of(&database_cell(&table, 3, &Typed::Integer(5)).expect("bit")),
        5.0
    );
    assert_eq!(
        database_cell(&table, 0, &Typed::Null),
        Some(CellData::empty())
    );
}

#[test]
fn a_timestamp_shows_in_the_configured_zone_and_binary_follows_the_binary_mode() {
    let berlin = SheetDisplay {
        time_zone: TimeZone::get("Europe/Berlin").expect("zone"),
        binary: BinaryMode::Skip,
    };
    let table = table(
        vec![
            ColumnKind::Timestamp {
                fractional_digits: 0,
            },
            ColumnKind::Binary,
        ],
        berlin,
    );
    // 1970-01-02 00:00:00 UTC is 01:00 in Berlin: serial 25570 + 1/24.
    let utc = Typed::DateTime(
        Date {
            year: 1970,
            month: 1,
            day: 2,
        },
        TimeOfDay {
            hour: 0,
            minute: 0,
            second: 0,
            microsecond: 0,
        },
    );
    let cell = database_cell(&table, 0, &utc).expect("a cell");
    assert!((number_of(&cell) - (25570.0 + 1.0 / 24.0)).abs() < 1e-9);
    assert_eq!(database_cell(&table, 1, &Typed::Bytes(vec![0xFF])), None);
    let noted = noted_cell(&table, 1, &Typed::Bytes(vec![0xFF]), "why".into());
    assert_eq!(noted.note.as_deref(), Some("why"));
}

#[test]
fn decimal_text_gets_the_columns_scale() {
    assert_eq!(with_scale("12.5", 2), "12.50");
    assert_eq!(with_scale("12", 2), "12.00");
    assert_eq!(with_scale("-0.125", 2), "-0.125");
    assert_eq!(with_scale("7", 0), "7");
}
