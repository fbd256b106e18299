//! Rows events → typed row changes.
//!
//! Consumes a rows event (WRITE/UPDATE/DELETE, v1 or v2) and the [`TableSchema`] of its
//! TABLE_MAP; produces one [`RowChange`] per row, with named, typed [`Value`]s. Guarantees:
//! values are exact (see `value.rs`), text is converted from the column's charset, BINARY(n)
//! gets its trailing zero bytes back, ENUM/SET indexes become their labels, MySQL binary JSON
//! becomes compact JSON text. The row bytes are read with the schema built once per TABLE_MAP,
//! not re-parsing the optional metadata per row as `mysql_common`'s `BinlogRow` does.

use std::sync::Arc;

use mysql_async::binlog::events::RowsEventData;
use mysql_async::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType as WireType;
use mysql_common::io::ParseBuf;
use mysql_common::Value as WireValue;

use super::schema::{ColumnSchema, TableName, TableSchema};
use crate::value::{decode_charset, ColumnType, Value};

/// What a row change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
}

/// One column of a row image.
#[derive(Debug, Clone, PartialEq)]
pub struct RowColumn {
    pub name: Arc<str>,
    pub value: Value,
}

/// One row image: the columns the event carries (all of them with `binlog_row_image=FULL`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub columns: Vec<RowColumn>,
}

impl Row {
    /// The value of the named column, if the image has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .find(|column| column.name.as_ref() == name)
            .map(|column| &column.value)
    }
}

/// One changed row. `before` is set for updates and deletes, `after` for inserts and updates.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub table: TableName,
    pub kind: ChangeKind,
    pub before: Option<Row>,
    pub after: Option<Row>,
    /// The schema the row was written under: column types and primary key.
    pub schema: Arc<TableSchema>,
}

impl RowChange {
    /// The primary key values of the row (from `after`, else `before`), in key order.
    pub fn key(&self) -> Vec<&Value> {
        let row = self.after.as_ref().or(self.before.as_ref());
        self.schema
            .primary_key_names()
            .into_iter()
            .filter_map(|name| row.and_then(|row| row.get(name)))
            .collect()
    }
}

/// Decodes every row of one rows event. Errors are plain reasons; the caller adds location.
pub fn decode_rows(
    event: &RowsEventData<'_>,
    schema: &Arc<TableSchema>,
) -> Result<Vec<RowChange>, String> {
    let kind = match event {
        RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => ChangeKind::Insert,
        RowsEventData::UpdateRowsEvent(_) | RowsEventData::UpdateRowsEventV1(_) => {
            ChangeKind::Update
        }
        RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => {
            ChangeKind::Delete
        }
        RowsEventData::PartialUpdateRowsEvent(_) => {
            return Err(
                "partial JSON updates are not supported: set binlog_row_value_options=''".into(),
            )
        }
    };
    if event.num_columns() != schema.columns.len() as u64 {
        return Err(format!(
            "rows event has {} columns, its TABLE_MAP {}",
            event.num_columns(),
            schema.columns.len()
        ));
    }
    let before_columns: Option<Vec<usize>> = event
        .columns_before_image()
        .map(|bits| bits.iter_ones().collect());
    let after_columns: Option<Vec<usize>> = event
        .columns_after_image()
        .map(|bits| bits.iter_ones().collect());
    let mut buffer = ParseBuf(event.rows_data());
    let mut changes = Vec::new();
    while !buffer.is_empty() {
        let before = match &before_columns {
            Some(present) => Some(decode_image(&mut buffer, schema, present)?),
            None => None,
        };
        let after = match &after_columns {
            Some(present) => Some(decode_image(&mut buffer, schema, present)?),
            None => None,
        };
        changes.push(RowChange {
            table: schema.table.clone(),
            kind,
            before,
            after,
            schema: schema.clone(),
        });
    }
    Ok(changes)
}

/// One row image: a null bitmap over the present columns, then each non-null value.
fn decode_image<'a>(
    buffer: &mut ParseBuf<'a>,
    schema: &'a TableSchema,
    present: &[usize],
) -> Result<Row, String> {
    let null_bitmap = buffer
        .checked_eat(present.len().div_ceil(8))
        .ok_or("row image shorter than its null bitmap")?;
    let mut columns = Vec::with_capacity(present.len());
    for (image_index, &column_index) in present.iter().enumerate() {
        let column = schema
            .columns
            .get(column_index)
            .ok_or_else(|| format!("column {column_index} not in the TABLE_MAP"))?;
        let is_null = null_bitmap[image_index / 8] & (1 << (image_index % 8)) != 0;
        let value = if is_null {
            Value::Null
        } else {
            decode_value(buffer, column)
                .map_err(|reason| format!("column {}: {reason}", column.name))?
        };
        columns.push(RowColumn {
            name: column.name.clone(),
            value,
        });
    }
    Ok(Row { columns })
}

/// Reads one non-null value and converts it by the column's SQL type.
fn decode_value<'a>(buffer: &mut ParseBuf<'a>, column: &'a ColumnSchema) -> Result<Value, String> {
    // mysql_common reads DATE (10) only as NEWDATE (14): same 3-byte layout.
    let wire_type = match column.wire_type {
        WireType::MYSQL_TYPE_DATE => WireType::MYSQL_TYPE_NEWDATE,
        other => other,
    };
    let context = (
        wire_type,
        column.wire_metadata.as_slice(),
        column.unsigned,
        false,
    );
    let value: BinlogValue<'_> = buffer.parse(context).map_err(|error| error.to_string())?;
    let wire = match value {
        BinlogValue::Value(wire) => wire,
        BinlogValue::Jsonb(jsonb) => {
            let json = serde_json::Value::try_from(jsonb).map_err(|error| error.to_string())?;
            return Ok(Value::Json(json.to_string()));
        }
        BinlogValue::JsonDiff(_) => return Err("partial JSON update".into()),
    };
    convert(wire, &column.column_type)
}

/// Wire value → exact typed value.
fn convert(wire: WireValue, column_type: &ColumnType) -> Result<Value, String> {
    let unexpected =
        |wire: &WireValue| format!("unexpected wire value {wire:?} for {column_type:?}");
    Ok(match (column_type, wire) {
        (_, WireValue::NULL) => Value::Null,
        (
            ColumnType::TinyInt { unsigned }
            | ColumnType::SmallInt { unsigned }
            | ColumnType::MediumInt { unsigned }
            | ColumnType::Int { unsigned }
            | ColumnType::BigInt { unsigned },
            wire,
        ) => match (unsigned, wire) {
            // mysql_common reads a signed MEDIUMINT without extending its sign bit.
            (false, WireValue::Int(value))
                if matches!(column_type, ColumnType::MediumInt { .. }) && value >= 1 << 23 =>
            {
                Value::Int(value - (1 << 24))
            }
            (false, WireValue::Int(value)) => Value::Int(value),
            (true, WireValue::UInt(value)) => Value::UInt(value),
            (true, WireValue::Int(value)) => {
                Value::UInt(u64::try_from(value).map_err(|_| "negative unsigned")?)
            }
            (_, wire) => return Err(unexpected(&wire)),
        },
        (ColumnType::Float, WireValue::Float(value)) => Value::Float(value),
        (ColumnType::Double, WireValue::Double(value)) => Value::Double(value),
        (ColumnType::Decimal { .. }, WireValue::Bytes(text)) => {
            Value::Decimal(String::from_utf8(text).map_err(|_| "decimal text not UTF-8")?)
        }
        (ColumnType::Date, WireValue::Date(year, month, day, ..)) => {
            Value::Date { year, month, day }
        }
        (
            ColumnType::DateTime { .. },
            WireValue::Date(year, month, day, hour, minute, second, microsecond),
        ) => Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
        },
        (ColumnType::Timestamp { .. }, WireValue::Int(seconds)) => Value::Timestamp {
            unix_seconds: seconds,
            microsecond: 0,
        },
        (ColumnType::Timestamp { .. }, WireValue::Bytes(text)) => timestamp(&text)?,
        (
            ColumnType::Time { .. },
            WireValue::Time(negative, days, hours, minutes, seconds, microsecond),
        ) => Value::Time {
            negative,
            hours: u16::try_from(days.saturating_mul(24).saturating_add(u32::from(hours)))
                .map_err(|_| "TIME hours out of range")?,
            minutes,
            seconds,
            microsecond,
        },
        (ColumnType::Year, WireValue::Bytes(text)) => {
            // mysql_common adds 1900 to the stored byte, so YEAR 0000 arrives as "1900".
            let year: u16 = std::str::from_utf8(&text)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or("YEAR is not a number")?;
            Value::Year(if year == 1900 { 0 } else { year })
        }
        (ColumnType::Bit { width }, WireValue::Bytes(bytes)) => {
            if bytes.len() > 8 {
                return Err("BIT wider than 64".into());
            }
            let bits = bytes
                .iter()
                .fold(0u64, |bits, &byte| (bits << 8) | u64::from(byte));
            Value::Bit {
                bits,
                width: *width,
            }
        }
        (ColumnType::Enum { labels }, WireValue::Int(index)) => {
            // Index 0 is MySQL's "invalid value" entry, shown as the empty string.
            let label = match usize::try_from(index) {
                Ok(0) => String::new(),
                Ok(index) => labels
                    .get(index - 1)
                    .cloned()
                    .ok_or_else(|| format!("ENUM index {index} beyond {} labels", labels.len()))?,
                Err(_) => return Err("negative ENUM index".into()),
            };
            Value::Enum(label)
        }
        (ColumnType::Set { labels }, WireValue::Bytes(bytes)) => {
            let mut chosen = Vec::new();
            for (index, label) in labels.iter().enumerate() {
                if bytes
                    .get(index / 8)
                    .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
                {
                    chosen.push(label.clone());
                }
            }
            Value::Set(chosen)
        }
        (ColumnType::Json, WireValue::Bytes(bytes)) => {
            // A NULL-literal JSON document is stored as zero bytes.
            Value::Json(String::from_utf8(bytes).map_err(|_| "JSON text not UTF-8")?)
        }
        (ColumnType::Text { charset }, WireValue::Bytes(bytes)) => {
            match decode_charset(charset, &bytes) {
                Some(text) => Value::Text(text),
                None => Value::Bytes(bytes),
            }
        }
        (ColumnType::Binary { fixed_length }, WireValue::Bytes(mut bytes)) => {
            // The server strips BINARY(n)'s trailing zero bytes; the value has exactly n.
            if let Some(length) = fixed_length {
                let length = *length as usize;
                if bytes.len() < length {
                    bytes.resize(length, 0);
                }
            }
            Value::Bytes(bytes)
        }
        (ColumnType::Geometry | ColumnType::Vector, WireValue::Bytes(bytes)) => Value::Bytes(bytes),
        (_, wire) => return Err(unexpected(&wire)),
    })
}

/// TIMESTAMP2 arrives as `"seconds"` or `"seconds.micros"`; mysql_common reads the seconds as
/// i32, so values past 2038 (MariaDB 11.5+ stores up to 2106) come negative: undo the wrap.
fn timestamp(text: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(text).map_err(|_| "TIMESTAMP text not UTF-8")?;
    let (seconds, micros) = text.split_once('.').unwrap_or((text, "0"));
    let seconds: i64 = seconds.parse().map_err(|_| format!("TIMESTAMP {text}"))?;
    let microsecond: u32 = micros.parse().map_err(|_| format!("TIMESTAMP {text}"))?;
    Ok(Value::Timestamp {
        unix_seconds: if seconds < 0 {
            seconds + (1 << 32)
        } else {
            seconds
        },
        microsecond,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let cases: Vec<(WireValue, ColumnType, Value)> = vec![
            (
                WireValue::Int(-5),
                ColumnType::Int { unsigned: false },
                Value::Int(-5),
            ),
            (
                WireValue::UInt(u64::MAX),
                ColumnType::BigInt { unsigned: true },
                Value::UInt(u64::MAX),
            ),
            (
                WireValue::Int(16_777_215),
                ColumnType::MediumInt { unsigned: true },
                Value::UInt(16_777_215),
            ),
            (
                WireValue::Int(8_388_608),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(-8_388_608),
            ),
            (
                WireValue::Int(16_777_215),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(-1),
            ),
            (
                WireValue::Int(8_388_607),
                ColumnType::MediumInt { unsigned: false },
                Value::Int(8_388_607),
            ),
            (
                WireValue::Bytes(b"-0.05".to_vec()),
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                Value::Decimal("-0.05".into()),
            ),
            (
                WireValue::Bytes(b"1900".to_vec()),
                ColumnType::Year,
                Value::Year(0),
            ),
            (
                WireValue::Bytes(b"2155".to_vec()),
                ColumnType::Year,
                Value::Year(2155),
            ),
            (
                WireValue::Bytes(vec![0x01, 0x02]),
                ColumnType::Bit { width: 10 },
                Value::Bit {
                    bits: 258,
                    width: 10,
                },
            ),
            (
                WireValue::Int(2),
                ColumnType::Enum {
                    labels: labels.clone(),
                },
                Value::Enum("b".into()),
            ),
            (
                WireValue::Int(0),
                ColumnType::Enum {
                    labels: labels.clone(),
                },
                Value::Enum(String::new()),
            ),
            (
                WireValue::Bytes(vec![0b101]),
                ColumnType::Set {
                    labels: labels.clone(),
                },
                Value::Set(vec!["a".into(), "c".into()]),
            ),
            (
                WireValue::Bytes(b"caf\xe9".to_vec()),
                ColumnType::Text {
                    charset: "latin1".into(),
                },
                Value::Text("café".into()),
            ),
            (
                WireValue::Bytes(vec![1, 2]),
                ColumnType::Binary {
                    fixed_length: Some(4),
                },
                Value::Bytes(vec![1, 2, 0, 0]),
            ),
            (
                WireValue::Bytes(b"1714979289.123000".to_vec()),
                ColumnType::Timestamp {
                    fractional_digits: 6,
                },
                Value::Timestamp {
                    unix_seconds: 1_714_979_289,
                    microsecond: 123_000,
                },
            ),
            (
                WireValue::Bytes(b"-1".to_vec()),
                ColumnType::Timestamp {
                    fractional_digits: 0,
                },
                Value::Timestamp {
                    unix_seconds: 4_294_967_295,
                    microsecond: 0,
                },
            ),
            (
                WireValue::Time(true, 34, 22, 59, 59, 0),
                ColumnType::Time {
                    fractional_digits: 0,
                },
                Value::Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    microsecond: 0,
                },
            ),
        ];
        for (wire, column_type, expected) in cases {
            let description = format!("{wire:?} as {column_type:?}");
            assert_eq!(convert(wire, &column_type), Ok(expected), "{description}");
        }
        assert!(convert(WireValue::Int(4), &ColumnType::Enum { labels }).is_err());
        assert!(convert(WireValue::Int(-1), &ColumnType::Int { unsigned: true }).is_err());
    }
}
