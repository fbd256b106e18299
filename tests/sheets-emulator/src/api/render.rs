//! Rendering cells for reads: `valueRenderOption` (FORMATTED_VALUE, UNFORMATTED_VALUE, FORMULA),
//! `dateTimeRenderOption` (SERIAL_NUMBER, FORMATTED_STRING), and a small number-format engine
//! for the patterns USER_ENTERED produces (dates, times, percents, currency, grouping).
//!
//! Formulas are not evaluated: a formula cell reads back as its formula text in every mode.

use serde_json::{json, Value};

use super::model::{Cell, CellValue};
use super::user_entered::{civil_from_days, SERIAL_EPOCH_DAYS};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRender {
    Formatted,
    Unformatted,
    Formula,
}

impl ValueRender {
    pub fn parse(value: Option<&str>) -> Result<ValueRender, ApiError> {
        match value {
            None | Some("FORMATTED_VALUE") => Ok(ValueRender::Formatted),
            Some("UNFORMATTED_VALUE") => Ok(ValueRender::Unformatted),
            Some("FORMULA") => Ok(ValueRender::Formula),
            Some(other) => Err(ApiError::invalid_argument(format!(
                "Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), \"{other}\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeRender {
    SerialNumber,
    FormattedString,
}

impl DateTimeRender {
    pub fn parse(value: Option<&str>) -> Result<DateTimeRender, ApiError> {
        match value {
            None | Some("SERIAL_NUMBER") => Ok(DateTimeRender::SerialNumber),
            Some("FORMATTED_STRING") => Ok(DateTimeRender::FormattedString),
            Some(other) => Err(ApiError::invalid_argument(format!(
                "Invalid value at 'date_time_render_option' (type.googleapis.com/google.apps.sheets.v4.DateTimeRenderOption), \"{other}\""
            ))),
        }
    }
}

/// One cell as a `values[][]` entry. Empty cells are `""`.
pub fn render(
    cell: Option<&Cell>,
    value_render: ValueRender,
    date_render: DateTimeRender,
) -> Value {
    let Some(cell) = cell else { return json!("") };
    let Some(value) = &cell.value else {
        return json!("");
    };
    match value_render {
        ValueRender::Formatted => json!(formatted_value(cell).unwrap_or_default()),
        ValueRender::Unformatted | ValueRender::Formula => match value {
            CellValue::Number(number) => {
                let is_date = matches!(
                    cell.number_format(),
                    Some(("DATE" | "TIME" | "DATE_TIME", _))
                );
                if is_date && date_render == DateTimeRender::FormattedString {
                    json!(formatted_value(cell).unwrap_or_default())
                } else {
                    number_json(*number)
                }
            }
            CellValue::Bool(flag) => json!(flag),
            CellValue::Text(text) | CellValue::Formula(text) => json!(text),
        },
    }
}

/// Integral numbers as JSON integers (Google sends `42`, not `42.0`).
pub fn number_json(number: f64) -> Value {
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        json!(number as i64)
    } else {
        json!(number)
    }
}

/// The cell's `formattedValue`.
pub fn formatted_value(cell: &Cell) -> Option<String> {
    Some(match cell.value.as_ref()? {
        CellValue::Text(text) | CellValue::Formula(text) => text.clone(),
        CellValue::Bool(flag) => if *flag { "TRUE" } else { "FALSE" }.to_string(),
        CellValue::Number(number) => match cell.number_format() {
            Some((kind, pattern)) if !pattern.is_empty() => {
                format_with_pattern(*number, kind, pattern)
            }
            Some(("DATE", _)) => format_date_time(*number, "M/d/yyyy"),
            Some(("TIME", _)) => format_date_time(*number, "h:mm:ss am/pm"),
            Some(("DATE_TIME", _)) => format_date_time(*number, "M/d/yyyy H:mm:ss"),
            _ => general(*number),
        },
    })
}

/// Sheets' "General" (automatic) format: up to 15 significant digits, trailing zeros dropped,
/// scientific notation for very large or very small magnitudes.
pub fn general(number: f64) -> String {
    if number == 0.0 {
        return "0".into();
    }
    let magnitude = number.abs();
    if !(1e-9..1e15).contains(&magnitude) {
        let text = format!("{:.5E}", number);
        let (mantissa, exponent) = text.split_once('E').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}E{sign}{:02}", exponent.abs());
    }
    let integer_digits = magnitude.log10().floor() as i32 + 1;
    let decimals = (15 - integer_digits).clamp(0, 20) as usize;
    trim_zeros(&format!("{number:.decimals$}"))
}

fn trim_zeros(text: &str) -> String {
    if !text.contains('.') {
        return text.to_string();
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn format_with_pattern(number: f64, kind: &str, pattern: &str) -> String {
    // Only the first section of `positive;negative;zero` patterns is modelled.
    let section = pattern.split(';').next().unwrap_or(pattern);
    match kind {
        "DATE" | "TIME" | "DATE_TIME" => format_date_time(number, section),
        _ => format_number(number, section),
    }
}

/// Number patterns such as `0`, `0.00`, `#,##0.00`, `0%`, `"$"#,##0.00`.
fn format_number(number: f64, pattern: &str) -> String {
    let mut prefix = String::new();
    let mut suffix = String::new();
    let mut core = String::new();
    let mut in_quotes = false;
    for character in pattern.chars() {
        match character {
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {
                if core.is_empty() {
                    prefix.push(character)
                } else {
                    suffix.push(character)
                }
            }
            '0' | '#' | '.' | ',' | '?' => core.push(character),
            '\\' => {}
            _ => {
                if core.is_empty() {
                    prefix.push(character)
                } else {
                    suffix.push(character)
                }
            }
        }
    }
    if core.is_empty() {
        return general(number);
    }
    let mut value = number.abs();
    if pattern.contains('%') && !in_quotes {
        value *= 100.0;
    }
    let (integer_pattern, fraction_pattern) = core.split_once('.').unwrap_or((&core, ""));
    let minimum_decimals = fraction_pattern
        .chars()
        .filter(|character| *character == '0')
        .count();
    let maximum_decimals = fraction_pattern
        .chars()
        .filter(|character| matches!(character, '0' | '#' | '?'))
        .count();
    let mut text = format!("{value:.maximum_decimals$}");
    if maximum_decimals > minimum_decimals {
        let (whole, fraction) = text
            .split_once('.')
            .map(|(w, f)| (w.to_string(), f.to_string()))
            .unwrap_or((text.clone(), String::new()));
        let mut fraction = fraction;
        while fraction.len() > minimum_decimals && fraction.ends_with('0') {
            fraction.pop();
        }
        text = if fraction.is_empty() {
            whole
        } else {
            format!("{whole}.{fraction}")
        };
    }
    if integer_pattern.contains(',') {
        let (whole, fraction) = text
            .split_once('.')
            .map(|(w, f)| (w.to_string(), Some(f.to_string())))
            .unwrap_or((text.clone(), None));
        let grouped = group_thousands(&whole);
        text = match fraction {
            Some(fraction) => format!("{grouped}.{fraction}"),
            None => grouped,
        };
    }
    let sign = if number < 0.0 && value != 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{prefix}{text}{suffix}")
}

fn group_thousands(digits: &str) -> String {
    let mut grouped = String::new();
    for (index, character) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(character);
    }
    grouped
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Date and time patterns: `yyyy yy mmmm mmm mm m dddd ddd dd d hh h ss s am/pm`. `m` means
/// minutes right after an hour token or right before a seconds token, as in Sheets.
pub fn format_date_time(serial: f64, pattern: &str) -> String {
    let day_number = serial.floor() as i64;
    let mut seconds_of_day = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let mut days = day_number + SERIAL_EPOCH_DAYS;
    if seconds_of_day >= 86_400 {
        seconds_of_day -= 86_400;
        days += 1;
    }
    let (year, month, day) = civil_from_days(days);
    let hour = seconds_of_day / 3600;
    let minute = (seconds_of_day % 3600) / 60;
    let second = seconds_of_day % 60;
    let twelve_hour = pattern.to_ascii_lowercase().contains("am/pm");
    let tokens = tokenize(pattern);
    let mut output = String::new();
    for (position, token) in tokens.iter().enumerate() {
        let lower = token.to_ascii_lowercase();
        let after_hour = tokens[..position]
            .iter()
            .rev()
            .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .is_some_and(|t| t.to_ascii_lowercase().starts_with('h'));
        let before_second = tokens[position + 1..]
            .iter()
            .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .is_some_and(|t| t.to_ascii_lowercase().starts_with('s'));
        let piece = match lower.as_str() {
            "yyyy" | "yyy" => format!("{year:04}"),
            "yy" | "y" => format!("{:02}", year.rem_euclid(100)),
            "mmmm" => MONTHS[(month - 1) as usize].to_string(),
            "mmm" => MONTHS[(month - 1) as usize][..3].to_string(),
            "mm" if after_hour || before_second => format!("{minute:02}"),
            "m" if after_hour || before_second => minute.to_string(),
            "mm" => format!("{month:02}"),
            "m" => month.to_string(),
            "dddd" => WEEKDAYS[days.rem_euclid(7) as usize].to_string(),
            "ddd" => WEEKDAYS[days.rem_euclid(7) as usize][..3].to_string(),
            "dd" => format!("{day:02}"),
            "d" => day.to_string(),
            "hh" | "h" => {
                let shown = if twelve_hour {
                    (hour + 11) % 12 + 1
                } else {
                    hour
                };
                if lower == "hh" {
                    format!("{shown:02}")
                } else {
                    shown.to_string()
                }
            }
            "ss" => format!("{second:02}"),
            "s" => second.to_string(),
            "am/pm" => if hour < 12 { "AM" } else { "PM" }.to_string(),
            _ => token.trim_matches('"').to_string(),
        };
        output.push_str(&piece);
    }
    output
}

/// Split a date pattern into runs of one letter, `am/pm`, quoted literals and other characters.
fn tokenize(pattern: &str) -> Vec<String> {
    let characters: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let rest: String = characters[index..].iter().collect();
        if rest.to_ascii_lowercase().starts_with("am/pm") {
            tokens.push("am/pm".to_string());
            index += 5;
        } else if character == '"' {
            let end = characters[index + 1..]
                .iter()
                .position(|c| *c == '"')
                .map(|offset| index + 1 + offset)
                .unwrap_or(characters.len() - 1);
            tokens.push(characters[index..=end].iter().collect());
            index = end + 1;
        } else if character.is_ascii_alphabetic() {
            let lower = character.to_ascii_lowercase();
            let mut end = index;
            while end < characters.len() && characters[end].to_ascii_lowercase() == lower {
                end += 1;
            }
            tokens.push(characters[index..end].iter().collect());
            index = end;
        } else {
            tokens.push(character.to_string());
            index += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell_with(value: CellValue, format: Option<Value>) -> Cell {
        Cell {
            value: Some(value),
            note: None,
            format: format.map(|number_format| Box::new(json!({"numberFormat": number_format}))),
        }
    }

    #[test]
    fn general_format() {
        assert_eq!(general(42.0), "42");
        assert_eq!(general(-1.5), "-1.5");
        assert_eq!(general(0.1 + 0.2), "0.3");
        assert_eq!(general(1234567.891), "1234567.891");
        assert_eq!(general(1e20), "1E+20");
    }

    #[test]
    fn render_options() {
        let number = cell_with(CellValue::Number(3.0), None);
        assert_eq!(
            render(
                Some(&number),
                ValueRender::Formatted,
                DateTimeRender::SerialNumber
            ),
            json!("3")
        );
        assert_eq!(
            render(
                Some(&number),
                ValueRender::Unformatted,
                DateTimeRender::SerialNumber
            ),
            json!(3)
        );
        let flag = cell_with(CellValue::Bool(true), None);
        assert_eq!(
            render(
                Some(&flag),
                ValueRender::Formatted,
                DateTimeRender::SerialNumber
            ),
            json!("TRUE")
        );
        assert_eq!(
            render(
                Some(&flag),
                ValueRender::Unformatted,
                DateTimeRender::SerialNumber
            ),
            json!(true)
        );
        let formula = cell_with(CellValue::Formula("=1+2".into()), None);
        assert_eq!(
            render(
                Some(&formula),
                ValueRender::Formula,
                DateTimeRender::SerialNumber
            ),
            json!("=1+2")
        );
        assert_eq!(
            render(None, ValueRender::Unformatted, DateTimeRender::SerialNumber),
            json!("")
        );
    }

    #[test]
    fn dates_and_patterns() {
        let date = cell_with(
            CellValue::Number(45_322.0),
            Some(json!({"type": "DATE", "pattern": "yyyy-mm-dd"})),
        );
        assert_eq!(
            render(
                Some(&date),
                ValueRender::Formatted,
                DateTimeRender::SerialNumber
            ),
            json!("2024-01-31")
        );
        assert_eq!(
            render(
                Some(&date),
                ValueRender::Unformatted,
                DateTimeRender::SerialNumber
            ),
            json!(45_322)
        );
        assert_eq!(
            render(
                Some(&date),
                ValueRender::Unformatted,
                DateTimeRender::FormattedString
            ),
            json!("2024-01-31")
        );
        assert_eq!(
            format_date_time(45_322.5, "M/d/yyyy H:mm:ss"),
            "1/31/2024 12:00:00"
        );
        assert_eq!(
            format_date_time(2.5, "yyyy-mm-dd hh:mm"),
            "1900-01-01 12:00"
        );
        assert_eq!(format_date_time(45_322.75, "h:mm am/pm"), "6:00 PM");
        assert_eq!(format_number(0.5, "0%"), "50%");
        assert_eq!(format_number(0.125, "0.0%"), "12.5%");
        assert_eq!(format_number(1234.5, "\"$\"#,##0.00"), "$1,234.50");
        assert_eq!(format_number(-1234.5, "#,##0.0"), "-1,234.5");
        assert_eq!(format_number(1.23456, "0.00"), "1.23");
    }
}
