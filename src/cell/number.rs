//! Numbers: integers, FLOAT, DOUBLE, DECIMAL and BIT → `numberValue`, or exact text when a
//! double would lose a digit (integers beyond 2^53, decimals that do not survive f64).

use super::{fit_text, format, Converted, EXACT_INTEGER_LIMIT};
use crate::sheets::model::{CellData, NumberFormatType};

/// A number when exact in f64, else its exact digits as text.
/// `digits` is only called for integers a double cannot hold (the text is an allocation the
/// common case does not need).
pub(super) fn integer(magnitude: u64, number: f64, digits: impl FnOnce() -> String) -> CellData {
    if magnitude <= EXACT_INTEGER_LIMIT {
        CellData::number(number)
    } else {
        CellData::text(digits())
    }
}

/// FLOAT through its shortest f32 text, so 0.1f32 is written as 0.1, not 0.10000000149.
pub(super) fn float(number: f32) -> CellData {
    let shortest = number.to_string();
    match shortest.parse::<f64>() {
        Ok(widened) if widened.is_finite() => CellData::number(widened),
        _ => CellData::text(shortest),
    }
}

/// JSON has no NaN or infinity; MySQL cannot store them either, but a text is safer than null.
pub(super) fn double(number: f64) -> CellData {
    if number.is_finite() {
        CellData::number(number)
    } else {
        CellData::text(number.to_string())
    }
}

/// A number when the decimal text survives f64 digit for digit, else the exact text.
pub(super) fn decimal(text: &str, column_scale: Option<u8>) -> Converted {
    let Some(number) = exact_f64(text) else {
        return fit_text(text);
    };
    let scale = column_scale.map(usize::from).unwrap_or_else(|| {
        text.split_once('.')
            .map(|(_, fraction)| fraction.len())
            .unwrap_or(0)
    });
    let pattern = if scale == 0 {
        "0".to_string()
    } else {
        format!("0.{}", "0".repeat(scale))
    };
    Converted::plain(
        CellData::number(number).with_number_format(format(NumberFormatType::Number, &pattern)),
    )
}

/// The f64 whose shortest decimal form has the same significant digits as `text`.
fn exact_f64(text: &str) -> Option<f64> {
    let number: f64 = text.trim().parse().ok()?;
    if !number.is_finite() {
        return None;
    }
    let wanted = significant(text.trim())?;
    (significant(&number.to_string())? == wanted).then_some(if number == 0.0 {
        0.0
    } else {
        number
    })
}

/// (negative, digits without leading/trailing zeros, position of the decimal point relative
/// to the first digit); zero is `(false, "", 0)` whatever its sign or scale.
fn significant(text: &str) -> Option<(bool, String, i64)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all: String = format!("{whole}{fraction}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_string();
    if digits.is_empty() {
        return Some((false, String::new(), 0));
    }
    let point = whole.len() as i64 - leading as i64;
    Some((negative, digits, point))
}
