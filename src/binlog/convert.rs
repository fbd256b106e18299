//! Wire values → exact typed values.
//!
//! Consumes one value as mysql_common reads it from a row image (`mysql_common::Value` or
//! its JSON forms) and the column's SQL type from the TABLE_MAP; produces the exact
//! [`Value`]. Guarantees: integers keep their sign and width, DECIMAL stays text, text is
//! converted from the column's charset (bytes kept when the charset is not one we convert),
//! BINARY(n) gets its stripped trailing zeros back, and known mysql_common quirks are undone
//! (YEAR 0 read as 1900, signed MEDIUMINT without sign extension, TIMESTAMP seconds as i32).

use mysql_common::Value as WireValue;

use crate::value::{decode_charset, ColumnType, Value};

/// Wire value → exact typed value.
pub fn convert(wire: WireValue, column_type: &ColumnType) -> Result<Value, String> {
    let unexpected =
        |wire: &WireValue| format!("unexpected wire value {wire:?} for {column_type:?}");
    Ok(match (column_type, wire) {
        (_, WireValue::NULL) => Value::Null,
        (
            ColumnType::TinyInt { unsigned }
            | ColumnType::SmallInt { unsigned }
            | ColumnType::MediumInt { unsigned }
            | ColumnType::Int { unsigned }
            | ColumnType::BigInt { unsigned },
            wire,
        ) => match (unsigned, wire) {
            // mysql_common reads a signed MEDIUMINT without extending its sign bit.
            (false, WireValue::Int(value))
                if matches!(column_type, ColumnType::MediumInt { .. }) && value >= 1 << 23 =>
            {
                Value::Int(value - (1 << 24))
            }
            (false, WireValue::Int(value)) => Value::Int(value),
            (true, WireValue::UInt(value)) => Value::UInt(value),
            (true, WireValue::Int(value)) => {
                Value::UInt(u64::try_from(value).map_err(|_| "negative unsigned")?)
            }
            (_, wire) => return Err(unexpected(&wire)),
        },
        (ColumnType::Float, WireValue::Float(value)) => Value::Float(value),
        (ColumnType::Double, WireValue::Double(value)) => Value::Double(value),
        (ColumnType::Decimal { .. }, WireValue::Bytes(text)) => {
            Value::Decimal(String::from_utf8(text).map_err(|_| "decimal text not UTF-8")?)
        }
        (ColumnType::Date, WireValue::Date(year, month, day, ..)) => {
            Value::Date { year, month, day }
        }
        (
            ColumnType::DateTime { .. },
            WireValue::Date(year, month, day, hour, minute, second, microsecond),
        ) => Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
        },
        (ColumnType::Timestamp { .. }, WireValue::Int(seconds)) => Value::Timestamp {
            unix_seconds: seconds,
            microsecond: 0,
        },
        (ColumnType::Timestamp { .. }, WireValue::Bytes(text)) => timestamp(&text)?,
        (
            ColumnType::Time { .. },
            WireValue::Time(negative, days, hours, minutes, seconds, microsecond),
        ) => Value::Time {
            negative,
            hours: u16::try_from(days.saturating_mul(24).saturating_add(u32::from(hours)))
                .map_err(|_| "TIME hours out of range")?,
            minutes,
            seconds,
            microsecond,
        },
        (ColumnType::Year, WireValue::Bytes(text)) => {
            // mysql_common adds 1900 to the stored byte, so YEAR 0000 arrives as "1900".
            let year: u16 = std::str::from_utf8(&text)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or("YEAR is not a number")?;
            Value::Year(if year == 1900 { 0 } else { year })
        }
        (ColumnType::Bit { width }, WireValue::Bytes(bytes)) => {
            if bytes.len() > 8 {
                return Err("BIT wider than 64".into());
            }
            let bits = bytes
                .iter()
                .fold(0u64, |bits, &byte| (bits << 8) | u64::from(byte));
            Value::Bit {
                bits,
                width: *width,
            }
        }
        (ColumnType::Enum { labels }, WireValue::Int(index)) => {
            // Index 0 is MySQL's "invalid value" entry, shown as the empty string.
            let label = match usize::try_from(index) {
                Ok(0) => String::new(),
                Ok(index) => labels
                    .get(index - 1)
                    .cloned()
                    .ok_or_else(|| format!("ENUM index {index} beyond {} labels", labels.len()))?,
                Err(_) => return Err("negative ENUM index".into()),
            };
            Value::Enum(label)
        }
        (ColumnType::Set { labels }, WireValue::Bytes(bytes)) => {
            let mut chosen = Vec::new();
            for (index, label) in labels.iter().enumerate() {
                if bytes
                    .get(index / 8)
                    .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
                {
                    chosen.push(label.clone());
                }
            }
            Value::Set(chosen)
        }
        (ColumnType::Json, WireValue::Bytes(bytes)) => {
            // A NULL-literal JSON document is stored as zero bytes.
            Value::Json(String::from_utf8(bytes).map_err(|_| "JSON text not UTF-8")?)
        }
        (ColumnType::Text { charset }, WireValue::Bytes(bytes)) => {
            match decode_charset(charset, &bytes) {
                Some(text) => Value::Text(text),
                None => Value::Bytes(bytes),
            }
        }
        (ColumnType::Binary { fixed_length }, WireValue::Bytes(mut bytes)) => {
            // The server strips BINARY(n)'s trailing zero bytes; the value has exactly n.
            if let Some(length) = fixed_length {
                let length = *length as usize;
                if bytes.len() < length {
                    bytes.resize(length, 0);
                }
            }
            Value::Bytes(bytes)
        }
        (ColumnType::Geometry | ColumnType::Vector, WireValue::Bytes(bytes)) => Value::Bytes(bytes),
        (_, wire) => return Err(unexpected(&wire)),
    })
}

/// TIMESTAMP2 arrives as `"seconds"` or `"seconds.micros"`; mysql_common reads the seconds as
/// i32, so values past 2038 (MariaDB 11.5+ stores up to 2106) come negative: undo the wrap.
fn timestamp(text: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(text).map_err(|_| "TIMESTAMP text not UTF-8")?;
    let (seconds, micros) = text.split_once('.').unwrap_or((text, "0"));
    let seconds: i64 = seconds.parse().map_err(|_| format!("TIMESTAMP {text}"))?;
    let microsecond: u32 = micros.parse().map_err(|_| format!("TIMESTAMP {text}"))?;
    Ok(Value::Timestamp {
        unix_seconds: if seconds < 0 {
            seconds + (1 << 32)
        } else {
            seconds
        },
        microsecond,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let cases: Vec<(WireValue, ColumnType, Value)> = vec![
            (
                WireValue::Int(-5),
                ColumnType::Int { unsigned: false },
                Value::Int(-5),
            ),
            (
                WireValue::UInt(u64::MAX),
                ColumnType::BigInt { unsigned: true },
                Value::UInt(u64::MAX),
            ),
            (
                WireValue::Int(16_777_215),
                ColumnType::MediumInt { unsigned: true },
                Value::UInt(16_777_215),
            ),
            (
                WireValue::Int(8_388_608),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(-8_388_608),
            ),
            (
                WireValue::Int(16_777_215),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(-1),
            ),
            (
                WireValue::Int(8_388_607),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(8_388_607),
            ),
            (
                WireValue::Bytes(b"-0.05".to_vec()),
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                Value::Decimal("-0.05".into()),
            ),
            (
                WireValue::Bytes(b"1900".to_vec()),
                ColumnType::Year,
                Value::Year(0),
            ),
            (
                WireValue::Bytes(b"2155".to_vec()),
                ColumnType::Year,
                Value::Year(2155),
            ),
            (
                WireValue::Bytes(vec![0x01, 0x02]),
                ColumnType::Bit { width: 10 },
                Value::Bit {
                    bits: 258,
                    width: 10,
                },
            ),
            (
                WireValue::Int(2),
                ColumnType::Enum {
                    labels: labels.clone(),
                },
                Value::Enum("b".into()),
            ),
            (
                WireValue::Int(0),
                ColumnType::Enum {
                    labels: labels.clone(),
                },
                Value::Enum(String::new()),
            ),
            (
                WireValue::Bytes(vec![0b101]),
                ColumnType::Set {
                    labels: labels.clone(),
                },
                Value::Set(vec!["a".into(), "c".into()]),
            ),
            (
                WireValue::Bytes(b"caf\xe9".to_vec()),
                ColumnType::Text {
                    charset: "latin1".into(),
                },
                Value::Text("café".into()),
            ),
            (
                WireValue::Bytes(vec![1, 2]),
                ColumnType::Binary {
                    fixed_length: Some(4),
                },
                Value::Bytes(vec![1, 2, 0, 0]),
            ),
            (
                WireValue::Bytes(b"1714979289.123000".to_vec()),
                ColumnType::Timestamp {
                    fractional_digits: 6,
                },
                Value::Timestamp {
                    unix_seconds: 1_714_979_289,
                    microsecond: 123_000,
                },
            ),
            (
                WireValue::Bytes(b"-1".to_vec()),
                ColumnType::Timestamp {
                    fractional_digits: 0,
                },
                Value::Timestamp {
                    unix_seconds: 4_294_967_295,
                    microsecond: 0,
                },
            ),
            (
                WireValue::Time(true, 34, 22, 59, 59, 0),
                ColumnType::Time {
                    fractional_digits: 0,
                },
                Value::Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    microsecond: 0,
                },
            ),
        ];
        for (wire, column_type, expected) in cases {
            let description = format!("{wire:?} as {column_type:?}");
            assert_eq!(convert(wire, &column_type), Ok(expected), "{description}");
        }
        assert!(convert(WireValue::Int(4), &ColumnType::Enum { labels }).is_err());
        assert!(convert(WireValue::Int(-1), &ColumnType::Int { unsigned: true }).is_err());
    }
}
