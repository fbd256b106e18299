//! Table tests for every row of `docs/type-mapping.md`. Expected serial numbers were computed
//! independently (Python's `datetime`), not with jiff.

use super::*;
use crate::sheets::model::ExtendedValue;
use crate::sync::{cell_key_text, json_key_text};

fn utc() -> CellOptions {
    CellOptions::default()
}

fn berlin() -> CellOptions {
    CellOptions {
        time_zone: TimeZone::get("Europe/Berlin").expect("bundled zone"),
        binary: BinaryMode::Base64,
    }
}

fn convert(value: Value) -> Converted {
    to_cell(&value, &utc()).expect("written")
}

/// Serial number of day `days` (since 1899-12-30) at a wall-clock time.
fn at(days: i64, [hour, minute, second]: [u32; 3], microsecond: u32) -> f64 {
    let micros = (f64::from(hour) * 3600.0 + f64::from(minute) * 60.0 + f64::from(second)) * 1e6
        + f64::from(microsecond);
    days as f64 + micros / 86_400_000_000.0
}

/// Either a number with its format pattern, or the exact text the cell must hold.
type Expected<'a> = Result<(f64, &'a str), &'a str>;

fn number_of(cell: &CellData) -> f64 {
    match &cell.user_entered_value {
        Some(ExtendedValue::NumberValue(number)) => *number,
        other => panic!("expected a number, got {other:?}"),
    }
}

fn pattern_of(cell: &CellData) -> Option<(NumberFormatType, String)> {
    let format = cell.user_entered_format.as_ref()?.number_format.as_ref()?;
    Some((
        format.format_type,
        format.pattern.clone().unwrap_or_default(),
    ))
}

fn date_time(parts: [u16; 6], microsecond: u32) -> Value {
    let [year, month, day, hour, minute, second] = parts;
    Value::DateTime {
        year,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        microsecond,
    }
}

fn timestamp_value(unix_seconds: i64, microsecond: u32) -> Value {
    Value::Timestamp {
        unix_seconds,
        microsecond,
    }
}

#[test]
fn numbers_and_texts() {
    let two_53 = 1i64 << 53;
    let cases: Vec<(Value, CellData)> = vec![
        (Value::Null, CellData::empty()),
        (Value::Int(0), CellData::number(0.0)),
        (Value::Int(-1), CellData::number(-1.0)),
        (Value::Int(two_53), CellData::number(two_53 as f64)),
        (Value::Int(-two_53), CellData::number(-two_53 as f64)),
        (Value::Int(two_53 + 1), CellData::text("9007199254740993")),
        (Value::Int(i64::MIN), CellData::text("-9223372036854775808")),
        (Value::Int(i64::MAX), CellData::text("9223372036854775807")),
        (Value::UInt(1 << 53), CellData::number(two_53 as f64)),
        (
            Value::UInt(u64::MAX),
            CellData::text("18446744073709551615"),
        ),
        (Value::Float(0.1), CellData::number(0.1)),
        (Value::Float(-1.5e-7), CellData::number(-1.5e-7)),
        (Value::Float(f32::MAX), CellData::number(3.4028235e38)),
        (Value::Double(0.1), CellData::number(0.1)),
        (Value::Double(f64::MAX), CellData::number(f64::MAX)),
        (Value::Double(f64::NAN), CellData::text("NaN")),
        (Value::Year(2024), CellData::number(2024.0)),
        (Value::Year(0), CellData::text("0000")),
        (Value::Text("=1+1".into()), CellData::text("=1+1")),
        (Value::Text(String::new()), CellData::text("")),
        (Value::Enum("small".into()), CellData::text("small")),
        (Value::Enum(String::new()), CellData::text("")),
        (
            Value::Set(vec!["a".into(), "c".into()]),
            CellData::text("a,c"),
        ),
        (Value::Set(vec![]), CellData::text("")),
        (Value::Bit { bits: 5, width: 3 }, CellData::number(5.0)),
        (
            Value::Bit {
                bits: u64::MAX,
                width: 64,
            },
            CellData::text("18446744073709551615"),
        ),
        (
            Value::Json(r#"{"a":[1,"=x"]}"#.into()),
            CellData::text(r#"{"a":[1,"=x"]}"#),
        ),
        (Value::Bytes(vec![0xff, 0x00]), CellData::text("/wA=")),
        (Value::Bytes(vec![]), CellData::text("")),
    ];
    for (value, expected) in cases {
        let converted = convert(value.clone());
        assert_eq!(converted.cell, expected, "{value}");
        assert_eq!(converted.truncated_from, None, "{value}");
    }
}

#[test]
fn decimals_are_numbers_only_when_every_digit_survives() {
    let digits_65_30 = "12345678901234567890123456789012345.123456789012345678901234567890";
    let cases: Vec<(&str, Option<u8>, Expected)> = vec![
        ("-0.05", None, Ok((-0.05, "0.00"))),
        ("123", None, Ok((123.0, "0"))),
        ("0.1", None, Ok((0.1, "0.0"))),
        ("1.10", None, Ok((1.1, "0.00"))),
        ("1.1", Some(2), Ok((1.1, "0.00"))),
        ("0.00", None, Ok((0.0, "0.00"))),
        ("-0.00", None, Ok((0.0, "0.00"))),
        ("100000000000000000000", None, Ok((1e20, "0"))),
        (
            "0.000000000000000000000000000001",
            Some(30),
            Ok((1e-30, "0.000000000000000000000000000000")),
        ),
        ("9007199254740993", None, Err("9007199254740993")),
        (
            "0.12345678901234567890",
            None,
            Err("0.12345678901234567890"),
        ),
        (digits_65_30, Some(30), Err(digits_65_30)),
        (
            "-99999999999999999999999999999999999.999999999999999999999999999999",
            Some(30),
            Err("-99999999999999999999999999999999999.999999999999999999999999999999"),
        ),
    ];
    for (text, scale, expected) in cases {
        let value = Value::Decimal(text.into());
        let converted = match scale {
            Some(scale) => to_column_cell(
                &value,
                &ColumnType::Decimal {
                    precision: 65,
                    scale,
                },
                &utc(),
            ),
            None => to_cell(&value, &utc()),
        }
        .expect("written");
        match expected {
            Ok((number, pattern)) => {
                assert_eq!(number_of(&converted.cell), number, "{text}");
                assert!(number_of(&converted.cell).is_sign_positive() || number < 0.0);
                assert_eq!(
                    pattern_of(&converted.cell),
                    Some((NumberFormatType::Number, pattern.to_string())),
                    "{text}"
                );
            }
            Err(exact) => assert_eq!(converted.cell, CellData::text(exact), "{text}"),
        }
    }
}

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

#[test]
fn long_texts_are_cut_to_fifty_thousand_utf16_units_with_a_note() {
    let emoji = "😀".repeat(25_001); // 50,002 UTF-16 units, 25,001 characters
    let cases = [
        ("a".repeat(50_000), None, 50_000),
        ("a".repeat(50_001), Some(50_001), 50_000),
        (emoji.clone(), Some(50_002), 50_000),
        (format!("{}😀", "a".repeat(49_999)), Some(50_001), 49_999),
        (format!("{}é", "a".repeat(49_999)), None, 50_000),
    ];
    for (text, truncated_from, kept_units) in cases {
        let converted = convert(Value::Text(text.clone()));
        assert_eq!(converted.truncated_from, truncated_from);
        let Some(ExtendedValue::StringValue(kept)) = &converted.cell.user_entered_value else {
            panic!("not text: {:?}", converted.cell.user_entered_value);
        };
        assert_eq!(kept.encode_utf16().count(), kept_units);
        assert!(text.starts_with(kept.as_str()));
        match truncated_from {
            Some(units) => {
                let note = converted.cell.note.as_deref().expect("note");
                assert!(note.contains(&format!("truncated from {units} ")), "{note}");
            }
            None => assert_eq!(converted.cell.note, None),
        }
    }
    let json = convert(Value::Json(format!("\"{}\"", "x".repeat(60_000))));
    assert_eq!(json.truncated_from, Some(60_002));
}

#[test]
fn binary_values_are_base64_or_skipped() {
    let skip = CellOptions {
        binary: BinaryMode::Skip,
        ..CellOptions::default()
    };
    let bytes = Value::Bytes(b"\x00\x01binary\xff".to_vec());
    assert_eq!(to_cell(&bytes, &skip), None);
    assert_eq!(
        convert(bytes).cell,
        CellData::text("AAFiaW5hcnn/"),
        "standard alphabet, padded"
    );
    assert!(to_cell(&Value::Int(1), &skip).is_some());
    assert!(skips_column(
        &ColumnType::Binary { fixed_length: None },
        &skip
    ));
    assert!(!skips_column(
        &ColumnType::Binary { fixed_length: None },
        &utc()
    ));
    assert!(!skips_column(
        &ColumnType::Text {
            charset: "big5".into()
        },
        &skip
    ));
    assert_eq!(header_cell("=total"), CellData::text("=total"));
}

/// The cell read back with `UNFORMATTED_VALUE`: a number as Google's JSON prints it (integral
/// doubles without `.0`), text as text.
fn read_back(cell: &CellData) -> Vec<serde_json::Value> {
    match &cell.user_entered_value {
        None => vec![serde_json::Value::Null],
        Some(ExtendedValue::StringValue(text)) => vec![serde_json::json!(text)],
        Some(ExtendedValue::NumberValue(number)) => {
            let mut forms = vec![
                serde_json::from_str(&serde_json::to_string(number).unwrap()).expect("json number"),
            ];
            if number.fract() == 0.0 && number.abs() < 1e18 {
                forms.push(serde_json::from_str(&format!("{}", *number as i64)).expect("integer"));
            }
            forms
        }
        other => panic!("sheetsync never writes {other:?}"),
    }
}

#[test]
fn key_text_of_every_keyable_type_survives_the_round_trip() {
    let keys = vec![
        Value::Int(42),
        Value::Int(-7),
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::Int(1 << 53),
        Value::UInt(u64::MAX),
        Value::UInt((1 << 53) + 1),
        Value::Decimal("-0.05".into()),
        Value::Decimal("1.50".into()),
        Value::Decimal("12345678901234567890.123456789".into()),
        Value::Float(0.1),
        Value::Double(1e300),
        Value::Double(-0.0),
        Value::Text("=A1".into()),
        Value::Text("007".into()),
        Value::Enum("big".into()),
        Value::Set(vec!["a".into(), "b".into()]),
        Value::Bit { bits: 3, width: 2 },
        Value::Bytes(vec![1, 2, 3]),
        Value::Date {
            year: 2024,
            month: 2,
            day: 29,
        },
        Value::Date {
            year: 0,
            month: 0,
            day: 0,
        },
        date_time([2024, 2, 29, 13, 14, 15], 123_456),
        timestamp_value(1_711_846_800, 0),
        Value::Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            microsecond: 0,
        },
        Value::Year(2024),
        Value::Null,
    ];
    for key in keys {
        for options in [utc(), berlin()] {
            let cell = to_cell(&key, &options).expect("written").cell;
            for json in read_back(&cell) {
                assert_eq!(
                    cell_key_text(&cell),
                    json_key_text(&json),
                    "{key} as {json}"
                );
            }
        }
    }
}

#[test]
fn config_keys() {
    let base = "[mysql]\nurl = \"mysql://u:p@127.0.0.1:3306\"\nserver_id = 7\n";
    let config = crate::config::Config::from_toml(base).expect("defaults");
    assert_eq!(config.sync.binary, BinaryMode::Base64);
    assert_eq!(config.sync.retention_margin_hours, 24);
    let options = CellOptions::from_config(&config.sync).expect("UTC");
    assert_eq!(options.time_zone, TimeZone::UTC);

    let text = format!("{base}[sync]\ntime_zone = \"Europe/Berlin\"\nbinary = \"skip\"\n");
    let config = crate::config::Config::from_toml(&text).expect("valid");
    let options = CellOptions::from_config(&config.sync).expect("Berlin");
    assert_eq!(options.binary, BinaryMode::Skip);
    assert_eq!(options.time_zone.iana_name(), Some("Europe/Berlin"));

    for zone in ["Mars/Olympus_Mons", "Etc/Unknown", ""] {
        let text = format!("{base}[sync]\ntime_zone = \"{zone}\"\n");
        let error = crate::config::Config::from_toml(&text)
            .expect_err("unknown zone")
            .to_string();
        assert!(error.contains("sync.time_zone"), "{error}");
        assert!(error.contains(&format!("`{zone}`")), "{error}");
        assert!(!CellError::UnknownTimeZone {
            name: zone.into(),
            message: String::new()
        }
        .is_transient());
    }
    let text = format!("{base}[sync]\nbinary = \"hex\"\n");
    let error = crate::config::Config::from_toml(&text)
        .expect_err("bad binary")
        .to_string();
    assert!(error.contains("sync.binary"), "{error}");
}
