//! A value in the form the apply step works with: converted from a sheet cell, read back from
//! MySQL, compared, bound as a statement parameter, and fingerprinted for the echo marker.
//!
//! Guarantees: two values are equal when MySQL would store the same thing (decimals compare
//! without trailing zeros, FLOAT at single precision, text byte for byte); [`Typed::marker_text`]
//! of a value written equals `echo::binlog_marker_text` of the same value decoded from the
//! binlog, which is what lets the echo filter recognise sheetsync's own writes.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub microsecond: u32,
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

pub fn date_text(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

pub fn datetime_text(date: Date, time: TimeOfDay) -> String {
    format!(
        "{} {:02}:{:02}:{:02}{}",
        date_text(date),
        time.hour,
        time.minute,
        time.second,
        fraction_text(time.microsecond)
    )
}

/// `.5` for 500000 µs, empty for 0: trailing zeros never matter.
pub fn fraction_text(microsecond: u32) -> String {
    if microsecond == 0 {
        return String::new();
    }
    let digits = format!("{microsecond:06}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(date: Date) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year =
        (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> Date {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u8;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date {
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month,
        day,
    }
}

/// Whether `year-month-day` exists.
pub fn valid_date(year: i32, month: u8, day: u8) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days_in_month
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
    fn civil_dates_round_trip() {
        for days in [-719_162, -25_569, 0, 1, 20_454, 2_932_896] {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
        let date = Date {
            year: 2026,
            month: 1,
            day: 2,
        };
        assert_eq!(days_from_civil(date), 20_455);
        assert!(valid_date(2024, 2, 29));
        assert!(!valid_date(2026, 2, 29));
        assert!(!valid_date(2026, 13, 1));
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
