//! Dates and times → Sheets serial numbers (days since 1899-12-30, time as the fraction) with
//! a date/time number format; zero dates → MySQL's text; TIMESTAMP in the configured zone.

use jiff::civil::{Date, DateTime};

use super::{fit_text, format, CellOptions, Converted};
use crate::sheets::model::{CellData, NumberFormatType};

const MICROSECONDS_PER_DAY: i128 = 86_400_000_000;

fn with_fraction(pattern: &str, fractional: bool) -> String {
    if fractional {
        format!("{pattern}.000")
    } else {
        pattern.to_string()
    }
}

pub(super) fn date(year: u16, month: u8, day: u8) -> Converted {
    match civil_date(year, month, day) {
        Some(date) => Converted::plain(
            CellData::number(serial(date.to_datetime(jiff::civil::Time::midnight())))
                .with_number_format(format(NumberFormatType::Date, "yyyy-mm-dd")),
        ),
        // Zero dates (0000-00-00, 2024-00-15) are no day at all: keep MySQL's text.
        None => fit_text(&format!("{year:04}-{month:02}-{day:02}")),
    }
}

pub(super) fn datetime(
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

pub(super) fn timestamp(
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

pub(super) fn duration(
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
