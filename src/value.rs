//! Typed values of binlog columns and the column type info they were decoded with.
//!
//! Consumes nothing itself: the binlog decoder (`binlog::decode`) produces these from row events,
//! using the TABLE_MAP metadata. Guarantees: every value is exact — DECIMAL stays decimal text,
//! BIGINT UNSIGNED stays `u64`, TIMESTAMP is epoch seconds + microseconds (no time zone applied),
//! TIME keeps its sign and hours up to 838, text is UTF-8 converted from the column's charset, and
//! binary data stays bytes. Turning values into sheet cells is the writer's job, not this file's.

use std::fmt;

/// One column value of one row image.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// TINYINT … BIGINT signed (BOOLEAN is TINYINT(1)).
    Int(i64),
    /// TINYINT … BIGINT UNSIGNED.
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL as exact decimal text, e.g. `-0.05` (never through a float).
    Decimal(String),
    /// CHAR/VARCHAR/TEXT decoded from the column's charset to UTF-8.
    Text(String),
    /// BINARY/VARBINARY/BLOB, geometry, vectors and text in a charset we cannot decode.
    Bytes(Vec<u8>),
    Date {
        year: u16,
        month: u8,
        day: u8,
    },
    DateTime {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        microsecond: u32,
    },
    /// TIMESTAMP: a point in time, stored by the server in UTC.
    Timestamp {
        unix_seconds: i64,
        microsecond: u32,
    },
    /// TIME: a duration from -838:59:59 to 838:59:59.
    Time {
        negative: bool,
        hours: u16,
        minutes: u8,
        seconds: u8,
        microsecond: u32,
    },
    Year(u16),
    /// ENUM label (the empty string for the invalid-value index 0).
    Enum(String),
    /// SET labels in definition order.
    Set(Vec<String>),
    /// BIT(width): the bits right-aligned in a u64.
    Bit {
        bits: u64,
        width: u8,
    },
    /// JSON as compact text (MySQL binary JSON converted; MariaDB's JSON is already text).
    Json(String),
}

impl Value {
    /// Bytes this value holds on the heap (text, bytes, labels), for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Decimal(text) | Value::Text(text) | Value::Enum(text) | Value::Json(text) => {
                text.capacity()
            }
            Value::Bytes(bytes) => bytes.capacity(),
            Value::Set(labels) => {
                labels.capacity() * std::mem::size_of::<String>()
                    + labels.iter().map(String::capacity).sum::<usize>()
            }
            _ => 0,
        }
    }
}

/// The SQL type of a column as the TABLE_MAP describes it; enough to convert values exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    TinyInt {
        unsigned: bool,
    },
    SmallInt {
        unsigned: bool,
    },
    MediumInt {
        unsigned: bool,
    },
    Int {
        unsigned: bool,
    },
    BigInt {
        unsigned: bool,
    },
    Float,
    Double,
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// CHAR/VARCHAR/TEXT with their charset name (e.g. `utf8mb4`, `latin1`).
    Text {
        charset: String,
    },
    /// BINARY(n) (with `length` so trailing zero bytes can be restored), VARBINARY, BLOB.
    Binary {
        fixed_length: Option<u32>,
    },
    Date,
    DateTime {
        fractional_digits: u8,
    },
    Timestamp {
        fractional_digits: u8,
    },
    Time {
        fractional_digits: u8,
    },
    Year,
    Enum {
        labels: Vec<String>,
    },
    Set {
        labels: Vec<String>,
    },
    Bit {
        width: u8,
    },
    Json,
    Geometry,
    Vector,
}

impl fmt::Display for Value {
    /// A readable, unambiguous rendering for logs and test failure messages.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => formatter.write_str("NULL"),
            Value::Int(value) => write!(formatter, "{value}"),
            Value::UInt(value) => write!(formatter, "{value}"),
            Value::Float(value) => write!(formatter, "{value}"),
            Value::Double(value) => write!(formatter, "{value}"),
            Value::Decimal(text) | Value::Enum(text) | Value::Json(text) => {
                formatter.write_str(text)
            }
            Value::Text(text) => write!(formatter, "{text:?}"),
            Value::Bytes(bytes) => {
                formatter.write_str("0x")?;
                bytes
                    .iter()
                    .try_for_each(|byte| write!(formatter, "{byte:02x}"))
            }
            Value::Date { year, month, day } => write!(formatter, "{year:04}-{month:02}-{day:02}"),
            Value::DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                microsecond,
            } => write!(
                formatter,
                "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{microsecond:06}"
            ),
            Value::Timestamp {
                unix_seconds,
                microsecond,
            } => write!(formatter, "@{unix_seconds}.{microsecond:06}"),
            Value::Time {
                negative,
                hours,
                minutes,
                seconds,
                microsecond,
            } => write!(
                formatter,
                "{}{hours:02}:{minutes:02}:{seconds:02}.{microsecond:06}",
                if *negative { "-" } else { "" }
            ),
            Value::Year(year) => write!(formatter, "{year}"),
            Value::Set(labels) => formatter.write_str(&labels.join(",")),
            Value::Bit { bits, width } => {
                write!(formatter, "b'{bits:0width$b}'", width = *width as usize)
            }
        }
    }
}

/// Decodes bytes of a MySQL charset to UTF-8. `None` means the charset is not one we convert
/// (the caller keeps bytes) or the bytes are not valid in it.
pub fn decode_charset(charset: &str, bytes: &[u8]) -> Option<String> {
    match charset {
        "utf8mb4" | "utf8mb3" | "utf8" | "ascii" => String::from_utf8(bytes.to_vec()).ok(),
        // MySQL's latin1 is Windows-1252 (with the five undefined bytes mapped through).
        "latin1" => Some(bytes.iter().map(|&byte| windows_1252(byte)).collect()),
        "ucs2" | "utf16" => decode_utf16(bytes, false),
        "utf16le" => decode_utf16(bytes, true),
        "utf32" => bytes
            .chunks(4)
            .map(|chunk| {
                let array: [u8; 4] = chunk.try_into().ok()?;
                char::from_u32(u32::from_be_bytes(array))
            })
            .collect(),
        _ => None,
    }
}

fn decode_utf16(bytes: &[u8], little_endian: bool) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|pair| {
        if little_endian {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

fn windows_1252(byte: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match byte {
        0x80..=0x9F => {
            char::from_u32(u32::from(HIGH[usize::from(byte - 0x80)])).unwrap_or('\u{FFFD}')
        }
        _ => char::from(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets() {
        let cases: [(&str, &[u8], Option<&str>); 8] = [
            ("utf8mb4", "😀 café".as_bytes(), Some("😀 café")),
            ("utf8mb4", &[0xff], None),
            ("latin1", b"caf\xe9", Some("café")),
            ("latin1", b"\x80 \x9f", Some("€ Ÿ")),
            ("ucs2", &[0x00, 0x41, 0x00, 0xe9], Some("Aé")),
            ("utf16le", &[0x41, 0x00], Some("A")),
            ("utf32", &[0, 1, 0xf6, 0x00], Some("😀")),
            ("big5", b"x", None),
        ];
        for (charset, bytes, expected) in cases {
            assert_eq!(
                decode_charset(charset, bytes).as_deref(),
                expected,
                "{charset}"
            );
        }
    }

    #[test]
    fn display() {
        let cases = [
            (Value::Null, "NULL"),
            (Value::Bytes(vec![0xff, 0x00]), "0xff00"),
            (
                Value::Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    microsecond: 0,
                },
                "-838:59:59.000000",
            ),
            (Value::Bit { bits: 5, width: 4 }, "b'0101'"),
            (Value::Set(vec!["a".into(), "c".into()]), "a,c"),
        ];
        for (value, expected) in cases {
            assert_eq!(value.to_string(), expected);
        }
    }
}
