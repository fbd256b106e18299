use std::sync::Arc;

use super::*;

fn column(kind: ColumnKind, column_type: &str, nullable: bool) -> ColumnInfo {
    ColumnInfo {
        name: Arc::from("c"),
        kind,
        nullable,
        column_type: column_type.into(),
        auto_increment: false,
    }
}

fn int(unsigned: bool, bits: u8) -> ColumnInfo {
    column(
        ColumnKind::Integer {
            unsigned,
            bits,
            boolean: false,
        },
        "int",
        true,
    )
}

fn text(limit: u64, bytes: u64, charset: &str) -> ColumnInfo {
    column(
        ColumnKind::Text {
            max_characters: Some(limit),
            max_bytes: Some(bytes),
            charset: Some(charset.into()),
        },
        "varchar",
        false,
    )
}

fn number(value: f64) -> CellValue {
    CellValue::Number(value)
}

fn cell_text(value: &str) -> CellValue {
    CellValue::Text(value.into())
}

#[test]
fn accepted_values_convert_exactly() {
    let decimal = column(
        ColumnKind::Decimal {
            precision: 10,
            scale: 2,
        },
        "decimal(10,2)",
        true,
    );
    let date = column(ColumnKind::Date, "date", true);
    let datetime = column(
        ColumnKind::DateTime {
            fractional_digits: 0,
        },
        "datetime",
        true,
    );
    let enumeration = column(
        ColumnKind::Enum {
            labels: vec!["small".into(), "Large".into()],
        },
        "enum",
        true,
    );
    let set = column(
        ColumnKind::Set {
            labels: vec!["a".into(), "b".into(), "c".into()],
        },
        "set",
        true,
    );
    let boolean = column(
        ColumnKind::Integer {
            unsigned: false,
            bits: 8,
            boolean: true,
        },
        "tinyint(1)",
        true,
    );
    let int32 = int(false, 32);
    let varchar = text(10, 40, "utf8mb4");
    let cases: Vec<(CellValue, &ColumnInfo, Typed)> = vec![
        (number(42.0), &int32, Typed::Integer(42)),
        (cell_text(" -7 "), &int32, Typed::Integer(-7)),
        (cell_text("12.0"), &int32, Typed::Integer(12)),
        (CellValue::Boolean(true), &boolean, Typed::Integer(1)),
        (cell_text("false"), &boolean, Typed::Integer(0)),
        (number(12.5), &decimal, Typed::Decimal("12.5".into())),
        (
            cell_text("0012.50"),
            &decimal,
            Typed::Decimal("12.5".into()),
        ),
        (
            number(46024.0),
            &date,
            Typed::Date(super::super::typed::Date {
                year: 2026,
                month: 1,
                day: 2,
            }),
        ),
        (
            cell_text("2026-01-02"),
            &date,
            Typed::Date(super::super::typed::Date {
                year: 2026,
                month: 1,
                day: 2,
            }),
        ),
        (
            cell_text("large"),
            &enumeration,
            Typed::Text("Large".into()),
        ),
        (cell_text("c, A"), &set, Typed::Text("a,c".into())),
        (CellValue::Empty, &int32, Typed::Null),
        (CellValue::Empty, &varchar, Typed::Text(String::new())),
        (number(3.0), &varchar, Typed::Text("3".into())),
        (cell_text("=1+2"), &varchar, Typed::Text("=1+2".into())),
    ];
    for (cell, column, expected) in cases {
        assert_eq!(
            convert_cell(&cell, column, &TimeZone::UTC),
            Ok(expected),
            "{cell:?} into {column:?}"
        );
    }
    // A serial with a time of day, rounded to the column's whole seconds despite float noise.
    let noon = convert_cell(&number(46024.5 - 1e-9), &datetime, &TimeZone::UTC).expect("datetime");
    assert_eq!(noon.marker_text().as_deref(), Some("2026-01-02 12:00:00"));
}

#[test]
fn refused_values_say_why() {
    let decimal = column(
        ColumnKind::Decimal {
            precision: 5,
            scale: 2,
        },
        "decimal(5,2)",
        true,
    );
    let not_null = column(
        ColumnKind::Integer {
            unsigned: false,
            bits: 32,
            boolean: false,
        },
        "int(11)",
        false,
    );
    let date = column(ColumnKind::Date, "date", true);
    let timestamp = column(
        ColumnKind::Timestamp {
            fractional_digits: 0,
        },
        "timestamp",
        true,
    );
    let utf8mb3 = text(10, 30, "utf8mb3");
    let tiny_text = column(
        ColumnKind::Text {
            max_characters: Some(255),
            max_bytes: Some(255),
            charset: Some("utf8mb4".into()),
        },
        "tinytext",
        true,
    );
    let enumeration = column(
        ColumnKind::Enum {
            labels: vec!["small".into(), "large".into()],
        },
        "enum('small','large')",
        true,
    );
    let json = column(ColumnKind::Json, "json", true);
    let blob = column(ColumnKind::Binary, "blob", true);
    let int32 = int(false, 32);
    let uint8 = int(true, 8);
    let uint32 = int(true, 32);
    let int64 = int(false, 64);
    let varchar = text(10, 40, "utf8mb4");
    let cases: Vec<(CellValue, &ColumnInfo, &str)> = vec![
        (
            cell_text("abc"),
            &int32,
            "\"abc\" is not a whole number; c is int",
        ),
        (number(1.5), &int32, "1.5 is not a whole number"),
        (number(300.0), &uint8, "300 is out of range 0 to 255"),
        (number(-1.0), &uint32, "-1 is out of range 0 to 4294967295"),
        (
            number(1e17),
            &int64,
            "too large for a sheet number to hold exactly",
        ),
        (
            cell_text("12.345"),
            &decimal,
            "12.345 has 3 decimal places; c is decimal(5,2) (at most 2)",
        ),
        (number(1234.0), &decimal, "1234 is too large"),
        (cell_text("1e3"), &decimal, "\"1e3\" is not a number"),
        (
            CellValue::Empty,
            &not_null,
            "an empty cell cannot be stored: c is NOT NULL",
        ),
        (
            cell_text("10000-01-01"),
            &date,
            "10000-01-01 is out of range 1000-01-01 to 9999-12-31",
        ),
        (cell_text("2026-02-30"), &date, "is not a calendar date"),
        (cell_text("tomorrow"), &date, "\"tomorrow\" is not a date"),
        (number(46024.25), &date, "has a time of day"),
        (
            cell_text("2040-01-01 00:00:00"),
            &timestamp,
            "out of range 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC",
        ),
        (
            cell_text("0123456789X"),
            &varchar,
            "11 characters is too long; c is varchar (at most 10)",
        ),
        (
            cell_text("\u{1F600}"),
            &utf8mb3,
            "cannot be stored in c (character set utf8mb3)",
        ),
        (
            cell_text(&"\u{1F600}".repeat(100)),
            &tiny_text,
            "400 bytes is too long",
        ),
        (
            cell_text("medium"),
            &enumeration,
            "\"medium\" is not one of \"small\", \"large\"",
        ),
        (cell_text("{oops"), &json, "is not valid JSON"),
        (cell_text("x"), &blob, "cannot be edited from the sheet"),
    ];
    for (cell, column, expected) in cases {
        match convert_cell(&cell, column, &TimeZone::UTC) {
            Ok(value) => panic!("{cell:?} into {column:?} was accepted as {value:?}"),
            Err(message) => assert!(message.contains(expected), "{message:?} lacks {expected:?}"),
        }
    }
}

#[test]
fn old_values_arrive_as_text_and_compare_by_type() {
    let decimal = column(
        ColumnKind::Decimal {
            precision: 10,
            scale: 2,
        },
        "decimal(10,2)",
        true,
    );
    assert_eq!(
        convert_old_value("10", &decimal, &TimeZone::UTC),
        Ok(Typed::Decimal("10".into()))
    );
    assert_eq!(
        convert_old_value("", &int(false, 32), &TimeZone::UTC),
        Ok(Typed::Null)
    );
    let date = column(ColumnKind::Date, "date", true);
    assert_eq!(
        convert_old_value("46024", &date, &TimeZone::UTC),
        convert_cell(&cell_text("2026-01-02"), &date, &TimeZone::UTC)
    );
}

#[test]
fn no_input_panics() {
    let columns = [
        int(false, 64),
        text(5, 20, "latin1"),
        column(
            ColumnKind::Time {
                fractional_digits: 6,
            },
            "time",
            true,
        ),
        column(ColumnKind::Year, "year", true),
        column(ColumnKind::Bit { width: 64 }, "bit(64)", true),
        column(ColumnKind::Float, "float", true),
    ];
    let inputs = [
        number(f64::MAX),
        number(-f64::MAX),
        number(1e-300),
        cell_text("-"),
        cell_text("::"),
        cell_text("99999999999999999999999999999999999999999999"),
        cell_text("-839:00:00"),
        cell_text("\u{0}"),
    ];
    for column in &columns {
        for input in &inputs {
            let _ = convert_cell(input, column, &TimeZone::UTC);
        }
    }
}

proptest::proptest! {
    #[test]
    fn conversion_never_panics(text in ".{0,40}", number in proptest::num::f64::ANY, digits in 0u32..7) {
        let kinds = vec![
            ColumnKind::Integer { unsigned: true, bits: 8, boolean: false },
            ColumnKind::Integer { unsigned: false, bits: 64, boolean: true },
            ColumnKind::Decimal { precision: 65, scale: 30 },
            ColumnKind::Float,
            ColumnKind::Double,
            ColumnKind::Text { max_characters: Some(10), max_bytes: Some(40), charset: Some("latin1".into()) },
            ColumnKind::Date,
            ColumnKind::DateTime { fractional_digits: digits },
            ColumnKind::Timestamp { fractional_digits: digits },
            ColumnKind::Time { fractional_digits: digits },
            ColumnKind::Year,
            ColumnKind::Enum { labels: vec!["a".into(), "A".into()] },
            ColumnKind::Set { labels: vec!["x".into()] },
            ColumnKind::Bit { width: 64 },
            ColumnKind::Json,
        ];
        for kind in kinds {
            let info = column(kind, "t", false);
            let _ = convert_cell(&CellValue::Text(text.clone()), &info, &TimeZone::UTC);
            if number.is_finite() {
                let _ = convert_cell(&CellValue::Number(number), &info, &TimeZone::UTC);
            }
            let _ = convert_old_value(&text, &info, &TimeZone::UTC);
        }
    }
}

#[test]
fn a_timestamp_is_read_as_wall_clock_time_in_the_configured_zone() {
    let timestamp = column(
        ColumnKind::Timestamp {
            fractional_digits: 0,
        },
        "timestamp",
        true,
    );
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let utc = |text: &str| {
        let (date, time) = text.split_once(' ').expect("date and time");
        let parts: Vec<u32> = date
            .split('-')
            .chain(time.split(':'))
            .map(|part| part.parse().expect("digits"))
            .collect();
        Typed::DateTime(
            super::super::typed::Date {
                year: parts[0] as i32,
                month: parts[1] as u8,
                day: parts[2] as u8,
            },
            super::super::typed::TimeOfDay {
                hour: parts[3] as u8,
                minute: parts[4] as u8,
                second: parts[5] as u8,
                microsecond: 0,
            },
        )
    };
    // 2024-07-01 12:00 in Berlin (summer time, UTC+2), as a serial and as text.
    let noon = 45474.5;
    assert_eq!(
        convert_cell(&number(noon), &timestamp, &berlin),
        Ok(utc("2024-07-01 10:00:00"))
    );
    assert_eq!(
        convert_cell(&cell_text("2024-07-01 12:00:00"), &timestamp, &berlin),
        Ok(utc("2024-07-01 10:00:00"))
    );
    assert_eq!(
        convert_old_value(&noon.to_string(), &timestamp, &berlin),
        Ok(utc("2024-07-01 10:00:00"))
    );
    // The same cell in UTC is taken as typed.
    assert_eq!(
        convert_cell(&number(noon), &timestamp, &TimeZone::UTC),
        Ok(utc("2024-07-01 12:00:00"))
    );
    // 02:30 on 2024-10-27 happens twice in Berlin: the earlier instant (still UTC+2).
    assert_eq!(
        convert_cell(&cell_text("2024-10-27 02:30:00"), &timestamp, &berlin),
        Ok(utc("2024-10-27 00:30:00"))
    );
    // 1970-01-01 00:30 in Berlin is 1969 in UTC: before TIMESTAMP's range.
    let refused = convert_cell(&cell_text("1970-01-01 00:30:00"), &timestamp, &berlin)
        .expect_err("out of range");
    assert!(
        refused.contains("out of range 1970-01-01 00:00:01"),
        "{refused}"
    );
    // A DATETIME is wall-clock time whatever the zone.
    let datetime = column(
        ColumnKind::DateTime {
            fractional_digits: 0,
        },
        "datetime",
        true,
    );
    assert_eq!(
        convert_cell(&number(noon), &datetime, &berlin),
        Ok(utc("2024-07-01 12:00:00"))
    );
}
