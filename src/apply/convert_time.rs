//! Dates, date-times and times from sheet cells: serial numbers (days since 1899-12-30, the
//! time of day as the fraction) or ISO-like text, rounded to the column's fractional digits and
//! checked against the column type's range. Pure.
//!
//! DATE and DATETIME are wall-clock values and are stored as typed. A TIMESTAMP is an instant:
//! the sheet shows it as wall-clock time in `sync.time_zone` (docs/type-mapping.md), so what a
//! person types there is read in that zone too and turned into UTC by [`in_zone`]. When clocks
//! go back and a wall-clock time happens twice, the earlier instant is taken; a time skipped
//! when clocks go forward is moved forward by the gap (jiff's "compatible" rule, as RFC 5545).

use super::columns::{ColumnInfo, ColumnKind};
use super::convert::{describe, quoted};
use super::typed::{civil_from_days, valid_date, Date, TimeOfDay, Typed};
use crate::sync::number_key_text;

/// Days from 1899-12-30 (serial 0) to 1970-01-01.
const SERIAL_EPOCH_OFFSET_DAYS: i64 = 25_569;

/// Rounds microseconds to `digits` fractional digits of a second.
pub(super) fn round_to_digits(microseconds: i128, digits: u32) -> i128 {
    let unit = 10i128.pow(6 - digits.min(6));
    let half = unit / 2;
    if microseconds >= 0 {
        (microseconds + half) / unit * unit
    } else {
        -((-microseconds + half) / unit * unit)
    }
}

pub(super) fn serial_datetime(serial: f64, column: &ColumnInfo) -> Result<Typed, String> {
    // Sheets keeps times to the millisecond; rounding there first removes float noise.
    let milliseconds = (serial * 86_400_000.0).round();
    if !milliseconds.is_finite() || milliseconds.abs() > 1e15 {
        return Err(format!("{serial} is not a date; {}", describe(column)));
    }
    let microseconds = milliseconds as i128 * 1000;
    let days = microseconds.div_euclid(86_400_000_000);
    let of_day = microseconds.rem_euclid(86_400_000_000);
    let date = civil_from_days(days as i64 - SERIAL_EPOCH_OFFSET_DAYS);
    if matches!(column.kind, ColumnKind::Date) && of_day != 0 {
        return Err(format!(
            "{} has a time of day; {} (a date only)",
            number_key_text(serial),
            describe(column)
        ));
    }
    finish_datetime(date, of_day, column)
}

fn finish_datetime(
    date: Date,
    microseconds_of_day: i128,
    column: &ColumnInfo,
) -> Result<Typed, String> {
    let digits = match column.kind {
        ColumnKind::DateTime { fractional_digits }
        | ColumnKind::Timestamp { fractional_digits } => fractional_digits,
        _ => 0,
    };
    let rounded = round_to_digits(microseconds_of_day, digits);
    // Rounding up to midnight moves to the next day.
    let (date, rounded) = if rounded >= 86_400_000_000 {
        let next = super::typed::days_from_civil(date) + 1;
        (civil_from_days(next), rounded - 86_400_000_000)
    } else {
        (date, rounded)
    };
    let time = TimeOfDay {
        hour: (rounded / 3_600_000_000) as u8,
        minute: (rounded / 60_000_000 % 60) as u8,
        second: (rounded / 1_000_000 % 60) as u8,
        microsecond: (rounded % 1_000_000) as u32,
    };
    let shown = match column.kind {
        ColumnKind::Date => super::typed::date_text(date),
        _ => super::typed::datetime_text(date, time),
    };
    // A TIMESTAMP's range is checked once the wall-clock time is an instant ([`in_zone`]).
    let in_range = match column.kind {
        ColumnKind::Date | ColumnKind::DateTime { .. } => (1000..=9999).contains(&date.year),
        _ => true,
    };
    if !in_range {
        let range = match column.kind {
            ColumnKind::Date => "1000-01-01 to 9999-12-31",
            _ => "1000-01-01 00:00:00 to 9999-12-31 23:59:59",
        };
        return Err(format!(
            "{shown} is out of range {range}; {}",
            describe(column)
        ));
    }
    Ok(match column.kind {
        ColumnKind::Date => Typed::Date(date),
        _ => Typed::DateTime(date, time),
    })
}

/// `YYYY-MM-DD`, optionally followed by ` ` or `T` and `HH:MM[:SS[.ffffff]]`.
pub(super) fn parse_datetime(text: &str, column: &ColumnInfo) -> Result<Typed, String> {
    let invalid = || {
        format!(
            "{} is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS); {}",
            quoted(text),
            describe(column)
        )
    };
    if let Ok(serial) = text.parse::<f64>() {
        return serial_datetime(serial, column);
    }
    let (date_part, time_part) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim_end_matches('Z'))),
        None => (text, None),
    };
    let mut fields = date_part.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(invalid());
    };
    let all_digits =
        |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !(all_digits(year) && all_digits(month) && all_digits(day)) || year.len() > 5 {
        return Err(invalid());
    }
    let (year, month, day) = (
        year.parse::<i32>().map_err(|_| invalid())?,
        month.parse::<u8>().map_err(|_| invalid())?,
        day.parse::<u8>().map_err(|_| invalid())?,
    );
    if !valid_date(year, month, day) {
        return Err(format!(
            "{} is not a calendar date; {}",
            quoted(text),
            describe(column)
        ));
    }
    let of_day = match time_part {
        None => 0,
        Some(time) => match parse_time(time) {
            Some(microseconds) if (0..86_400_000_000).contains(&microseconds) => microseconds,
            _ => return Err(invalid()),
        },
    };
    if matches!(column.kind, ColumnKind::Date) && of_day != 0 {
        return Err(format!(
            "{} has a time of day; {} (a date only)",
            quoted(text),
            describe(column)
        ));
    }
    finish_datetime(Date { year, month, day }, of_day, column)
}

/// `[-]H:MM[:SS[.ffffff]]` → signed microseconds.
pub(super) fn parse_time(text: &str) -> Option<i128> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split(':');
    let hours: i128 = parts.next().filter(|part| !part.is_empty())?.parse().ok()?;
    let minutes: i128 = parts.next()?.parse().ok()?;
    let (seconds, fraction) = match parts.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            if fraction.len() > 6 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            let fraction = format!("{fraction:0<6}").parse::<i128>().ok()?;
            (whole.parse::<i128>().ok()?, fraction)
        }
    };
    if parts.next().is_some() || minutes >= 60 || seconds >= 60 || hours < 0 {
        return None;
    }
    let magnitude = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + fraction;
    Some(if negative { -magnitude } else { magnitude })
}

pub(super) fn time_from_microseconds(
    microseconds: i128,
    column: &ColumnInfo,
) -> Result<Typed, String> {
    const LIMIT: i128 = (838 * 3600 + 59 * 60 + 59) * 1_000_000;
    if microseconds.abs() > LIMIT {
        return Err(format!(
            "the time is out of range -838:59:59 to 838:59:59; {}",
            describe(column)
        ));
    }
    let magnitude = microseconds.abs();
    Ok(Typed::Time {
        negative: microseconds < 0,
        hours: (magnitude / 3_600_000_000) as u32,
        minutes: (magnitude / 60_000_000 % 60) as u8,
        seconds: (magnitude / 1_000_000 % 60) as u8,
        microsecond: (magnitude % 1_000_000) as u32,
    })
}

/// A TIMESTAMP typed as wall-clock time in `zone` (a `Typed::DateTime` from the parsers above)
/// → the instant in UTC, checked against TIMESTAMP's range.
pub(super) fn in_zone(
    value: Typed,
    zone: &jiff::tz::TimeZone,
    column: &ColumnInfo,
) -> Result<Typed, String> {
    let Typed::DateTime(date, time) = value else {
        return Ok(value);
    };
    let shown = super::typed::datetime_text(date, time);
    let out_of_range = || {
        format!(
            "{shown} is out of range 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC; {}",
            describe(column)
        )
    };
    let civil = jiff::civil::DateTime::new(
        i16::try_from(date.year).map_err(|_| out_of_range())?,
        date.month as i8,
        date.day as i8,
        time.hour as i8,
        time.minute as i8,
        time.second as i8,
        (time.microsecond * 1000) as i32,
    )
    .map_err(|_| out_of_range())?;
    let instant = zone
        .to_ambiguous_zoned(civil)
        .compatible()
        .map_err(|_| out_of_range())?
        .timestamp();
    let seconds = instant.as_second();
    if !(1..=2_147_483_647).contains(&seconds) {
        return Err(out_of_range());
    }
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    Ok(Typed::DateTime(
        civil_from_days(days),
        TimeOfDay {
            hour: (of_day / 3600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
            microsecond: instant.subsec_microsecond() as u32,
        },
    ))
}
