//! Table tests for the date and time rows of `docs/type-mapping.md`. Expected serial numbers
//! were computed independently (Python's `datetime`), not with jiff.

use super::tests::{
    at, berlin, convert, date_time, number_of, pattern_of, timestamp_value, utc, Expected,
};
use super::*;

#[test]
fn dates_and_datetimes_are_serial_numbers_with_a_date_format() {
    let date = |year, month, day| Value::Date { year, month, day };
    let cases: Vec<(Value, Option<ColumnType>, Expected)> = vec![
        (date(2024, 2, 29), None, Ok((45351.0, "yyyy-mm-dd"))),
        (date(1899, 12, 30), None, Ok((0.0, "yyyy-mm-dd"))),
        (date(1900, 3, 1), None, Ok((61.0, "yyyy-mm-dd"))),
        (date(1000, 1, 1), None, Ok((-328716.0, "yyyy-mm-dd"))),
        (date(0, 0, 0), None, Err("0000-00-00")),
        (date(2024, 0, 15), None, Err("2024-00-15")),
        (
            date_time([2024, 2, 29, 12, 0, 0], 0),
            None,
            Ok((45351.5, "yyyy-mm-dd hh:mm:ss")),
        ),
        (
            date_time([2024, 2, 29, 23, 59, 59], 999_999),
            None,
            Ok((at(45351, [23, 59, 59], 999_999), "yyyy-mm-dd hh:mm:ss.000")),
        ),
        (
            date_time([2024, 2, 29, 12, 0, 0], 0),
            Some(ColumnType::DateTime {
                fractional_digits: 6,
            }),
            Ok((45351.5, "yyyy-mm-dd hh:mm:ss.000")),
        ),
        (
            date_time([0, 0, 0, 0, 0, 0], 0),
            None,
            Err("0000-00-00 00:00:00"),
        ),
        (
            date_time([0, 0, 0, 0, 0, 0], 0),
            Some(ColumnType::DateTime {
                fractional_digits: 3,
            }),
            Err("0000-00-00 00:00:00.000"),
        ),
    ];
    for (value, column, expected) in cases {
        let converted = match &column {
            Some(column) => to_column_cell(&value, column, &utc()),
            None => to_cell(&value, &utc()),
        }
        .expect("written");
        match expected {
            Ok((serial, pattern)) => {
                assert_eq!(number_of(&converted.cell), serial, "{value}");
                let (format_type, actual) = pattern_of(&converted.cell).expect("format");
                assert_eq!(actual, pattern, "{value}");
                let wanted_type = if pattern.contains("hh") {
                    NumberFormatType::DateTime
                } else {
                    NumberFormatType::Date
                };
                assert_eq!(format_type, wanted_type, "{value}");
            }
            Err(text) => assert_eq!(converted.cell, CellData::text(text), "{value}"),
        }
    }
}

/// A double has 52 fraction bits: microseconds are exact while |serial| < 2^16 days (years
/// 1720–2079); at 9999-12-31 a step is about 40 µs. `docs/type-mapping.md` says so.
#[test]
fn microseconds_survive_the_serial_number() {
    let cases = [
        ((1970u16, 1u16, 1u16), 25569i64, 0i64),
        ((2024, 2, 29), 45351, 0),
        ((2079, 6, 4), 65535, 0),
        ((9999, 12, 31), 2958465, 40),
    ];
    for ((year, month, day), days, tolerance) in cases {
        for microsecond in [1, 7, 123_456, 500_000, 999_999] {
            let value = date_time([year, month, day, 13, 14, 15], microsecond);
            let serial = number_of(&convert(value).cell);
            let back = ((serial - days as f64) * 86_400_000_000.0).round() as i64;
            let wanted = (13 * 3600 + 14 * 60 + 15) * 1_000_000 + i64::from(microsecond);
            assert!(
                (back - wanted).abs() <= tolerance,
                "{year}: {back} vs {wanted}"
            );
        }
    }
}

#[test]
fn timestamps_are_shown_in_the_configured_zone() {
    let (utc, berlin) = (&utc(), &berlin());
    let cases: Vec<(i64, u32, &CellOptions, f64)> = vec![
        (1, 0, utc, at(25569, [0, 0, 1], 0)),
        (1, 250_000, utc, at(25569, [0, 0, 1], 250_000)),
        (1 << 31, 0, utc, at(50424, [3, 14, 8], 0)),
        (4_294_967_295, 0, utc, at(75279, [6, 28, 15], 0)),
        (1, 0, berlin, at(25569, [1, 0, 1], 0)),
        // Spring forward: 01:59:59 CET, then 03:00:00 CEST one second later.
        (1_711_846_799, 0, berlin, at(45382, [1, 59, 59], 0)),
        (1_711_846_800, 0, berlin, at(45382, [3, 0, 0], 0)),
        // Fall back: 02:59:59 CEST, then 02:00:00 CET one second later.
        (1_729_990_799, 0, berlin, at(45592, [2, 59, 59], 0)),
        (1_729_990_800, 0, berlin, at(45592, [2, 0, 0], 0)),
        (2_224_713_600, 0, berlin, at(51318, [2, 0, 0], 0)),
        (2_224_713_600, 0, utc, at(51318, [0, 0, 0], 0)),
    ];
    for (unix_seconds, microsecond, options, expected) in cases {
        let value = timestamp_value(unix_seconds, microsecond);
        let cell = to_cell(&value, options).expect("written").cell;
        assert!(
            (number_of(&cell) - expected).abs() < 1e-9,
            "{value}: {} != {expected}",
            number_of(&cell)
        );
        let (format_type, pattern) = pattern_of(&cell).expect("format");
        assert_eq!(format_type, NumberFormatType::DateTime);
        let wanted = if microsecond == 0 {
            "yyyy-mm-dd hh:mm:ss"
        } else {
            "yyyy-mm-dd hh:mm:ss.000"
        };
        assert_eq!(pattern, wanted, "{value}");
    }
    assert_eq!(
        convert(timestamp_value(0, 0)).cell,
        CellData::text("0000-00-00 00:00:00")
    );
}

#[test]
fn times_are_durations_that_may_be_negative() {
    let time = |negative, hours, minutes, seconds, microsecond| Value::Time {
        negative,
        hours,
        minutes,
        seconds,
        microsecond,
    };
    let longest = (838.0 * 3600.0 + 59.0 * 60.0 + 59.0) / 86400.0;
    let cases = [
        (time(false, 0, 0, 0, 0), 0.0, "[h]:mm:ss"),
        (time(false, 12, 0, 0, 0), 0.5, "[h]:mm:ss"),
        (time(false, 838, 59, 59, 0), longest, "[h]:mm:ss"),
        (time(true, 838, 59, 59, 0), -longest, "[h]:mm:ss"),
        (
            time(true, 0, 0, 1, 500_000),
            -1.5 / 86400.0,
            "[h]:mm:ss.000",
        ),
    ];
    for (value, expected, pattern) in cases {
        let cell = convert(value.clone()).cell;
        assert!((number_of(&cell) - expected).abs() < 1e-12, "{value}");
        assert_eq!(
            pattern_of(&cell),
            Some((NumberFormatType::Time, pattern.to_string())),
            "{value}"
        );
    }
}
