//! Calendar arithmetic for the apply step: civil dates ⇄ days since 1970-01-01 (proleptic
//! Gregorian, Howard Hinnant's algorithms) and the canonical text of dates and times. Pure.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub microsecond: u32,
}

pub fn date_text(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

pub fn datetime_text(date: Date, time: TimeOfDay) -> String {
    format!(
        "{} {:02}:{:02}:{:02}{}",
        date_text(date),
        time.hour,
        time.minute,
        time.second,
        fraction_text(time.microsecond)
    )
}

/// `.5` for 500000 µs, empty for 0: trailing zeros never matter.
pub fn fraction_text(microsecond: u32) -> String {
    if microsecond == 0 {
        return String::new();
    }
    let digits = format!("{microsecond:06}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(date: Date) -> i64 {
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year =
        (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> Date {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u8;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date {
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month,
        day,
    }
}

/// Whether `year-month-day` exists.
pub fn valid_date(year: i32, month: u8, day: u8) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days_in_month
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_162, -25_569, 0, 1, 20_454, 2_932_896] {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
        let date = Date {
            year: 2026,
            month: 1,
            day: 2,
        };
        assert_eq!(days_from_civil(date), 20_455);
        assert!(valid_date(2024, 2, 29));
        assert!(!valid_date(2026, 2, 29));
        assert!(!valid_date(2026, 13, 1));
    }
}
