//! A value in the form the apply step works with: converted from a sheet cell, read back from
//! MySQL, compared, bound as a statement parameter, and fingerprinted for the echo marker.
//!
//! Guarantees: two values are equal when MySQL would store the same thing (decimals compare
//! without trailing zeros, FLOAT at single precision, text byte for byte); [`Typed::marker_text`]
//! of a value written equals `echo::binlog_marker_text` of the same value decoded from the
//! binlog, which is what lets the echo filter recognise sheetsync's own writes.

pub use super::calendar::{
    civil_from_days, date_text, datetime_text, days_from_civil, fraction_text, valid_date, Date,
    TimeOfDay,
};
use super::columns::ColumnKind;

#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Null,
    /// Every integer type, YEAR and BIT.
    Integer(i128),
    /// Exact decimal text, normalised by [`normalize_decimal`].
    Decimal(String),
    Float(f32),
    Double(f64),
    /// Text, ENUM labels and SET labels joined by commas in definition order.
    Text(String),
    Bytes(Vec<u8>),
    Date(Date),
    /// DATETIME, and TIMESTAMP in UTC.
    DateTime(Date, TimeOfDay),
    Time {
        negative: bool,
        hours: u32,
        minutes: u8,
        seconds: u8,
        microsecond: u32,
    },
    Json(serde_json::Value),
}

impl Typed {
    pub fn is_null(&self) -> bool {
        matches!(self, Typed::Null)
    }

    /// Empty as a sheet shows it: NULL or the empty string.
    pub fn is_blank(&self) -> bool {
        matches!(self, Typed::Null) || matches!(self, Typed::Text(text) if text.is_empty())
    }

    /// As a statement parameter.
    pub fn to_param(&self) -> mysql_async::Value {
        use mysql_async::Value;
        match self {
            Typed::Null => Value::NULL,
            Typed::Integer(integer) => match i64::try_from(*integer) {
                Ok(signed) => Value::Int(signed),
                Err(_) => Value::UInt(u64::try_from(*integer).unwrap_or(u64::MAX)),
            },
            Typed::Decimal(text) => Value::Bytes(text.clone().into_bytes()),
            Typed::Float(float) => Value::Float(*float),
            Typed::Double(double) => Value::Double(*double),
            Typed::Text(text) => Value::Bytes(text.clone().into_bytes()),
            Typed::Bytes(bytes) => Value::Bytes(bytes.clone()),
            Typed::Date(date) => Value::Date(
                u16::try_from(date.year).unwrap_or(0),
                date.month,
                date.day,
                0,
                0,
                0,
                0,
            ),
            Typed::DateTime(date, time) => Value::Date(
                u16::try_from(date.year).unwrap_or(0),
                date.month,
                date.day,
                time.hour,
                time.minute,
                time.second,
                time.microsecond,
            ),
            Typed::Time {
                negative,
                hours,
                minutes,
                seconds,
                microsecond,
            } => Value::Time(
                *negative,
                hours / 24,
                (hours % 24) as u8,
                *minutes,
                *seconds,
                *microsecond,
            ),
            Typed::Json(json) => Value::Bytes(json.to_string().into_bytes()),
        }
    }

    /// A value read from MySQL (binary protocol) in a column of `kind`.
    pub fn from_database(value: mysql_async::Value, kind: &ColumnKind) -> Typed {
        use mysql_async::Value;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match (value, kind) {
            (Value::NULL, _) => Typed::Null,
            (Value::Int(integer), _) => Typed::Integer(i128::from(integer)),
            (Value::UInt(integer), _) => Typed::Integer(i128::from(integer)),
            (Value::Float(float), ColumnKind::Double) => Typed::Double(f64::from(float)),
            (Value::Float(float), _) => Typed::Float(float),
            (Value::Double(double), ColumnKind::Float) => Typed::Float(double as f32),
            (Value::Double(double), _) => Typed::Double(double),
            (Value::Date(year, month, day, hour, minute, second, microsecond), kind) => {
                let date = Date {
                    year: i32::from(year),
                    month,
                    day,
                };
                if matches!(kind, ColumnKind::Date) {
                    Typed::Date(date)
                } else {
                    Typed::DateTime(
                        date,
                        TimeOfDay {
                            hour,
                            minute,
                            second,
                            microsecond,
                        },
                    )
                }
            }
            (Value::Time(negative, days, hours, minutes, seconds, microsecond), _) => Typed::Time {
                negative,
                hours: days * 24 + u32::from(hours),
                minutes,
                seconds,
                microsecond,
            },
            (Value::Bytes(bytes), ColumnKind::Decimal { .. }) => {
                Typed::Decimal(normalize_decimal(&text(&bytes)).unwrap_or_else(|| text(&bytes)))
            }
            (Value::Bytes(bytes), ColumnKind::Bit { .. }) => Typed::Integer(
                bytes
                    .iter()
                    .fold(0i128, |bits, byte| (bits << 8) | i128::from(*byte)),
            ),
            (Value::Bytes(bytes), ColumnKind::Binary) => Typed::Bytes(bytes),
            (Value::Bytes(bytes), ColumnKind::Json) => serde_json::from_slice(&bytes)
                .map(Typed::Json)
                .unwrap_or_else(|_| Typed::Text(text(&bytes))),
            (Value::Bytes(bytes), ColumnKind::Integer { .. } | ColumnKind::Year) => text(&bytes)
                .trim()
                .parse::<i128>()
                .map(Typed::Integer)
                .unwrap_or_else(|_| Typed::Text(text(&bytes))),
            (Value::Bytes(bytes), _) => Typed::Text(text(&bytes)),
        }
    }

    /// Canonical text for the echo marker and the conflicts table; `None` for NULL.
    pub fn marker_text(&self) -> Option<String> {
        Some(match self {
            Typed::Null => return None,
            Typed::Integer(integer) => integer.to_string(),
            Typed::Decimal(text) => normalize_decimal(text).unwrap_or_else(|| text.clone()),
            Typed::Float(float) => float.to_string(),
            Typed::Double(double) => double.to_string(),
            Typed::Text(text) => text.clone(),
            Typed::Bytes(bytes) => hex::encode(bytes),
            Typed::Date(date) => date_text(*date),
            Typed::DateTime(date, time) => datetime_text(*date, *time),
            Typed::Time {
                negative,
                hours,
                minutes,
                seconds,
                microsecond,
            } => format!(
                "{}{hours:02}:{minutes:02}:{seconds:02}{}",
                if *negative { "-" } else { "" },
                fraction_text(*microsecond)
            ),
            Typed::Json(json) => json.to_string(),
        })
    }

    /// The number a numeric value stands for, for `max` and range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Typed::Integer(integer) => Some(*integer as f64),
            Typed::Decimal(text) => text.parse().ok(),
            Typed::Float(float) => Some(f64::from(*float)),
            Typed::Double(double) => Some(*double),
            _ => None,
        }
    }
}

/// Compares two numeric values exactly where both are integers or decimals.
pub fn compare_numbers(left: &Typed, right: &Typed) -> Option<std::cmp::Ordering> {
    let exact = |value: &Typed| match value {
        Typed::Integer(integer) => Some(integer.to_string()),
        Typed::Decimal(text) => Some(text.clone()),
        _ => None,
    };
    match (exact(left), exact(right)) {
        (Some(left), Some(right)) => Some(compare_decimal_text(&left, &right)),
        _ => left.as_f64()?.partial_cmp(&right.as_f64()?),
    }
}

/// Orders two normalised decimal texts (`-12.5`, `3`).
fn compare_decimal_text(left: &str, right: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let split = |text: &str| {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, text.to_string()),
        };
        let (integer, fraction) = match digits.split_once('.') {
            Some((integer, fraction)) => (integer.to_string(), fraction.to_string()),
            None => (digits, String::new()),
        };
        (
            negative,
            integer.trim_start_matches('0').to_string(),
            fraction,
        )
    };
    let (left_negative, left_integer, left_fraction) = split(left);
    let (right_negative, right_integer, right_fraction) = split(right);
    let magnitude = left_integer
        .len()
        .cmp(&right_integer.len())
        .then_with(|| left_integer.cmp(&right_integer))
        .then_with(|| {
            let width = left_fraction.len().max(right_fraction.len());
            format!("{left_fraction:0<width$}").cmp(&format!("{right_fraction:0<width$}"))
        });
    match (left_negative, right_negative) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
    }
}

/// `+007.50` → `7.5`, `-0.0` → `0`; `None` when the text is not a plain decimal number.
pub fn normalize_decimal(text: &str) -> Option<String> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    if !integer.bytes().all(|byte| byte.is_ascii_digit())
        || !fraction.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let magnitude = if fraction.is_empty() {
        integer.to_string()
    } else {
        format!("{integer}.{fraction}")
    };
    Some(if negative && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn decimals_normalise_and_compare_exactly() {
        assert_eq!(normalize_decimal("+007.50").as_deref(), Some("7.5"));
        assert_eq!(normalize_decimal("-0.00").as_deref(), Some("0"));
        assert_eq!(normalize_decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(normalize_decimal("1e3"), None);
        assert_eq!(normalize_decimal("-"), None);
        assert_eq!(compare_decimal_text("10", "9.99"), Ordering::Greater);
        assert_eq!(compare_decimal_text("-10", "-9.99"), Ordering::Less);
        assert_eq!(compare_decimal_text("0.5", "0.50"), Ordering::Equal);
        let big = Typed::Decimal("12345678901234567890.1".into());
        let bigger = Typed::Decimal("12345678901234567890.2".into());
        assert_eq!(compare_numbers(&big, &bigger), Some(Ordering::Less));
        assert_eq!(
            compare_numbers(&Typed::Integer(3), &Typed::Double(2.5)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn marker_text_ignores_representation_details() {
        assert_eq!(
            Typed::Decimal("12.50".into()).marker_text(),
            Typed::Decimal("12.5".into()).marker_text()
        );
        assert_eq!(Typed::Float(12.1).marker_text().as_deref(), Some("12.1"));
        let time = TimeOfDay {
            hour: 1,
            minute: 2,
            second: 3,
            microsecond: 500_000,
        };
        assert_eq!(
            Typed::DateTime(civil_from_days(0), time)
                .marker_text()
                .as_deref(),
            Some("1970-01-01 01:02:03.5")
        );
        assert_eq!(Typed::Null.marker_text(), None);
    }
}
