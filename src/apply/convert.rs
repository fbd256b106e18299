//! Sheet cell → MySQL value of one column, with a clear reason when it does not fit.
//!
//! Consumes a webhook [`CellValue`] (text, number, boolean, empty; dates arrive as serial
//! numbers in the spreadsheet's time zone) and the column's [`ColumnInfo`]; produces a
//! [`Typed`] value MySQL stores exactly as given, or the sentence shown to the editor in a cell
//! note ("\"abc\" is not a whole number; qty is int(11)"). Pure; never panics on any input.
//! Nothing is silently rounded or truncated: a value MySQL would change is refused.

use super::columns::{ColumnInfo, ColumnKind};
use super::typed::{civil_from_days, normalize_decimal, valid_date, Date, TimeOfDay, Typed};
use crate::sync::number_key_text;
use crate::webhook::CellValue;

/// Days from 1899-12-30 (serial 0) to 1970-01-01.
const SERIAL_EPOCH_OFFSET_DAYS: i64 = 25_569;
/// Largest integer a sheet number holds exactly (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Converts a cell typed into the sheet.
pub fn convert_cell(cell: &CellValue, column: &ColumnInfo) -> Result<Typed, String> {
    match cell {
        CellValue::Empty => empty(column),
        CellValue::Text(text) if text.is_empty() => empty(column),
        CellValue::Text(text) => from_text(text, column),
        CellValue::Number(number) => from_number(*number, column),
        CellValue::Boolean(flag) => from_boolean(*flag, column),
    }
}

/// Converts what the editor saw before a single-cell edit (Apps Script's `e.oldValue`, text).
/// Numbers and dates come as their unformatted text (`12.5`, a serial number), so text that
/// reads as a number is taken as one for numeric and date columns.
pub fn convert_old_value(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
    if text.is_empty() {
        return empty(column).or(Ok(Typed::Null));
    }
    let numeric_column = column.kind.is_numeric()
        || matches!(
            column.kind,
            ColumnKind::Date
                | ColumnKind::DateTime { .. }
                | ColumnKind::Timestamp { .. }
                | ColumnKind::Time { .. }
        );
    if numeric_column {
        if let Ok(number) = text.trim().parse::<f64>() {
            if number.is_finite() {
                return from_number(number, column);
            }
        }
    }
    from_text(text, column)
}

fn empty(column: &ColumnInfo) -> Result<Typed, String> {
    if column.nullable {
        return Ok(Typed::Null);
    }
    match column.kind {
        // A NOT NULL text column holds the empty string where a sheet shows an empty cell.
        ColumnKind::Text { .. } => Ok(Typed::Text(String::new())),
        _ => Err(format!(
            "an empty cell cannot be stored: {} is NOT NULL",
            column.name
        )),
    }
}

fn describe(column: &ColumnInfo) -> String {
    format!("{} is {}", column.name, column.column_type)
}

fn quoted(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

fn from_boolean(flag: bool, column: &ColumnInfo) -> Result<Typed, String> {
    match &column.kind {
        ColumnKind::Integer { .. } | ColumnKind::Bit { .. } | ColumnKind::Decimal { .. } => {
            from_number(if flag { 1.0 } else { 0.0 }, column)
        }
        ColumnKind::Json => Ok(Typed::Json(serde_json::Value::Bool(flag))),
        ColumnKind::Text { .. } | ColumnKind::Enum { .. } | ColumnKind::Set { .. } => {
            from_text(if flag { "TRUE" } else { "FALSE" }, column)
        }
        _ => Err(format!(
            "a checkbox (TRUE/FALSE) cannot be stored: {}",
            describe(column)
        )),
    }
}

fn from_number(number: f64, column: &ColumnInfo) -> Result<Typed, String> {
    let shown = number_key_text(number);
    match &column.kind {
        ColumnKind::Integer { .. } | ColumnKind::Year | ColumnKind::Bit { .. } => {
            if number.fract() != 0.0 {
                return Err(format!(
                    "{shown} is not a whole number; {}",
                    describe(column)
                ));
            }
            if number.abs() >= EXACT_INTEGER_LIMIT {
                return Err(format!(
                    "{shown} is too large for a sheet number to hold exactly; type it as text"
                ));
            }
            integer_in_range(number as i128, column)
        }
        ColumnKind::Decimal { .. } => decimal(&format!("{number}"), column),
        ColumnKind::Float => float(number, column),
        ColumnKind::Double => Ok(Typed::Double(number)),
        ColumnKind::Date | ColumnKind::DateTime { .. } | ColumnKind::Timestamp { .. } => {
            serial_datetime(number, column)
        }
        ColumnKind::Time { fractional_digits } => {
            // TIME spans ±838:59:59, under 35 days.
            if number.abs() >= 35.0 {
                return Err(format!(
                    "{shown} is out of range -838:59:59 to 838:59:59; {}",
                    describe(column)
                ));
            }
            let microseconds = round_to_digits(
                (number * 86_400_000.0).round() as i128 * 1000,
                *fractional_digits,
            );
            time_from_microseconds(microseconds, column)
        }
        ColumnKind::Json => serde_json::Number::from_f64(number)
            .map(|number| Typed::Json(serde_json::Value::Number(number)))
            .ok_or_else(|| format!("{shown} cannot be stored as JSON")),
        ColumnKind::Text { .. } | ColumnKind::Enum { .. } | ColumnKind::Set { .. } => {
            from_text(&shown, column)
        }
        ColumnKind::Binary | ColumnKind::Unsupported { .. } => not_editable(column),
    }
}

fn not_editable(column: &ColumnInfo) -> Result<Typed, String> {
    Err(format!(
        "{} cannot be edited from the sheet; change it in the database",
        describe(column)
    ))
}

fn from_text(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
    let trimmed = text.trim();
    match &column.kind {
        ColumnKind::Text {
            max_characters,
            max_bytes,
            charset,
        } => text_value(
            text,
            column,
            *max_characters,
            *max_bytes,
            charset.as_deref(),
        ),
        ColumnKind::Integer { boolean, .. } => {
            if let Some(flag) = boolean_text(trimmed).filter(|_| *boolean) {
                return Ok(Typed::Integer(i128::from(flag)));
            }
            match trimmed.parse::<i128>() {
                Ok(integer) => integer_in_range(integer, column),
                Err(_) => match normalize_decimal(trimmed) {
                    Some(normal) if !normal.contains('.') => {
                        integer_in_range(normal.parse().unwrap_or(i128::MAX), column)
                    }
                    _ => Err(format!(
                        "{} is not a whole number; {}",
                        quoted(text),
                        describe(column)
                    )),
                },
            }
        }
        ColumnKind::Year | ColumnKind::Bit { .. } => match trimmed.parse::<i128>() {
            Ok(integer) => integer_in_range(integer, column),
            Err(_) if matches!(column.kind, ColumnKind::Bit { width: 1 }) => {
                match boolean_text(trimmed) {
                    Some(flag) => Ok(Typed::Integer(i128::from(flag))),
                    None => Err(format!(
                        "{} is not 0 or 1; {}",
                        quoted(text),
                        describe(column)
                    )),
                }
            }
            Err(_) => Err(format!(
                "{} is not a whole number; {}",
                quoted(text),
                describe(column)
            )),
        },
        ColumnKind::Decimal { .. } => decimal(trimmed, column),
        ColumnKind::Float | ColumnKind::Double => match trimmed.parse::<f64>() {
            Ok(number) if number.is_finite() => from_number(number, column),
            _ => Err(format!(
                "{} is not a number; {}",
                quoted(text),
                describe(column)
            )),
        },
        ColumnKind::Date | ColumnKind::DateTime { .. } | ColumnKind::Timestamp { .. } => {
            datetime_text(trimmed, column)
        }
        ColumnKind::Time { fractional_digits } => parse_time(trimmed)
            .map(|microseconds| round_to_digits(microseconds, *fractional_digits))
            .ok_or_else(|| {
                format!(
                    "{} is not a time (expected HH:MM:SS); {}",
                    quoted(text),
                    describe(column)
                )
            })
            .and_then(|microseconds| time_from_microseconds(microseconds, column)),
        ColumnKind::Enum { labels } => label(trimmed, labels)
            .map(|label| Typed::Text(label.to_string()))
            .ok_or_else(|| not_one_of(text, labels)),
        ColumnKind::Set { labels } => {
            let mut chosen = vec![false; labels.len()];
            for part in trimmed
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
            {
                let index = labels
                    .iter()
                    .position(|candidate| candidate.eq_ignore_ascii_case(part))
                    .ok_or_else(|| not_one_of(part, labels))?;
                chosen[index] = true;
            }
            let joined: Vec<&str> = labels
                .iter()
                .zip(&chosen)
                .filter(|(_, chosen)| **chosen)
                .map(|(label, _)| label.as_str())
                .collect();
            Ok(Typed::Text(joined.join(",")))
        }
        ColumnKind::Json => serde_json::from_str::<serde_json::Value>(text)
            .map(Typed::Json)
            .map_err(|error| format!("{} is not valid JSON ({error})", quoted(text))),
        ColumnKind::Binary | ColumnKind::Unsupported { .. } => not_editable(column),
    }
}

fn boolean_text(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The label equal to `text`, else the only one equal ignoring case (MySQL's `_ci` rule).
fn label<'a>(text: &str, labels: &'a [String]) -> Option<&'a str> {
    if let Some(exact) = labels.iter().find(|label| label.as_str() == text) {
        return Some(exact);
    }
    let mut folded = labels
        .iter()
        .filter(|label| label.eq_ignore_ascii_case(text));
    match (folded.next(), folded.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn not_one_of(text: &str, labels: &[String]) -> String {
    let mut listed: Vec<String> = labels.iter().take(10).map(|label| quoted(label)).collect();
    if labels.len() > 10 {
        listed.push(format!("and {} more", labels.len() - 10));
    }
    format!("{} is not one of {}", quoted(text), listed.join(", "))
}

fn integer_in_range(integer: i128, column: &ColumnInfo) -> Result<Typed, String> {
    let (minimum, maximum): (i128, i128) = match &column.kind {
        ColumnKind::Integer { unsigned, bits, .. } => {
            let bits = u32::from(*bits);
            if *unsigned {
                (0, (1i128 << bits) - 1)
            } else {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            }
        }
        ColumnKind::Year if integer == 0 => (0, 0),
        ColumnKind::Year => (1901, 2155),
        ColumnKind::Bit { width } => (0, (1i128 << (*width).min(64)) - 1),
        ColumnKind::Decimal { .. } => return decimal(&integer.to_string(), column),
        _ => (i128::MIN, i128::MAX),
    };
    if (minimum..=maximum).contains(&integer) {
        Ok(Typed::Integer(integer))
    } else {
        Err(format!(
            "{integer} is out of range {minimum} to {maximum}; {}",
            describe(column)
        ))
    }
}

fn decimal(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
    let ColumnKind::Decimal { precision, scale } = column.kind else {
        return Err(format!(
            "{} is not a number; {}",
            quoted(text),
            describe(column)
        ));
    };
    let normal = normalize_decimal(text)
        .ok_or_else(|| format!("{} is not a number; {}", quoted(text), describe(column)))?;
    let digits = normal.trim_start_matches('-');
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if fraction.len() > scale as usize {
        return Err(format!(
            "{normal} has {} decimal places; {} (at most {scale})",
            fraction.len(),
            describe(column)
        ));
    }
    let integer_digits = if integer == "0" { 0 } else { integer.len() };
    if integer_digits > precision.saturating_sub(scale) as usize {
        return Err(format!(
            "{normal} is too large; {} (at most {} digits before the point)",
            describe(column),
            precision.saturating_sub(scale)
        ));
    }
    Ok(Typed::Decimal(normal))
}

fn float(number: f64, column: &ColumnInfo) -> Result<Typed, String> {
    let single = number as f32;
    if !single.is_finite() {
        return Err(format!("{number} is out of range; {}", describe(column)));
    }
    Ok(Typed::Float(single))
}

fn text_value(
    text: &str,
    column: &ColumnInfo,
    max_characters: Option<u64>,
    max_bytes: Option<u64>,
    charset: Option<&str>,
) -> Result<Typed, String> {
    let characters = text.chars().count() as u64;
    if let Some(limit) = max_characters.filter(|limit| characters > *limit) {
        return Err(format!(
            "{characters} characters is too long; {} (at most {limit})",
            describe(column)
        ));
    }
    let charset = charset.unwrap_or("utf8mb4");
    let bytes = match charset {
        "utf8mb4" | "utf8mb3" | "utf8" => Some(text.len() as u64),
        "latin1" | "ascii" => Some(characters),
        _ => None,
    };
    if let (Some(bytes), Some(limit)) = (bytes, max_bytes) {
        if bytes > limit {
            return Err(format!(
                "{bytes} bytes is too long; {} (at most {limit} bytes)",
                describe(column)
            ));
        }
    }
    let unsupported = text.chars().find(|character| match charset {
        "utf8mb3" | "utf8" => u32::from(*character) > 0xFFFF,
        "ascii" => !character.is_ascii(),
        "latin1" => u32::from(*character) > 0xFF && !CP1252_EXTRAS.contains(character),
        _ => false,
    });
    if let Some(character) = unsupported {
        return Err(format!(
            "{character:?} cannot be stored in {} (character set {charset})",
            column.name
        ));
    }
    Ok(Typed::Text(text.to_string()))
}

/// Characters MySQL's `latin1` (Windows-1252) holds beyond U+00FF.
const CP1252_EXTRAS: &[char] = &[
    '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', 'ž', 'Ÿ',
];

/// Rounds microseconds to `digits` fractional digits of a second.
fn round_to_digits(microseconds: i128, digits: u32) -> i128 {
    let unit = 10i128.pow(6 - digits.min(6));
    let half = unit / 2;
    if microseconds >= 0 {
        (microseconds + half) / unit * unit
    } else {
        -((-microseconds + half) / unit * unit)
    }
}

fn serial_datetime(serial: f64, column: &ColumnInfo) -> Result<Typed, String> {
    // Sheets keeps times to the millisecond; rounding there first removes float noise.
    let milliseconds = (serial * 86_400_000.0).round();
    if !milliseconds.is_finite() || milliseconds.abs() > 1e15 {
        return Err(format!("{serial} is not a date; {}", describe(column)));
    }
    let microseconds = milliseconds as i128 * 1000;
    let days = microseconds.div_euclid(86_400_000_000);
    let of_day = microseconds.rem_euclid(86_400_000_000);
    let date = civil_from_days(days as i64 - SERIAL_EPOCH_OFFSET_DAYS);
    if matches!(column.kind, ColumnKind::Date) && of_day != 0 {
        return Err(format!(
            "{} has a time of day; {} (a date only)",
            number_key_text(serial),
            describe(column)
        ));
    }
    finish_datetime(date, of_day, column)
}

fn finish_datetime(
    date: Date,
    microseconds_of_day: i128,
    column: &ColumnInfo,
) -> Result<Typed, String> {
    let digits = match column.kind {
        ColumnKind::DateTime { fractional_digits }
        | ColumnKind::Timestamp { fractional_digits } => fractional_digits,
        _ => 0,
    };
    let rounded = round_to_digits(microseconds_of_day, digits);
    // Rounding up to midnight moves to the next day.
    let (date, rounded) = if rounded >= 86_400_000_000 {
        let next = super::typed::days_from_civil(date) + 1;
        (civil_from_days(next), rounded - 86_400_000_000)
    } else {
        (date, rounded)
    };
    let time = TimeOfDay {
        hour: (rounded / 3_600_000_000) as u8,
        minute: (rounded / 60_000_000 % 60) as u8,
        second: (rounded / 1_000_000 % 60) as u8,
        microsecond: (rounded % 1_000_000) as u32,
    };
    let shown = match column.kind {
        ColumnKind::Date => super::typed::date_text(date),
        _ => super::typed::datetime_text(date, time),
    };
    let in_range = match column.kind {
        ColumnKind::Date | ColumnKind::DateTime { .. } => (1000..=9999).contains(&date.year),
        ColumnKind::Timestamp { .. } => {
            let seconds = super::typed::days_from_civil(date) * 86_400
                + i64::from(time.hour) * 3600
                + i64::from(time.minute) * 60
                + i64::from(time.second);
            (1..=2_147_483_647).contains(&seconds)
        }
        _ => true,
    };
    if !in_range {
        let range = match column.kind {
            ColumnKind::Timestamp { .. } => "1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC",
            ColumnKind::Date => "1000-01-01 to 9999-12-31",
            _ => "1000-01-01 00:00:00 to 9999-12-31 23:59:59",
        };
        return Err(format!(
            "{shown} is out of range {range}; {}",
            describe(column)
        ));
    }
    Ok(match column.kind {
        ColumnKind::Date => Typed::Date(date),
        _ => Typed::DateTime(date, time),
    })
}

/// `YYYY-MM-DD`, optionally followed by ` ` or `T` and `HH:MM[:SS[.ffffff]]`.
fn datetime_text(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
    let invalid = || {
        format!(
            "{} is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS); {}",
            quoted(text),
            describe(column)
        )
    };
    if let Ok(serial) = text.parse::<f64>() {
        return serial_datetime(serial, column);
    }
    let (date_part, time_part) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim_end_matches('Z'))),
        None => (text, None),
    };
    let mut fields = date_part.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(invalid());
    };
    let all_digits =
        |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !(all_digits(year) && all_digits(month) && all_digits(day)) || year.len() > 5 {
        return Err(invalid());
    }
    let (year, month, day) = (
        year.parse::<i32>().map_err(|_| invalid())?,
        month.parse::<u8>().map_err(|_| invalid())?,
        day.parse::<u8>().map_err(|_| invalid())?,
    );
    if !valid_date(year, month, day) {
        return Err(format!(
            "{} is not a calendar date; {}",
            quoted(text),
            describe(column)
        ));
    }
    let of_day = match time_part {
        None => 0,
        Some(time) => match parse_time(time) {
            Some(microseconds) if (0..86_400_000_000).contains(&microseconds) => microseconds,
            _ => return Err(invalid()),
        },
    };
    if matches!(column.kind, ColumnKind::Date) && of_day != 0 {
        return Err(format!(
            "{} has a time of day; {} (a date only)",
            quoted(text),
            describe(column)
        ));
    }
    finish_datetime(Date { year, month, day }, of_day, column)
}

/// `[-]H:MM[:SS[.ffffff]]` → signed microseconds.
fn parse_time(text: &str) -> Option<i128> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split(':');
    let hours: i128 = parts.next().filter(|part| !part.is_empty())?.parse().ok()?;
    let minutes: i128 = parts.next()?.parse().ok()?;
    let (seconds, fraction) = match parts.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            if fraction.len() > 6 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            let fraction = format!("{fraction:0<6}").parse::<i128>().ok()?;
            (whole.parse::<i128>().ok()?, fraction)
        }
    };
    if parts.next().is_some() || minutes >= 60 || seconds >= 60 || hours < 0 {
        return None;
    }
    let magnitude = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + fraction;
    Some(if negative { -magnitude } else { magnitude })
}

fn time_from_microseconds(microseconds: i128, column: &ColumnInfo) -> Result<Typed, String> {
    const LIMIT: i128 = (838 * 3600 + 59 * 60 + 59) * 1_000_000;
    if microseconds.abs() > LIMIT {
        return Err(format!(
            "the time is out of range -838:59:59 to 838:59:59; {}",
            describe(column)
        ));
    }
    let magnitude = microseconds.abs();
    Ok(Typed::Time {
        negative: microseconds < 0,
        hours: (magnitude / 3_600_000_000) as u32,
        minutes: (magnitude / 60_000_000 % 60) as u8,
        seconds: (magnitude / 1_000_000 % 60) as u8,
        microsecond: (magnitude % 1_000_000) as u32,
    })
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
