//! A1 notation for the ranges sheetsync reads: column letters and quoted tab names.
//!
//! Tab names are always quoted: an unquoted name can resolve to a named range, and names with
//! spaces or punctuation need quotes anyway; an inner `'` is doubled (`'Foo''s'`).

/// `0 → "A"`, `25 → "Z"`, `26 → "AA"`, `18_277 → "ZZZ"` (bijective base 26).
pub fn column_letters(column_index: u32) -> String {
    let mut remaining = u64::from(column_index) + 1;
    let mut letters = Vec::new();
    while remaining > 0 {
        let digit = (remaining - 1) % 26;
        letters.push(b'A' + digit as u8);
        remaining = (remaining - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The 0-based index of column letters (`"A" → 0`, `"aa" → 26`); `None` for anything else.
pub fn column_index(letters: &str) -> Option<u32> {
    if letters.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for character in letters.chars() {
        if !character.is_ascii_alphabetic() {
            return None;
        }
        let digit = u64::from(character.to_ascii_uppercase() as u8 - b'A') + 1;
        value = value.checked_mul(26)?.checked_add(digit)?;
        if value > u64::from(u32::MAX) + 1 {
            return None;
        }
    }
    u32::try_from(value - 1).ok()
}

/// `'Tab name'`, inner quotes doubled.
pub fn quote_sheet_title(title: &str) -> String {
    format!("'{}'", title.replace('\'', "''"))
}

/// A whole tab: `'Orders'`.
pub fn sheet_range(title: &str) -> String {
    quote_sheet_title(title)
}

/// Whole columns: `'Orders'!A:C` for columns 0..=2.
pub fn columns_range(title: &str, first_column: u32, last_column: u32) -> String {
    format!(
        "{}!{}:{}",
        quote_sheet_title(title),
        column_letters(first_column),
        column_letters(last_column)
    )
}

/// A rectangle by 0-based inclusive indexes: `'Orders'!B2:D10`.
pub fn cell_range(
    title: &str,
    (first_row, first_column): (u32, u32),
    (last_row, last_column): (u32, u32),
) -> String {
    format!(
        "{}!{}{}:{}{}",
        quote_sheet_title(title),
        column_letters(first_column),
        u64::from(first_row) + 1,
        column_letters(last_column),
        u64::from(last_row) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_table() {
        let table = [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (18_277, "ZZZ"),
        ];
        for (index, letters) in table {
            assert_eq!(column_letters(index), letters, "{index}");
            assert_eq!(column_index(letters), Some(index), "{letters}");
        }
    }

    #[test]
    fn column_letters_round_trip_and_extremes() {
        for index in (0..100_000).chain([u32::MAX - 1, u32::MAX]) {
            assert_eq!(column_index(&column_letters(index)), Some(index));
        }
        assert_eq!(column_index("a"), Some(0));
        assert_eq!(column_index(""), None);
        assert_eq!(column_index("A1"), None);
        assert_eq!(column_index("É"), None);
        assert_eq!(column_index("ZZZZZZZZ"), None);
    }

    #[test]
    fn titles_are_quoted_and_inner_quotes_doubled() {
        assert_eq!(quote_sheet_title("Orders"), "'Orders'");
        assert_eq!(quote_sheet_title("My Sheet"), "'My Sheet'");
        assert_eq!(quote_sheet_title("Jon's Data"), "'Jon''s Data'");
        assert_eq!(quote_sheet_title("''"), "''''''");
    }

    #[test]
    fn ranges() {
        assert_eq!(sheet_range("Orders"), "'Orders'");
        assert_eq!(columns_range("Orders", 0, 2), "'Orders'!A:C");
        assert_eq!(cell_range("Orders", (1, 1), (9, 3)), "'Orders'!B2:D10");
        assert_eq!(cell_range("O'k", (0, 26), (0, 26)), "'O''k'!AA1:AA1");
    }
}
