//! Database value → sheet cell, for the cells the apply side writes or compares: write-backs (a
//! refused edit reverted, a conflict the database won), keys returned for inserted rows,
//! reconcile's comparison and repairs, and the row keys the writer and
//! [`super::clock::RowClock`] look rows up by.
//!
//! Consumes a [`Typed`] value and its column ([`TableInfo`], [`SheetDisplay`]); produces the
//! same cell the MySQL → Sheets writer writes for that value (`crate::cell::to_cell`,
//! docs/type-mapping.md): dates as serial numbers with a date format, TIMESTAMPs as wall-clock
//! time in `sync.time_zone`, decimals with their column's scale, binary as base64 or not at all.
//! Guarantees: a value converted here and the same value decoded from the binlog give the same
//! cell, so write-backs look like the writer's cells and reconcile compares like with like.

use jiff::tz::TimeZone;

use super::columns::{ColumnKind, TableInfo};
use super::typed::{days_from_civil, Typed};
use crate::cell::{to_cell, BinaryMode, CellOptions};
use crate::sheets::model::CellData;
use crate::sync::{cell_key_text, RowKey};
use crate::value::Value;
use crate::webhook::CellValue;

/// How values show in the sheet: `[sync]`'s `time_zone` and `binary`, as the writer uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetDisplay {
    /// TIMESTAMP columns are shown, and edits to them read, as wall-clock time in this zone.
    pub time_zone: TimeZone,
    pub binary: BinaryMode,
}

impl Default for SheetDisplay {
    fn default() -> Self {
        Self::from_options(&CellOptions::default())
    }
}

impl SheetDisplay {
    pub fn from_options(options: &CellOptions) -> Self {
        Self {
            time_zone: options.time_zone.clone(),
            binary: options.binary,
        }
    }

    fn options(&self) -> CellOptions {
        CellOptions {
            time_zone: self.time_zone.clone(),
            binary: self.binary,
        }
    }
}

/// The cell that shows `value` of column `column` (an index into `table.columns`); `None` when
/// the writer leaves the value out of the sheet (binary under `sync.binary = "skip"`).
pub fn database_cell(table: &TableInfo, column: usize, value: &Typed) -> Option<CellData> {
    let kind = table.columns.get(column).map(|info| &info.kind);
    to_cell(&writer_value(value, kind), &table.display.options()).map(|converted| converted.cell)
}

/// The cell with a note saying why it was set back (an empty cell where the writer shows none).
pub fn noted_cell(table: &TableInfo, column: usize, value: &Typed, note: String) -> CellData {
    let mut cell = database_cell(table, column, value).unwrap_or_else(CellData::empty);
    cell.note = Some(note);
    cell
}

/// The key the sheet shows for these key values (in `table.key` order).
pub fn row_key(table: &TableInfo, key: &[Typed]) -> RowKey {
    RowKey(
        table
            .key
            .iter()
            .zip(key)
            .map(|(column, value)| {
                database_cell(table, *column, value)
                    .map(|cell| cell_key_text(&cell))
                    .unwrap_or_default()
            })
            .collect(),
    )
}

/// A key value as the webhook response carries it (the script writes it into the key cell).
pub fn response_value(table: &TableInfo, column: usize, value: &Typed) -> CellValue {
    use crate::sheets::model::ExtendedValue;
    match database_cell(table, column, value).and_then(|cell| cell.user_entered_value) {
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

/// The value as the binlog decoder would have produced it for a column of `kind`, so the
/// writer's conversion applies unchanged.
fn writer_value(value: &Typed, kind: Option<&ColumnKind>) -> Value {
    match (value, kind) {
        (Typed::Null, _) => Value::Null,
        (Typed::Integer(integer), Some(ColumnKind::Year)) => {
            Value::Year(u16::try_from(*integer).unwrap_or(0))
        }
        (Typed::Integer(integer), Some(ColumnKind::Bit { width })) => Value::Bit {
            bits: u64::try_from(*integer).unwrap_or(u64::MAX),
            width: u8::try_from(*width).unwrap_or(64),
        },
        (Typed::Integer(integer), _) => match i64::try_from(*integer) {
            Ok(signed) => Value::Int(signed),
            Err(_) => match u64::try_from(*integer) {
                Ok(unsigned) => Value::UInt(unsigned),
                Err(_) => Value::Decimal(integer.to_string()),
            },
        },
        (Typed::Decimal(text), Some(ColumnKind::Decimal { scale, .. })) => {
            Value::Decimal(with_scale(text, *scale as usize))
        }
        (Typed::Decimal(text), _) => Value::Decimal(text.clone()),
        (Typed::Float(float), _) => Value::Float(*float),
        (Typed::Double(double), _) => Value::Double(*double),
        (Typed::Text(text), _) => Value::Text(text.clone()),
        (Typed::Bytes(bytes), _) => Value::Bytes(bytes.clone()),
        (Typed::Json(json), _) => Value::Json(json.to_string()),
        (Typed::Date(date), _) => Value::Date {
            year: u16::try_from(date.year).unwrap_or(0),
            month: date.month,
            day: date.day,
        },
        (Typed::DateTime(date, time), Some(ColumnKind::Timestamp { .. })) => {
            // Zero dates and the zero TIMESTAMP are stored as 0, as the binlog sends them.
            let unix_seconds = if date.year == 0 || date.month == 0 || date.day == 0 {
                0
            } else {
                days_from_civil(*date) * 86_400
                    + i64::from(time.hour) * 3600
                    + i64::from(time.minute) * 60
                    + i64::from(time.second)
            };
            Value::Timestamp {
                unix_seconds,
                microsecond: time.microsecond,
            }
        }
        (Typed::DateTime(date, time), _) => Value::DateTime {
            year: u16::try_from(date.year).unwrap_or(0),
            month: date.month,
            day: date.day,
            hour: time.hour,
            minute: time.minute,
            second: time.second,
            microsecond: time.microsecond,
        },
        (
            Typed::Time {
                negative,
                hours,
                minutes,
                seconds,
                microsecond,
            },
            _,
        ) => Value::Time {
            negative: *negative,
            hours: u16::try_from(*hours).unwrap_or(u16::MAX),
            minutes: *minutes,
            seconds: *seconds,
            microsecond: *microsecond,
        },
    }
}

/// `12.5` with scale 2 → `12.50`: the text the server (and the binlog) shows for the column.
fn with_scale(text: &str, scale: usize) -> String {
    if scale == 0 || text.contains(['e', 'E']) {
        return text.to_string();
    }
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() >= scale {
        return text.to_string();
    }
    format!("{integer}.{fraction:0<scale$}")
}

#[cfg(test)]
#[path = "cells_tests.rs"]
mod tests;
