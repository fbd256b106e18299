//! Turning input values into cell values: `RAW` keeps strings as strings; `USER_ENTERED` parses
//! them "as if the user typed them into the UI" (numbers, percents, currency, booleans, dates,
//! formulas, a leading `'` forcing text).

use serde_json::{json, Value};

use super::model::{CellValue, MAX_CHARACTERS_PER_CELL};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputOption {
    Raw,
    UserEntered,
}

impl InputOption {
    /// `valueInputOption` is required; Google's message when it is missing.
    pub fn parse(value: Option<&str>) -> Result<InputOption, ApiError> {
        match value {
            Some("RAW") => Ok(InputOption::Raw),
            Some("USER_ENTERED") => Ok(InputOption::UserEntered),
            None | Some("") | Some("INPUT_VALUE_OPTION_UNSPECIFIED") => {
                Err(ApiError::invalid_argument("'valueInputOption' is required but not specified"))
            }
            Some(other) => Err(ApiError::invalid_argument(format!(
                "Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), \"{other}\""
            ))),
        }
    }
}

/// What writing one JSON value does to a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `null`: leave the cell alone.
    Skip,
    /// `""`: clear the value.
    Clear,
    /// A value, plus a number format USER_ENTERED inferred (dates, percents, currency).
    Set(CellValue, Option<Value>),
}

pub fn too_many_characters() -> ApiError {
    ApiError::invalid_argument(
        "Your input contains more than the maximum of 50000 characters in a single cell.",
    )
}

pub fn interpret(value: &Value, option: InputOption) -> Result<Input, ApiError> {
    let text = match value {
        Value::Null => return Ok(Input::Skip),
        Value::Bool(flag) => return Ok(Input::Set(CellValue::Bool(*flag), None)),
        Value::Number(number) => {
            return Ok(Input::Set(
                CellValue::Number(number.as_f64().unwrap_or(0.0)),
                None,
            ));
        }
        Value::String(text) => text,
        Value::Array(_) | Value::Object(_) => {
            return Err(ApiError::invalid_argument(format!(
                "Invalid values: {value}"
            )));
        }
    };
    if text.chars().count() > MAX_CHARACTERS_PER_CELL {
        return Err(too_many_characters());
    }
    if text.is_empty() {
        return Ok(Input::Clear);
    }
    if option == InputOption::Raw {
        return Ok(Input::Set(CellValue::Text(text.clone()), None));
    }
    Ok(parse_typed(text))
}

/// The USER_ENTERED parser for one non-empty string.
pub fn parse_typed(text: &str) -> Input {
    if let Some(rest) = text.strip_prefix('\'') {
        // The apostrophe only forces text; it is not stored.
        if rest.is_empty() {
            return Input::Clear;
        }
        return Input::Set(CellValue::Text(rest.to_string()), None);
    }
    if text.starts_with('=') && text.len() > 1 {
        return Input::Set(CellValue::Formula(text.to_string()), None);
    }
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        return Input::Set(CellValue::Bool(true), None);
    }
    if trimmed.eq_ignore_ascii_case("false") {
        return Input::Set(CellValue::Bool(false), None);
    }
    if let Some((number, format)) = parse_number(trimmed) {
        return Input::Set(CellValue::Number(number), format);
    }
    if let Some((serial, format)) = parse_date_time(trimmed) {
        return Input::Set(CellValue::Number(serial), Some(format));
    }
    Input::Set(CellValue::Text(text.to_string()), None)
}

/// Plain numbers (`42`, `-1.5e3`, `0050`), grouped (`1,234.5`), percents (`50%`) and dollars
/// (`$100.15`, `-$5`).
fn parse_number(text: &str) -> Option<(f64, Option<Value>)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (currency, unsigned) = match unsigned.strip_prefix('$') {
        Some(rest) => (true, rest),
        None => (false, unsigned),
    };
    let (percent, digits) = match unsigned.strip_suffix('%') {
        Some(rest) if !currency => (true, rest),
        _ => (false, unsigned),
    };
    let grouped = digits.contains(',');
    if grouped && !valid_grouping(digits) {
        return None;
    }
    let plain: String = digits
        .chars()
        .filter(|character| *character != ',')
        .collect();
    if plain.is_empty()
        || !plain.chars().all(|character| {
            character.is_ascii_digit() || matches!(character, '.' | 'e' | 'E' | '+' | '-')
        })
        || !plain
            .chars()
            .next()
            .is_some_and(|character| character.is_ascii_digit() || character == '.')
    {
        return None;
    }
    let mut number: f64 = plain.parse().ok()?;
    if !number.is_finite() {
        return None;
    }
    if negative {
        number = -number;
    }
    let decimals = plain
        .split_once('.')
        .map(|(_, fraction)| fraction.len())
        .unwrap_or(0);
    if percent {
        let pattern = if decimals == 0 {
            "0%".to_string()
        } else {
            format!("0.{}%", "0".repeat(decimals))
        };
        return Some((
            number / 100.0,
            Some(json!({"type": "PERCENT", "pattern": pattern})),
        ));
    }
    if currency {
        return Some((
            number,
            Some(json!({"type": "CURRENCY", "pattern": "\"$\"#,##0.00"})),
        ));
    }
    if grouped {
        let pattern = if decimals == 0 {
            "#,##0".to_string()
        } else {
            format!("#,##0.{}", "0".repeat(decimals))
        };
        return Some((number, Some(json!({"type": "NUMBER", "pattern": pattern}))));
    }
    Some((number, None))
}

/// `1,234,567.89`: groups of three after the first.
fn valid_grouping(text: &str) -> bool {
    let integer_part = text.split('.').next().unwrap_or("");
    let mut groups = integer_part.split(',');
    let first = groups.next().unwrap_or("");
    if first.is_empty() || first.len() > 3 {
        return false;
    }
    groups
        .all(|group| group.len() == 3 && group.chars().all(|character| character.is_ascii_digit()))
        && !text
            .split('.')
            .nth(1)
            .is_some_and(|fraction| fraction.contains(','))
}

/// Days between 1970-01-01 and a civil date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = if days >= 0 { days } else { days - 146_096 } / 146_097;
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Sheets' epoch: serial 0 is 1899-12-30.
pub const SERIAL_EPOCH_DAYS: i64 = -25_569;

pub fn serial_from_date(year: i64, month: u32, day: u32) -> f64 {
    (days_from_civil(year, month, day) - SERIAL_EPOCH_DAYS) as f64
}

fn valid_date(year: i64, month: u32, day: u32) -> bool {
    if !(1..=12).contains(&month) || day == 0 || !(1..=9999).contains(&year) {
        return false;
    }
    let (round_year, round_month, round_day) = civil_from_days(days_from_civil(year, month, day));
    (round_year, round_month, round_day) == (year, month, day)
}

/// `2024-01-31`, `2024/01/31`, `1/31/2024` (en_US), optionally followed by `13:45[:30]`; or a
/// bare time `13:45[:30]`.
fn parse_date_time(text: &str) -> Option<(f64, Value)> {
    let (date_part, time_part) = match text.split_once(' ') {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text, None),
    };
    if time_part.is_none() {
        if let Some(fraction) = parse_time(date_part) {
            return Some((
                fraction,
                json!({"type": "TIME", "pattern": "h:mm:ss am/pm"}),
            ));
        }
    }
    let (serial, date_pattern) = parse_date(date_part)?;
    match time_part {
        None => Some((serial, json!({"type": "DATE", "pattern": date_pattern}))),
        Some(time) => {
            let fraction = parse_time(time)?;
            Some((
                serial + fraction,
                json!({"type": "DATE_TIME", "pattern": format!("{date_pattern} h:mm:ss")}),
            ))
        }
    }
}

fn parse_date(text: &str) -> Option<(f64, &'static str)> {
    let separator = if text.contains('-') { '-' } else { '/' };
    let parts: Vec<&str> = text.split(separator).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|part| part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let numbers: Vec<i64> = parts.iter().filter_map(|part| part.parse().ok()).collect();
    if numbers.len() != 3 {
        return None;
    }
    let (year, month, day, pattern) = if parts[0].len() == 4 {
        (
            numbers[0],
            numbers[1],
            numbers[2],
            if separator == '-' {
                "yyyy-mm-dd"
            } else {
                "yyyy/mm/dd"
            },
        )
    } else if parts[2].len() == 4 && separator == '/' {
        (numbers[2], numbers[0], numbers[1], "M/d/yyyy")
    } else {
        return None;
    };
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    if !valid_date(year, month, day) {
        return None;
    }
    Some((serial_from_date(year, month, day), pattern))
}

/// `13:45` or `13:45:30` as a fraction of a day.
fn parse_time(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts.iter().any(|part| {
            part.is_empty() || part.len() > 2 || !part.chars().all(|c| c.is_ascii_digit())
        })
    {
        return None;
    }
    let hours: u32 = parts[0].parse().ok()?;
    let minutes: u32 = parts[1].parse().ok()?;
    let seconds: u32 = parts
        .get(2)
        .map(|part| part.parse().ok())
        .unwrap_or(Some(0))?;
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some((hours * 3600 + minutes * 60 + seconds) as f64 / 86_400.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Input {
        interpret(&json!(text), InputOption::UserEntered).unwrap()
    }

    #[test]
    fn raw_keeps_strings() {
        assert_eq!(
            interpret(&json!("=1+2"), InputOption::Raw).unwrap(),
            Input::Set(CellValue::Text("=1+2".into()), None)
        );
        assert_eq!(
            interpret(&json!("42"), InputOption::Raw).unwrap(),
            Input::Set(CellValue::Text("42".into()), None)
        );
        assert_eq!(
            interpret(&json!(42), InputOption::Raw).unwrap(),
            Input::Set(CellValue::Number(42.0), None)
        );
        assert_eq!(
            interpret(&json!(true), InputOption::Raw).unwrap(),
            Input::Set(CellValue::Bool(true), None)
        );
        assert_eq!(
            interpret(&Value::Null, InputOption::Raw).unwrap(),
            Input::Skip
        );
        assert_eq!(
            interpret(&json!(""), InputOption::Raw).unwrap(),
            Input::Clear
        );
    }

    #[test]
    fn user_entered_parses_like_the_ui() {
        assert_eq!(typed("42"), Input::Set(CellValue::Number(42.0), None));
        assert_eq!(typed("0050"), Input::Set(CellValue::Number(50.0), None));
        assert_eq!(typed("-1.5"), Input::Set(CellValue::Number(-1.5), None));
        assert!(
            matches!(typed("1,234.5"), Input::Set(CellValue::Number(number), Some(_)) if number == 1234.5)
        );
        assert!(
            matches!(typed("50%"), Input::Set(CellValue::Number(number), Some(_)) if number == 0.5)
        );
        assert!(
            matches!(typed("$100.15"), Input::Set(CellValue::Number(number), Some(_)) if number == 100.15)
        );
        assert_eq!(typed("true"), Input::Set(CellValue::Bool(true), None));
        assert_eq!(typed("FaLsE"), Input::Set(CellValue::Bool(false), None));
        assert_eq!(
            typed("=SUM(A1:A2)"),
            Input::Set(CellValue::Formula("=SUM(A1:A2)".into()), None)
        );
        assert_eq!(
            typed("'=not a formula"),
            Input::Set(CellValue::Text("=not a formula".into()), None)
        );
        assert_eq!(typed("'42"), Input::Set(CellValue::Text("42".into()), None));
        assert_eq!(
            typed("hello"),
            Input::Set(CellValue::Text("hello".into()), None)
        );
        assert_eq!(
            typed("1,23"),
            Input::Set(CellValue::Text("1,23".into()), None)
        );
        assert_eq!(
            typed("12abc"),
            Input::Set(CellValue::Text("12abc".into()), None)
        );
    }

    #[test]
    fn dates_become_serial_numbers() {
        assert_eq!(serial_from_date(1899, 12, 31), 1.0);
        assert_eq!(serial_from_date(1900, 2, 1), 33.0);
        assert_eq!(serial_from_date(2024, 1, 31), 45_322.0);
        match typed("2024-01-31") {
            Input::Set(CellValue::Number(serial), Some(format)) => {
                assert_eq!(serial, 45_322.0);
                assert_eq!(format["type"], "DATE");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(typed("1/31/2024"), Input::Set(CellValue::Number(serial), Some(_)) if serial == 45_322.0)
        );
        assert!(
            matches!(typed("2024-01-31 12:00"), Input::Set(CellValue::Number(serial), Some(_)) if serial == 45_322.5)
        );
        assert_eq!(
            typed("2024-02-30"),
            Input::Set(CellValue::Text("2024-02-30".into()), None)
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn rejects_huge_cells_and_missing_option() {
        let huge = "x".repeat(50_001);
        assert_eq!(
            interpret(&json!(huge), InputOption::Raw)
                .unwrap_err()
                .message,
            too_many_characters().message
        );
        assert!(interpret(&json!("x".repeat(50_000)), InputOption::Raw).is_ok());
        assert_eq!(
            InputOption::parse(None).unwrap_err().message,
            "'valueInputOption' is required but not specified"
        );
    }
}
