//! Database value → sheet cell, for the few cells the apply side writes itself: write-backs
//! (a refused edit reverted, a conflict the database won), keys returned for inserted rows, and
//! the row keys the writer and [`super::clock::RowClock`] look rows up by.
//!
//! Kept apart on purpose: the MySQL → Sheets writer owns the real conversion (DESIGN §2.5:
//! dates as serial numbers with a format, exact decimals); when it lands, [`database_cell`]
//! becomes a call to it and everything else here follows. Until then: numbers as numbers when
//! a sheet number holds them exactly, everything else as text.

use super::typed::Typed;
use crate::sheets::model::CellData;
use crate::sync::{cell_key_text, RowKey};
use crate::webhook::CellValue;

const EXACT_INTEGER_LIMIT: i128 = 1 << 53;

/// The cell that shows `value`.
pub fn database_cell(value: &Typed) -> CellData {
    match value {
        Typed::Null => CellData::empty(),
        Typed::Integer(integer) if integer.abs() < EXACT_INTEGER_LIMIT => {
            CellData::number(*integer as f64)
        }
        Typed::Decimal(text) => match text.parse::<f64>() {
            Ok(number)
                if super::typed::normalize_decimal(&number.to_string()).as_deref()
                    == Some(text) =>
            {
                CellData::number(number)
            }
            _ => CellData::text(text.clone()),
        },
        Typed::Float(float) => CellData::number(f64::from(*float)),
        Typed::Double(double) => CellData::number(*double),
        other => CellData::text(other.marker_text().unwrap_or_default()),
    }
}

/// The cell with a note saying why it was set back.
pub fn noted_cell(value: &Typed, note: String) -> CellData {
    let mut cell = database_cell(value);
    cell.note = Some(note);
    cell
}

/// The key the sheet shows for these key values (key order).
pub fn row_key(key: &[Typed]) -> RowKey {
    RowKey(
        key.iter()
            .map(|value| cell_key_text(&database_cell(value)))
            .collect(),
    )
}

/// A key value as the webhook response carries it (the script writes it into the key cell).
pub fn response_value(value: &Typed) -> CellValue {
    use crate::sheets::model::ExtendedValue;
    match database_cell(value).user_entered_value {
        None => CellValue::Empty,
        Some(ExtendedValue::NumberValue(number)) => CellValue::Number(number),
        Some(ExtendedValue::BoolValue(flag)) => CellValue::Boolean(flag),
        Some(ExtendedValue::StringValue(text)) | Some(ExtendedValue::FormulaValue(text)) => {
            CellValue::Text(text)
        }
        Some(ExtendedValue::ErrorValue(_)) => CellValue::Empty,
    }
}

/// The canonical key text of a cell the script sent (same rules as [`RowKey`]).
pub fn request_key_text(cell: &CellValue) -> String {
    match cell {
        CellValue::Empty => String::new(),
        CellValue::Boolean(true) => "TRUE".into(),
        CellValue::Boolean(false) => "FALSE".into(),
        CellValue::Number(number) => crate::sync::number_key_text(*number),
        CellValue::Text(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_from_the_sheet_match_keys_from_the_database() {
        let cases = [
            (Typed::Integer(42), CellValue::Number(42.0)),
            (Typed::Text("A-7".into()), CellValue::Text("A-7".into())),
            (
                Typed::Integer(9_007_199_254_740_993),
                CellValue::Text("9007199254740993".into()),
            ),
            (Typed::Decimal("12.5".into()), CellValue::Number(12.5)),
        ];
        for (database, sheet) in cases {
            assert_eq!(response_value(&database), sheet);
            assert_eq!(
                row_key(std::slice::from_ref(&database)).0,
                [request_key_text(&sheet)]
            );
        }
    }
}
