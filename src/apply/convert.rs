//! Sheet cell → MySQL value of one column, with a clear reason when it does not fit.
//!
//! Consumes a webhook [`CellValue`] (text, number, boolean, empty; dates arrive as serial
//! numbers; a TIMESTAMP is wall-clock time in `sync.time_zone`, as the writer shows it) and
//! the column's [`ColumnInfo`]; produces a
//! [`Typed`] value MySQL stores exactly as given, or the sentence shown to the editor in a cell
//! note ("\"abc\" is not a whole number; qty is int(11)"). Pure; never panics on any input.
//! Nothing is silently rounded or truncated: a value MySQL would change is refused.

use super::columns::{ColumnInfo, ColumnKind};
use jiff::tz::TimeZone;

use super::convert_time::{
    in_zone, parse_datetime, parse_time, round_to_digits, serial_datetime, time_from_microseconds,
};
use super::typed::{normalize_decimal, Typed};
use crate::sync::number_key_text;
use crate::webhook::CellValue;

/// Largest integer a sheet number holds exactly (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Converts a cell typed into the sheet; a TIMESTAMP is read as wall-clock time in `zone`.
pub fn convert_cell(
    cell: &CellValue,
    column: &ColumnInfo,
    zone: &TimeZone,
) -> Result<Typed, String> {
    let value = match cell {
        CellValue::Empty => empty(column),
        CellValue::Text(text) if text.is_empty() => empty(column),
        CellValue::Text(text) => from_text(text, column),
        CellValue::Number(number) => from_number(*number, column),
        CellValue::Boolean(flag) => from_boolean(*flag, column),
    }?;
    timestamp_in_zone(value, column, zone)
}

fn timestamp_in_zone(value: Typed, column: &ColumnInfo, zone: &TimeZone) -> Result<Typed, String> {
    match column.kind {
        ColumnKind::Timestamp { .. } => in_zone(value, zone, column),
        _ => Ok(value),
    }
}

/// Converts what the editor saw before a single-cell edit (Apps Script's `e.oldValue`, text).
/// Numbers and dates come as their unformatted text (`12.5`, a serial number), so text that
/// reads as a number is taken as one for numeric and date columns.
pub fn convert_old_value(
    text: &str,
    column: &ColumnInfo,
    zone: &TimeZone,
) -> Result<Typed, String> {
    if text.is_empty() {
        return empty(column).or(Ok(Typed::Null));
    }
    timestamp_in_zone(old_value(text, column)?, column, zone)
}

fn old_value(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
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

pub(super) fn describe(column: &ColumnInfo) -> String {
    format!("{} is {}", column.name, column.column_type)
}

pub(super) fn quoted(text: &str) -> String {
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
            parse_datetime(trimmed, column)
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

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
