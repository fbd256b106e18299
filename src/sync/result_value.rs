//! Query-result values → the same typed [`Value`]s the binlog decoder produces.
//!
//! Consumes one column of a binary-protocol result row (`mysql_async::Value` plus the column's
//! type, flags and charset); produces a [`Value`]. Guarantees: a row read by the initial
//! snapshot converts to exactly the cells the same row would get from a binlog event, so a
//! snapshot followed by replay never flips a cell between two renderings. The session must run
//! with `time_zone = '+00:00'` (the snapshot reader sets it), so TIMESTAMPs read back as UTC.

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Column, Value as WireValue};

use crate::value::Value;

/// The binary charset: bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// Converts one result column. Errors are plain reasons naming what did not fit.
pub fn convert(column: &Column, value: WireValue) -> Result<Value, String> {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let column_type = column.column_type();
    Ok(match value {
        WireValue::NULL => Value::Null,
        WireValue::Int(number) if column_type == ColumnType::MYSQL_TYPE_YEAR => {
            Value::Year(u16::try_from(number).map_err(|_| format!("year {number}"))?)
        }
        WireValue::UInt(number) if column_type == ColumnType::MYSQL_TYPE_YEAR => {
            Value::Year(u16::try_from(number).map_err(|_| format!("year {number}"))?)
        }
        // The binary protocol sends small unsigned types as signed wire values.
        WireValue::Int(number) if unsigned => Value::UInt(number as u64),
        WireValue::Int(number) => Value::Int(number),
        WireValue::UInt(number) if unsigned => Value::UInt(number),
        WireValue::UInt(number) => {
            Value::Int(i64::try_from(number).map_err(|_| format!("integer {number}"))?)
        }
        WireValue::Float(number) => Value::Float(number),
        WireValue::Double(number) => Value::Double(number),
        WireValue::Date(year, month, day, hour, minute, second, microsecond) => match column_type {
            ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => {
                Value::Date { year, month, day }
            }
            ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
                timestamp(year, month, day, hour, minute, second, microsecond)?
            }
            _ => Value::DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                microsecond,
            },
        },
        WireValue::Time(negative, days, hours, minutes, seconds, microsecond) => Value::Time {
            negative,
            hours: u16::try_from(days * 24 + u32::from(hours))
                .map_err(|_| format!("time of {days} days"))?,
            minutes,
            seconds,
            microsecond,
        },
        WireValue::Bytes(bytes) => bytes_value(column, bytes)?,
    })
}

fn bytes_value(column: &Column, bytes: Vec<u8>) -> Result<Value, String> {
    let flags = column.flags();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|error| error.to_string());
    Ok(match column.column_type() {
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            Value::Decimal(text(bytes)?)
        }
        ColumnType::MYSQL_TYPE_BIT => {
            let width = u8::try_from(column.column_length()).unwrap_or(64);
            let bits = bytes
                .iter()
                .fold(0u64, |bits, byte| (bits << 8) | u64::from(*byte));
            Value::Bit { bits, width }
        }
        ColumnType::MYSQL_TYPE_JSON => Value::Json(text(bytes)?),
        _ if flags.contains(ColumnFlags::ENUM_FLAG) => Value::Enum(text(bytes)?),
        _ if flags.contains(ColumnFlags::SET_FLAG) => {
            let labels = text(bytes)?;
            Value::Set(if labels.is_empty() {
                Vec::new()
            } else {
                labels.split(',').map(str::to_string).collect()
            })
        }
        ColumnType::MYSQL_TYPE_GEOMETRY => Value::Bytes(bytes),
        _ if column.character_set() == BINARY_CHARSET => Value::Bytes(bytes),
        // The connection's charset is utf8mb4: the server converted latin1 etc. already.
        _ => match String::from_utf8(bytes) {
            Ok(text) => Value::Text(text),
            Err(error) => Value::Bytes(error.into_bytes()),
        },
    })
}

fn timestamp(
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    microsecond: u32,
) -> Result<Value, String> {
    if year == 0 {
        // The zero TIMESTAMP '0000-00-00 00:00:00' is stored as 0 in the binlog.
        return Ok(Value::Timestamp {
            unix_seconds: 0,
            microsecond: 0,
        });
    }
    let days = days_from_civil(i64::from(year), u32::from(month), u32::from(day));
    Ok(Value::Timestamp {
        unix_seconds: days * 86_400
            + i64::from(hour) * 3_600
            + i64::from(minute) * 60
            + i64::from(second),
        microsecond,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2038, 1, 19), 24_855);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
