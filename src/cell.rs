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
//! Field masks are the writer's choice; cells carry a number format only for the types listed
//! with one in the table, and a note only when truncated.

use base64::Engine as _;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::config::SyncConfig;
use crate::sheets::model::{CellData, NumberFormat, NumberFormatType};
use crate::value::{ColumnType, Value};

/// Google's limit on one cell's text. Counted here in UTF-16 code units (see [`fit_text`]).
pub const MAX_CELL_CHARACTERS: usize = 50_000;

/// Integers up to this magnitude are exact in an f64 (Sheets stores numbers as doubles).
const EXACT_INTEGER_LIMIT: u64 = 1 << 53;
const MICROSECONDS_PER_DAY: i128 = 86_400_000_000;

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
        Value::Int(number) => Converted::plain(integer(
            number.unsigned_abs(),
            *number as f64,
            number.to_string(),
        )),
        Value::UInt(number) => {
            Converted::plain(integer(*number, *number as f64, number.to_string()))
        }
        Value::Bit { bits, .. } => Converted::plain(integer(*bits, *bits as f64, bits.to_string())),
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

/// A number when exact in f64, else its exact digits as text.
fn integer(magnitude: u64, number: f64, digits: String) -> CellData {
    if magnitude <= EXACT_INTEGER_LIMIT {
        CellData::number(number)
    } else {
        CellData::text(digits)
    }
}

/// FLOAT through its shortest f32 text, so 0.1f32 is written as 0.1, not 0.10000000149.
fn float(number: f32) -> CellData {
    let shortest = number.to_string();
    match shortest.parse::<f64>() {
        Ok(widened) if widened.is_finite() => CellData::number(widened),
        _ => CellData::text(shortest),
    }
}

/// JSON has no NaN or infinity; MySQL cannot store them either, but a text is safer than null.
fn double(number: f64) -> CellData {
    if number.is_finite() {
        CellData::number(number)
    } else {
        CellData::text(number.to_string())
    }
}

/// A number when the decimal text survives f64 digit for digit, else the exact text.
fn decimal(text: &str, column_scale: Option<u8>) -> Converted {
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

fn format(format_type: NumberFormatType, pattern: &str) -> NumberFormat {
    NumberFormat {
        format_type,
        pattern: Some(pattern.to_string()),
    }
}

fn with_fraction(pattern: &str, fractional: bool) -> String {
    if fractional {
        format!("{pattern}.000")
    } else {
        pattern.to_string()
    }
}

fn date(year: u16, month: u8, day: u8) -> Converted {
    match civil_date(year, month, day) {
        Some(date) => Converted::plain(
            CellData::number(serial(date.to_datetime(jiff::civil::Time::midnight())))
                .with_number_format(format(NumberFormatType::Date, "yyyy-mm-dd")),
        ),
        // Zero dates (0000-00-00, 2024-00-15) are no day at all: keep MySQL's text.
        None => fit_text(&format!("{year:04}-{month:02}-{day:02}")),
    }
}

fn datetime(
    year: u16,
    month: u8,
    day: u8,
    [hour, minute, second]: [u8; 3],
    microsecond: u32,
    fractional_digits: Option<u8>,
) -> Converted {
    let civil = civil_date(year, month, day).and_then(|date| {
        let time = jiff::civil::Time::new(
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            i32::try_from(microsecond).ok()?.checked_mul(1000)?,
        )
        .ok()?;
        Some(date.to_datetime(time))
    });
    match civil {
        Some(civil) => Converted::plain(datetime_cell(civil, microsecond, fractional_digits)),
        None => {
            let fraction = match fractional_digits {
                Some(0) => String::new(),
                Some(digits) => format!(".{microsecond:06}")[..=usize::from(digits.min(6))].into(),
                None if microsecond != 0 => format!(".{microsecond:06}"),
                None => String::new(),
            };
            fit_text(&format!(
                "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{fraction}"
            ))
        }
    }
}

fn datetime_cell(civil: DateTime, microsecond: u32, fractional_digits: Option<u8>) -> CellData {
    let fractional = fractional_digits.map_or(microsecond != 0, |digits| digits > 0);
    CellData::number(serial(civil)).with_number_format(format(
        NumberFormatType::DateTime,
        &with_fraction("yyyy-mm-dd hh:mm:ss", fractional),
    ))
}

fn timestamp(
    unix_seconds: i64,
    microsecond: u32,
    fractional_digits: Option<u8>,
    options: &CellOptions,
) -> Converted {
    // 1970-01-01 00:00:00 UTC is outside TIMESTAMP's range: MySQL stores its zero value as 0.
    if unix_seconds == 0 && microsecond == 0 {
        return fit_text("0000-00-00 00:00:00");
    }
    let instant = i32::try_from(microsecond)
        .ok()
        .and_then(|micros| micros.checked_mul(1000))
        .and_then(|nanos| jiff::Timestamp::new(unix_seconds, nanos).ok());
    match instant {
        Some(instant) => Converted::plain(datetime_cell(
            options.time_zone.to_datetime(instant),
            microsecond,
            fractional_digits,
        )),
        None => fit_text(&format!("@{unix_seconds}.{microsecond:06}")),
    }
}

fn duration(
    negative: bool,
    [hours, minutes, seconds]: [u32; 3],
    microsecond: u32,
    fractional_digits: Option<u8>,
) -> CellData {
    let micros = (i128::from(hours) * 3600 + i128::from(minutes) * 60 + i128::from(seconds))
        * 1_000_000
        + i128::from(microsecond);
    let days = micros as f64 / MICROSECONDS_PER_DAY as f64;
    let fractional = fractional_digits.map_or(microsecond != 0, |digits| digits > 0);
    CellData::number(if negative { -days } else { days }).with_number_format(format(
        NumberFormatType::Time,
        &with_fraction("[h]:mm:ss", fractional),
    ))
}

fn civil_date(year: u16, month: u8, day: u8) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// Days since 1899-12-30 (the serial-number epoch of Sheets), with the time as a fraction.
fn serial(civil: DateTime) -> f64 {
    let epoch = jiff::civil::date(1899, 12, 30).to_datetime(jiff::civil::Time::midnight());
    let micros = civil.duration_since(epoch).as_micros();
    let days = micros.div_euclid(MICROSECONDS_PER_DAY);
    let within = micros.rem_euclid(MICROSECONDS_PER_DAY);
    days as f64 + within as f64 / MICROSECONDS_PER_DAY as f64
}

/// A text cell cut to [`MAX_CELL_CHARACTERS`] UTF-16 code units, never inside a character.
///
/// Sheets counts text in UTF-16 code units (its `LEN()` of an emoji is 2); whether the 50,000
/// limit itself counts units or code points is not documented, and units are the stricter
/// count, so a cell cut to 50,000 units is accepted either way.
pub fn fit_text(text: &str) -> Converted {
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
