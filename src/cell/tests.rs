//! Table tests for the number, text, binary and key rows of `docs/type-mapping.md`, and the
//! config keys; dates and times are in `time_tests.rs`. Shared helpers are `pub(super)`.

use super::*;
use crate::sheets::model::ExtendedValue;
use crate::sync::{cell_key_text, json_key_text};

pub(super) fn utc() -> CellOptions {
    CellOptions::default()
}

pub(super) fn berlin() -> CellOptions {
    CellOptions {
        time_zone: TimeZone::get("Europe/Berlin").expect("bundled zone"),
        binary: BinaryMode::Base64,
    }
}

pub(super) fn convert(value: Value) -> Converted {
    to_cell(&value, &utc()).expect("written")
}

/// Serial number of day `days` (since 1899-12-30) at a wall-clock time.
pub(super) fn at(days: i64, [hour, minute, second]: [u32; 3], microsecond: u32) -> f64 {
    let micros = (f64::from(hour) * 3600.0 + f64::from(minute) * 60.0 + f64::from(second)) * 1e6
        + f64::from(microsecond);
    days as f64 + micros / 86_400_000_000.0
}

/// Either a number with its format pattern, or the exact text the cell must hold.
pub(super) type Expected<'a> = Result<(f64, &'a str), &'a str>;

pub(super) fn number_of(cell: &CellData) -> f64 {
    match &cell.user_entered_value {
        Some(ExtendedValue::NumberValue(number)) => *number,
        other => panic!("expected a number, got {other:?}"),
    }
}

pub(super) fn pattern_of(cell: &CellData) -> Option<(NumberFormatType, String)> {
    let format = cell.user_entered_format.as_ref()?.number_format.as_ref()?;
    Some((
        format.format_type,
        format.pattern.clone().unwrap_or_default(),
    ))
}

pub(super) fn date_time(parts: [u16; 6], microsecond: u32) -> Value {
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

pub(super) fn timestamp_value(unix_seconds: i64, microsecond: u32) -> Value {
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
