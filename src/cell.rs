//! Typed cell conversion (DESIGN §2.5): a decoded binlog [`Value`] → the Sheets cell sheetsync
//! writes.
//!
//! Consumes a [`Value`] (optionally with its column's [`ColumnType`]) and [`CellOptions`] built
//! from `[sync]`; produces a [`Converted`] cell: an `ExtendedValue` plus a number format for
//! dates, times and decimals. Guarantees: nothing is ever sent as a formula (text starting with
//! `=` stays `stringValue`); no digit is lost (integers beyond 2^53 and decimals that do not
//! survive f64 become exact text); every text fits Google's 50,000-character cell limit, and a
//! truncated one says so in its note; a key value converted here gives the same
//! [`crate::sync::cell_key_text`] as the cell read back gives [`crate::sync::json_key_text`].
//! The full mapping table is `docs/type-mapping.md`.
//!
//! `number.rs` converts numbers, `time.rs` dates and times; text and binary are here.
//! Field masks are the writer's choice; cells carry a number format only for the types listed
//! with one in the table, and a note only when truncated.

use base64::Engine as _;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::config::SyncConfig;
use crate::sheets::model::{CellData, NumberFormat, NumberFormatType};
use crate::value::{ColumnType, Value};

mod number;
mod time;

use number::{decimal, double, float, integer};
use time::{date, datetime, duration, timestamp};

/// Google's limit on one cell's text. Counted here in UTF-16 code units (see [`fit_text`]).
pub const MAX_CELL_CHARACTERS: usize = 50_000;

/// Integers up to this magnitude are exact in an f64 (Sheets stores numbers as doubles).
const EXACT_INTEGER_LIMIT: u64 = 1 << 53;

#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("config key `sync.time_zone`: unknown time zone `{name}` ({message}); use an IANA name such as `UTC` or `Europe/Berlin`")]
    UnknownTimeZone { name: String, message: String },
}

impl CellError {
    /// Every cell error is a configuration mistake: retrying cannot help.
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// What binary values (BLOB/BINARY, text in a charset sheetsync cannot decode) become.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryMode {
    /// Base64 text (standard alphabet, padded).
    #[default]
    Base64,
    /// Not written at all: the column is left out of the sheet.
    Skip,
}

/// How values become cells; built once from `[sync]`.
#[derive(Debug, Clone)]
pub struct CellOptions {
    /// TIMESTAMP columns are shown as wall-clock time in this zone.
    pub time_zone: TimeZone,
    pub binary: BinaryMode,
}

impl CellOptions {
    /// `sync.time_zone` (an IANA name, looked up in the compiled-in database) and `sync.binary`.
    pub fn from_config(sync: &SyncConfig) -> Result<Self, CellError> {
        let name = sync.time_zone.trim();
        let unknown = |message: String| CellError::UnknownTimeZone {
            name: sync.time_zone.clone(),
            message,
        };
        let time_zone = TimeZone::get(name).map_err(|error| unknown(error.to_string()))?;
        // jiff answers `Etc/Unknown` with a placeholder zone; it is no place anyone lives.
        if time_zone.is_unknown() {
            return Err(unknown("not a real time zone".into()));
        }
        Ok(Self {
            time_zone,
            binary: sync.binary,
        })
    }
}

impl Default for CellOptions {
    fn default() -> Self {
        Self {
            time_zone: TimeZone::UTC,
            binary: BinaryMode::Base64,
        }
    }
}

/// One converted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub cell: CellData,
    /// Set when the text was cut to [`MAX_CELL_CHARACTERS`]: its length before, in UTF-16 code
    /// units (what the sheet's `LEN()` would have said). The cell's note says the same.
    pub truncated_from: Option<usize>,
}

impl Converted {
    fn plain(cell: CellData) -> Self {
        Self {
            cell,
            truncated_from: None,
        }
    }
}

/// Convert a value whose column type is unknown; formats are inferred from the value (a
/// DATETIME shows milliseconds only when it has a fraction, a DECIMAL shows the scale its text
/// has). `None` means "do not write this cell": a binary value under [`BinaryMode::Skip`].
pub fn to_cell(value: &Value, options: &CellOptions) -> Option<Converted> {
    convert(value, None, options)
}

/// Convert a value of a column of type `column`: like [`to_cell`], but every cell of a column
/// gets the same format (DATETIME(3) always shows `.000`, DECIMAL(10,2) always two decimals).
pub fn to_column_cell(
    value: &Value,
    column: &ColumnType,
    options: &CellOptions,
) -> Option<Converted> {
    convert(value, Some(column), options)
}

/// True when every value of this column would be skipped, so the column stays out of the sheet.
pub fn skips_column(column: &ColumnType, options: &CellOptions) -> bool {
    options.binary == BinaryMode::Skip
        && matches!(
            column,
            ColumnType::Binary { .. } | ColumnType::Geometry | ColumnType::Vector
        )
}

/// The header cell of a synced column: its name, as plain text.
pub fn header_cell(column_name: &str) -> CellData {
    fit_text(column_name).cell
}

fn convert(value: &Value, column: Option<&ColumnType>, options: &CellOptions) -> Option<Converted> {
    let fractional_digits = column.and_then(fractional_digits_of);
    let converted = match value {
        Value::Null => Converted::plain(CellData::empty()),
        Value::Int(number) => {
            Converted::plain(integer(number.unsigned_abs(), *number as f64, || {
                number.to_string()
            }))
        }
        Value::UInt(number) => {
            Converted::plain(integer(*number, *number as f64, || number.to_string()))
        }
        Value::Bit { bits, .. } => {
            Converted::plain(integer(*bits, *bits as f64, || bits.to_string()))
        }
        Value::Float(number) => Converted::plain(float(*number)),
        Value::Double(number) => Converted::plain(double(*number)),
        Value::Decimal(text) => {
            let scale = match column {
                Some(ColumnType::Decimal { scale, .. }) => Some(*scale),
                _ => None,
            };
            decimal(text, scale)
        }
        Value::Text(text) | Value::Enum(text) | Value::Json(text) => fit_text(text),
        Value::Set(labels) => fit_text(&labels.join(",")),
        Value::Bytes(bytes) => match options.binary {
            BinaryMode::Skip => return None,
            BinaryMode::Base64 => {
                fit_text(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        },
        Value::Date { year, month, day } => date(*year, *month, *day),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
        } => {
            let parts = [*hour, *minute, *second];
            datetime(*year, *month, *day, parts, *microsecond, fractional_digits)
        }
        Value::Timestamp {
            unix_seconds,
            microsecond,
        } => timestamp(*unix_seconds, *microsecond, fractional_digits, options),
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            microsecond,
        } => Converted::plain(duration(
            *negative,
            [u32::from(*hours), u32::from(*minutes), u32::from(*seconds)],
            *microsecond,
            fractional_digits,
        )),
        // YEAR 0000 is MySQL's zero year: shown as MySQL prints it.
        Value::Year(0) => fit_text("0000"),
        Value::Year(year) => Converted::plain(CellData::number(f64::from(*year))),
    };
    Some(converted)
}

fn fractional_digits_of(column: &ColumnType) -> Option<u8> {
    match column {
        ColumnType::DateTime { fractional_digits }
        | ColumnType::Timestamp { fractional_digits }
        | ColumnType::Time { fractional_digits } => Some(*fractional_digits),
        _ => None,
    }
}

fn format(format_type: NumberFormatType, pattern: &str) -> NumberFormat {
    NumberFormat {
        format_type,
        pattern: Some(pattern.to_string()),
    }
}

/// A text cell cut to [`MAX_CELL_CHARACTERS`] UTF-16 code units, never inside a character.
///
/// Sheets counts text in UTF-16 code units (its `LEN()` of an emoji is 2); whether the 50,000
/// limit itself counts units or code points is not documented, and units are the stricter
/// count, so a cell cut to 50,000 units is accepted either way.
pub fn fit_text(text: &str) -> Converted {
    // UTF-8 never takes fewer bytes than UTF-16 units: a short text needs no counting.
    if text.len() <= MAX_CELL_CHARACTERS {
        return Converted::plain(CellData::text(text));
    }
    let units = text.encode_utf16().count();
    if units <= MAX_CELL_CHARACTERS {
        return Converted::plain(CellData::text(text));
    }
    let mut used = 0;
    let mut cut = 0;
    for (index, character) in text.char_indices() {
        if used + character.len_utf16() > MAX_CELL_CHARACTERS {
            break;
        }
        used += character.len_utf16();
        cut = index + character.len_utf8();
    }
    let mut cell = CellData::text(&text[..cut]);
    cell.note = Some(format!(
        "sheetsync: truncated from {units} to {used} characters (a Google Sheets cell holds at most {MAX_CELL_CHARACTERS}); the database keeps the full value."
    ));
    Converted {
        cell,
        truncated_from: Some(units),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod time_tests;
