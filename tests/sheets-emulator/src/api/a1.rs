//! A1 notation: parsing `'My Tab'!A1:B2` and friends, and printing ranges back the way Google does.

/// A parsed A1 string, before it is resolved against a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct A1Range {
    /// The sheet name as written (quotes removed), or `None` when the range names no sheet.
    pub sheet: Option<String>,
    /// The cell part, or `None` for a whole sheet (`Sheet1`).
    pub cells: Option<CellSpan>,
}

/// The cell part of an A1 range, 0-based. A missing bound means "open" (`A:A`, `1:2`, `A5:A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSpan {
    pub start_row: Option<u32>,
    pub start_column: Option<u32>,
    pub end_row: Option<u32>,
    pub end_column: Option<u32>,
    /// `A1` alone: a single cell. Writes treat it as an anchor that may grow right and down.
    pub single_cell: bool,
}

/// The largest column Google allows (`ZZZ`), and a generous row bound so numbers cannot overflow.
const MAX_COLUMNS: u32 = 18_278;
const MAX_ROWS: u32 = 100_000_000;

/// Parse a full A1 string. The caller decides what a bare word means (sheet name or cells), so a
/// string without `!` is returned as both candidates via [`parse_bare`].
pub fn parse(text: &str) -> Option<A1Range> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('\'') {
        let (name, after) = parse_quoted(rest)?;
        if after.is_empty() {
            return Some(A1Range {
                sheet: Some(name),
                cells: None,
            });
        }
        let cells = after.strip_prefix('!')?;
        return Some(A1Range {
            sheet: Some(name),
            cells: Some(parse_cells(cells)?),
        });
    }
    match text.split_once('!') {
        Some((name, cells)) => {
            if name.is_empty() {
                return None;
            }
            Some(A1Range {
                sheet: Some(name.to_string()),
                cells: Some(parse_cells(cells)?),
            })
        }
        None => None,
    }
}

/// A string without `!` or quotes: either a sheet title or a cell span on the first sheet.
pub fn parse_bare(text: &str) -> Option<CellSpan> {
    parse_cells(text.trim())
}

/// Returns the unescaped name and what follows the closing quote.
fn parse_quoted(rest: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut characters = rest.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        if character == '\'' {
            if let Some((_, '\'')) = characters.peek() {
                characters.next();
                name.push('\'');
                continue;
            }
            if name.is_empty() {
                return None;
            }
            return Some((name, &rest[index + 1..]));
        }
        name.push(character);
    }
    None
}

/// One endpoint: optional column letters then optional row digits, `$` markers ignored.
fn parse_endpoint(text: &str) -> Option<(Option<u32>, Option<u32>)> {
    let text: String = text.chars().filter(|character| *character != '$').collect();
    let letters_end = text
        .find(|character: char| !character.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (letters, digits) = text.split_at(letters_end);
    if letters.is_empty() && digits.is_empty() {
        return None;
    }
    let column = if letters.is_empty() {
        None
    } else {
        Some(column_from_letters(letters)?)
    };
    let row = if digits.is_empty() {
        None
    } else {
        if !digits.chars().all(|character| character.is_ascii_digit()) {
            return None;
        }
        let number: u32 = digits.parse().ok()?;
        if number == 0 || number > MAX_ROWS {
            return None;
        }
        Some(number - 1)
    };
    Some((column, row))
}

fn parse_cells(text: &str) -> Option<CellSpan> {
    match text.split_once(':') {
        None => {
            let (column, row) = parse_endpoint(text)?;
            let (column, row) = (column?, row?);
            Some(CellSpan {
                start_row: Some(row),
                start_column: Some(column),
                end_row: Some(row),
                end_column: Some(column),
                single_cell: true,
            })
        }
        Some((start, end)) => {
            let (start_column, start_row) = parse_endpoint(start)?;
            let (end_column, end_row) = parse_endpoint(end)?;
            // `A:1` mixes a column-only and a row-only endpoint: Google rejects it.
            let columns_given = start_column.is_some() || end_column.is_some();
            let rows_given = start_row.is_some() || end_row.is_some();
            if start_column.is_none()
                && end_column.is_some()
                && start_row.is_some()
                && end_row.is_none()
            {
                return None;
            }
            if start_row.is_none()
                && end_row.is_some()
                && start_column.is_some()
                && end_column.is_none()
            {
                return None;
            }
            if !columns_given && !rows_given {
                return None;
            }
            let (start_row, end_row) = ordered(start_row, end_row);
            let (start_column, end_column) = ordered(start_column, end_column);
            Some(CellSpan {
                start_row,
                start_column,
                end_row,
                end_column,
                single_cell: false,
            })
        }
    }
}

/// `B2:A1` means `A1:B2`.
fn ordered(start: Option<u32>, end: Option<u32>) -> (Option<u32>, Option<u32>) {
    match (start, end) {
        (Some(first), Some(second)) if first > second => (Some(second), Some(first)),
        other => other,
    }
}

/// `A` → 0, `Z` → 25, `AA` → 26 (bijective base 26).
pub fn column_from_letters(letters: &str) -> Option<u32> {
    let mut value: u32 = 0;
    for character in letters.chars() {
        if !character.is_ascii_alphabetic() {
            return None;
        }
        let digit = (character.to_ascii_uppercase() as u32) - ('A' as u32) + 1;
        value = value.checked_mul(26)?.checked_add(digit)?;
        if value > MAX_COLUMNS {
            return None;
        }
    }
    if value == 0 {
        return None;
    }
    Some(value - 1)
}

/// 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letters(index: u32) -> String {
    let mut number = index + 1;
    let mut letters = Vec::new();
    while number > 0 {
        let remainder = (number - 1) % 26;
        letters.push((b'A' + remainder as u8) as char);
        number = (number - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A sheet title as Google prints it in ranges: bare when it is a plain word, else quoted with
/// inner quotes doubled.
pub fn quote_sheet_title(title: &str) -> String {
    let plain = !title.is_empty()
        && title
            .chars()
            .all(|character| character.is_alphanumeric() || character == '_')
        && !title
            .chars()
            .next()
            .is_some_and(|character| character.is_ascii_digit())
        && parse_bare(title).is_none();
    if plain {
        title.to_string()
    } else {
        format!("'{}'", title.replace('\'', "''"))
    }
}

/// `Sheet1!A1` for one cell, `Sheet1!A1:B2` otherwise. Ends are exclusive, 0-based.
pub fn format_range(
    title: &str,
    start_row: u32,
    end_row: u32,
    start_column: u32,
    end_column: u32,
) -> String {
    let sheet = quote_sheet_title(title);
    let first = format!("{}{}", column_letters(start_column), start_row + 1);
    if end_row <= start_row + 1 && end_column <= start_column + 1 {
        return format!("{sheet}!{first}");
    }
    let last = format!(
        "{}{}",
        column_letters(end_column.saturating_sub(1)),
        end_row.max(start_row + 1)
    );
    format!("{sheet}!{first}:{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        start_row: Option<u32>,
        start_column: Option<u32>,
        end_row: Option<u32>,
        end_column: Option<u32>,
    ) -> CellSpan {
        CellSpan {
            start_row,
            start_column,
            end_row,
            end_column,
            single_cell: false,
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        let range = parse("Sheet1!A1:B2").unwrap();
        assert_eq!(range.sheet.as_deref(), Some("Sheet1"));
        assert_eq!(range.cells, Some(span(Some(0), Some(0), Some(1), Some(1))));
        assert_eq!(
            parse("Sheet1!A:A").unwrap().cells,
            Some(span(None, Some(0), None, Some(0)))
        );
        assert_eq!(
            parse("Sheet1!1:2").unwrap().cells,
            Some(span(Some(0), None, Some(1), None))
        );
        assert_eq!(
            parse("Sheet1!A5:A").unwrap().cells,
            Some(span(Some(4), Some(0), None, Some(0)))
        );
        assert_eq!(
            parse("Sheet1!$B$2:a1").unwrap().cells,
            Some(span(Some(0), Some(0), Some(1), Some(1)))
        );
        let single = parse("Sheet1!C3").unwrap().cells.unwrap();
        assert!(single.single_cell);
        assert_eq!((single.start_row, single.start_column), (Some(2), Some(2)));
    }

    #[test]
    fn parses_quoted_names() {
        let range = parse("'My Tab'!A1").unwrap();
        assert_eq!(range.sheet.as_deref(), Some("My Tab"));
        assert_eq!(
            parse("'Bob''s'!A1").unwrap().sheet.as_deref(),
            Some("Bob's")
        );
        let whole = parse("'Bob''s'").unwrap();
        assert_eq!(whole.sheet.as_deref(), Some("Bob's"));
        assert_eq!(whole.cells, None);
        assert_eq!(parse("'A!B'!A1").unwrap().sheet.as_deref(), Some("A!B"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("Sheet1!").is_none());
        assert!(parse("Sheet1!A0").is_none());
        assert!(parse("Sheet1!1A").is_none());
        assert!(parse("'unterminated!A1").is_none());
        assert!(parse("!A1").is_none());
        assert!(parse_bare("Sheet1").is_none() || parse_bare("Sheet1").is_some());
        assert!(parse_bare("Hello World").is_none());
        assert!(parse_bare("A").is_none());
    }

    #[test]
    fn column_letters_round_trip() {
        for (index, letters) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (701, "ZZ"),
            (702, "AAA"),
            (18_277, "ZZZ"),
        ] {
            assert_eq!(column_letters(index), letters);
            assert_eq!(column_from_letters(letters), Some(index));
        }
        assert_eq!(column_from_letters("AAAA"), None);
    }

    #[test]
    fn formats_ranges_like_google() {
        assert_eq!(format_range("Sheet1", 0, 1, 0, 1), "Sheet1!A1");
        assert_eq!(format_range("Sheet1", 0, 5, 0, 4), "Sheet1!A1:D5");
        assert_eq!(format_range("My Tab", 0, 5, 0, 4), "'My Tab'!A1:D5");
        assert_eq!(format_range("Bob's", 0, 1, 0, 1), "'Bob''s'!A1");
        assert_eq!(quote_sheet_title("A1"), "'A1'");
    }
}
