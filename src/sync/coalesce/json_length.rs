//! The length of a cell's JSON, computed without writing it.
//!
//! Consumes a [`CellData`]; produces exactly `serde_json::to_vec(cell).len()` for the cells the
//! stream writes (a value, a number format, a note), and falls back to serializing for anything
//! else. Why: the coalescer prices every row it receives, and serializing each cell into a byte
//! counter was a third of the routing and coalescing time in the decode benchmark.

use crate::sheets::model::{CellData, ExtendedValue, NumberFormatType};

/// `"userEnteredValue":`
const VALUE_KEY: usize = 19;
/// `"userEnteredFormat":{"numberFormat":{"type":` and the closing `}}`
const FORMAT_OPENING: usize = 44;
const FORMAT_CLOSING: usize = 2;
/// `,"pattern":`
const PATTERN_KEY: usize = 11;
/// `"note":`
const NOTE_KEY: usize = 7;

pub(super) fn cell_json_length(cell: &CellData) -> usize {
    if cell.effective_value.is_some() || cell.formatted_value.is_some() {
        return serialized_length(cell);
    }
    let mut fields = Vec::with_capacity(3);
    if let Some(value) = &cell.user_entered_value {
        let value = match value {
            ExtendedValue::NumberValue(number) => number_length(*number) + 16,
            ExtendedValue::StringValue(text) => string_length(text) + 16,
            ExtendedValue::BoolValue(true) => 4 + 14,
            ExtendedValue::BoolValue(false) => 5 + 14,
            _ => return serialized_length(cell),
        };
        fields.push(VALUE_KEY + value);
    }
    if let Some(format) = &cell.user_entered_format {
        fields.push(match &format.number_format {
            // `"userEnteredFormat":{}`
            None => 22,
            Some(number_format) => {
                FORMAT_OPENING
                    + type_name(number_format.format_type).len()
                    + 2
                    + number_format
                        .pattern
                        .as_deref()
                        .map_or(0, |pattern| PATTERN_KEY + string_length(pattern))
                    + FORMAT_CLOSING
            }
        });
    }
    if let Some(note) = &cell.note {
        fields.push(NOTE_KEY + string_length(note));
    }
    // Braces, and a comma between fields.
    2 + fields.iter().sum::<usize>() + fields.len().saturating_sub(1)
}

fn serialized_length(cell: &CellData) -> usize {
    // Serializing these types cannot fail (no maps with non-string keys); an error would only
    // make the estimate smaller, never stop the stream.
    serde_json::to_vec(cell).map_or(0, |bytes| bytes.len())
}

/// serde_json writes finite doubles with zmij (NaN and infinities as `null`).
fn number_length(number: f64) -> usize {
    if number.is_finite() {
        zmij::Buffer::new().format_finite(number).len()
    } else {
        4
    }
}

/// A JSON string with its quotes: `"` and `\` take two bytes, control characters two (`\n`
/// and the like) or six (`\u001f`).
fn string_length(text: &str) -> usize {
    let escapes: usize = text
        .bytes()
        .map(|byte| match byte {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    text.len() + escapes + 2
}

fn type_name(format_type: NumberFormatType) -> &'static str {
    match format_type {
        NumberFormatType::Text => "TEXT",
        NumberFormatType::Number => "NUMBER",
        NumberFormatType::Percent => "PERCENT",
        NumberFormatType::Currency => "CURRENCY",
        NumberFormatType::Date => "DATE",
        NumberFormatType::Time => "TIME",
        NumberFormatType::DateTime => "DATE_TIME",
        NumberFormatType::Scientific => "SCIENTIFIC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheets::model::{CellFormat, NumberFormat};

    fn formatted(format_type: NumberFormatType, pattern: Option<&str>) -> CellData {
        CellData::number(45_000.25).with_number_format(NumberFormat {
            format_type,
            pattern: pattern.map(String::from),
        })
    }

    #[test]
    fn the_length_is_what_serde_json_writes() {
        let mut with_note = CellData::number(12.5);
        with_note.note = Some("refused: \"abc\"\n is not a number\u{1}".into());
        let mut note_only = CellData::empty();
        note_only.note = Some(String::new());
        let mut empty_format = CellData::text("x");
        empty_format.user_entered_format = Some(CellFormat::default());
        let mut read_side = CellData::text("y");
        read_side.formatted_value = Some("y".into());
        let cells = vec![
            CellData::empty(),
            CellData::number(0.0),
            CellData::number(-0.0),
            CellData::number(1.0),
            CellData::number(-123_456.789),
            CellData::number(1e21),
            CellData::number(1.5e-7),
            CellData::number(9_007_199_254_740_991.0),
            CellData::number(f64::NAN),
            CellData::boolean(true),
            CellData::boolean(false),
            CellData::text(""),
            CellData::text("Customer 17"),
            CellData::text("héllo — ✓ 😀"),
            CellData::text("quote \" backslash \\ tab \t cr \r bell \u{7} form \u{c} del \u{7f}"),
            CellData::text("=SUM(A1:A2)"),
            formatted(NumberFormatType::DateTime, Some("yyyy-mm-dd hh:mm:ss")),
            formatted(NumberFormatType::Date, Some("yyyy-mm-dd")),
            formatted(NumberFormatType::Number, None),
            formatted(NumberFormatType::Scientific, Some("0.00E+00")),
            formatted(NumberFormatType::Text, Some("@")),
            formatted(NumberFormatType::Percent, None),
            formatted(NumberFormatType::Currency, None),
            formatted(NumberFormatType::Time, Some("[h]:mm:ss")),
            with_note,
            note_only,
            empty_format,
            read_side,
            CellData {
                user_entered_value: Some(ExtendedValue::FormulaValue("=1+1".into())),
                ..CellData::default()
            },
        ];
        for cell in cells {
            let expected = serde_json::to_vec(&cell).expect("json").len();
            assert_eq!(cell_json_length(&cell), expected, "{cell:?}");
        }
    }
}
