//! Table schemas from TABLE_MAP events.
//!
//! Consumes a [`TableMapEvent`] with FULL optional metadata; produces a [`TableSchema`]: the
//! table's name, each column's name, wire type, metadata bytes and SQL type (signedness,
//! charset, ENUM/SET labels) and the primary key columns. Guarantees: a schema is built once
//! per TABLE_MAP (rows events reuse it), only from the event itself (never from today's
//! `information_schema`), and only when the event names its columns: MINIMAL metadata is refused
//! rather than decoded as `@0, @1, …`. Schemas live in memory only: table ids change after a
//! server restart, so they are never persisted.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use mysql_async::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::collations::{Collation, CollationId};
use mysql_common::constants::ColumnType as WireType;

use crate::value::ColumnType;

/// `database.table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    pub database: String,
    pub name: String,
}

impl fmt::Display for TableName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.database, self.name)
    }
}

/// One column as the TABLE_MAP describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSchema {
    pub name: Arc<str>,
    pub column_type: ColumnType,
    pub nullable: bool,
    /// The type on the wire (ENUM/SET resolved from STRING), needed to read the value bytes.
    pub wire_type: WireType,
    /// The per-column TABLE_MAP metadata bytes (lengths, precision, fractional digits).
    pub wire_metadata: Vec<u8>,
    pub unsigned: bool,
}

/// A table as one TABLE_MAP describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub table: TableName,
    pub columns: Vec<ColumnSchema>,
    /// Indexes into `columns` of the primary key, in key order; empty if the server wrote none.
    pub primary_key: Vec<usize>,
}

/// Why a TABLE_MAP could not become a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// No COLUMN_NAME metadata: the event was written with `binlog_row_metadata=MINIMAL`.
    MissingColumnNames,
    Malformed(String),
}

impl TableSchema {
    /// Builds the schema of one TABLE_MAP event.
    pub fn from_table_map(event: &TableMapEvent<'_>) -> Result<Self, SchemaError> {
        let malformed = |what: String| SchemaError::Malformed(what);
        let table = TableName {
            database: event.database_name().into_owned(),
            name: event.table_name().into_owned(),
        };
        let extractor = OptionalMetaExtractor::new(event.iter_optional_meta())
            .map_err(|error| malformed(format!("optional metadata: {error}")))?;
        let names = extractor
            .iter_column_name()
            .map(|name| name.map(|name| Arc::<str>::from(name.name().as_ref())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| malformed(format!("column names: {error}")))?;
        let column_count =
            usize::try_from(event.columns_count()).map_err(|_| malformed("column count".into()))?;
        if names.len() != column_count {
            return Err(SchemaError::MissingColumnNames);
        }
        let (enum_labels, set_labels) = labels(event)?;
        let mut enum_labels = enum_labels.into_iter();
        let mut set_labels = set_labels.into_iter();
        let mut signedness = extractor.iter_signedness();
        let (mut charsets, mut enum_and_set_charsets) = collations(event)?;
        let null_bitmask = event.null_bitmask();

        let mut columns = Vec::with_capacity(column_count);
        for (index, name) in names.into_iter().enumerate() {
            let wire_type = event
                .get_column_type(index)
                .map_err(|error| malformed(format!("column {name}: {error}")))?
                .ok_or_else(|| malformed(format!("column {name}: no type")))?;
            let wire_metadata = event.get_column_metadata(index).unwrap_or(&[]).to_vec();
            let unsigned = wire_type.is_numeric_type() && signedness.next().unwrap_or(false);
            let charset = if is_character_type(wire_type) {
                charsets.next().flatten()
            } else if wire_type.is_enum_or_set_type() {
                enum_and_set_charsets.next().flatten()
            } else {
                None
            };
            let labels = match wire_type {
                WireType::MYSQL_TYPE_ENUM => enum_labels.next(),
                WireType::MYSQL_TYPE_SET => set_labels.next(),
                _ => None,
            };
            let column_type = sql_type(wire_type, &wire_metadata, unsigned, charset, labels)
                .map_err(|reason| malformed(format!("column {name}: {reason}")))?;
            let nullable = null_bitmask.get(index).is_some_and(|bit| *bit);
            columns.push(ColumnSchema {
                name,
                column_type,
                nullable,
                wire_type,
                wire_metadata,
                unsigned,
            });
        }
        let primary_key = extractor
            .iter_primary_key()
            .map(|index| {
                let index = index.map_err(|error| malformed(format!("primary key: {error}")))?;
                usize::try_from(index)
                    .ok()
                    .filter(|&index| index < column_count)
                    .ok_or_else(|| malformed(format!("primary key column {index} out of range")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TableSchema {
            table,
            columns,
            primary_key,
        })
    }

    /// Names of the primary key columns, in key order.
    pub fn primary_key_names(&self) -> Vec<&str> {
        self.primary_key
            .iter()
            .filter_map(|&index| self.columns.get(index))
            .map(|column| column.name.as_ref())
            .collect()
    }
}

/// The server lists charsets for "character" columns, and MySQL 9 counts VECTOR among them
/// (mysql_common's iterator does not, which shifts every later text column's charset).
fn is_character_type(wire_type: WireType) -> bool {
    wire_type.is_character_type() || wire_type == WireType::MYSQL_TYPE_VECTOR
}

type CollationList = std::vec::IntoIter<Option<u16>>;

/// Collations of the character columns and of the ENUM/SET columns, each in column order, from
/// either the DEFAULT_CHARSET form (a default plus exceptions by index among those columns) or
/// the COLUMN_CHARSET form (one per column).
fn collations(event: &TableMapEvent<'_>) -> Result<(CollationList, CollationList), SchemaError> {
    let malformed = |error: std::io::Error| SchemaError::Malformed(format!("charsets: {error}"));
    let mut character_count = 0;
    let mut enum_and_set_count = 0;
    for index in 0..event.columns_count() as usize {
        match event.get_column_type(index) {
            Ok(Some(wire_type)) if is_character_type(wire_type) => character_count += 1,
            Ok(Some(wire_type)) if wire_type.is_enum_or_set_type() => enum_and_set_count += 1,
            _ => {}
        }
    }
    let mut character = vec![None; character_count];
    let mut enum_and_set = vec![None; enum_and_set_count];
    for field in event.iter_optional_meta() {
        let (target, default, non_default, per_column) = match field.map_err(malformed)? {
            OptionalMetadataField::DefaultCharset(charsets) => {
                (&mut character, Some(charsets), true, None)
            }
            OptionalMetadataField::EnumAndSetDefaultCharset(charsets) => {
                (&mut enum_and_set, Some(charsets), true, None)
            }
            OptionalMetadataField::ColumnCharset(charsets) => {
                (&mut character, None, false, Some(charsets))
            }
            OptionalMetadataField::EnumAndSetColumnCharset(charsets) => {
                (&mut enum_and_set, None, false, Some(charsets))
            }
            _ => continue,
        };
        if let (Some(default), true) = (default, non_default) {
            target
                .iter_mut()
                .for_each(|slot| *slot = Some(default.default_charset()));
            for exception in default.iter_non_default() {
                let exception = exception.map_err(malformed)?;
                if let Some(slot) = target.get_mut(exception.column_index() as usize) {
                    *slot = Some(exception.charset());
                }
            }
        }
        if let Some(per_column) = per_column {
            for (slot, charset) in target.iter_mut().zip(per_column.iter_charsets()) {
                *slot = Some(charset.map_err(malformed)?);
            }
        }
    }
    Ok((character.into_iter(), enum_and_set.into_iter()))
}

/// ENUM and SET labels, one list per ENUM (resp. SET) column in column order.
/// Labels of each ENUM (or SET) column, in column order.
type LabelLists = Vec<Vec<String>>;

fn labels(event: &TableMapEvent<'_>) -> Result<(LabelLists, LabelLists), SchemaError> {
    let malformed =
        |error: std::io::Error| SchemaError::Malformed(format!("ENUM/SET labels: {error}"));
    let mut enums = Vec::new();
    let mut sets = Vec::new();
    for field in event.iter_optional_meta() {
        match field.map_err(malformed)? {
            OptionalMetadataField::EnumStrValue(values) => {
                for column in values.iter_values() {
                    let column = column.map_err(malformed)?;
                    enums.push(
                        column
                            .values()
                            .iter()
                            .map(|v| v.value().into_owned())
                            .collect(),
                    );
                }
            }
            OptionalMetadataField::SetStrValue(values) => {
                for column in values.iter_values() {
                    let column = column.map_err(malformed)?;
                    sets.push(
                        column
                            .values()
                            .iter()
                            .map(|v| v.value().into_owned())
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }
    Ok((enums, sets))
}

/// The number of metadata bytes a wire type needs; checked up front because the value reader
/// in mysql_common indexes the metadata without bounds checks.
fn required_metadata_length(wire_type: WireType) -> usize {
    use WireType::*;
    match wire_type {
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET
        | MYSQL_TYPE_BIT
        | MYSQL_TYPE_NEWDECIMAL => 2,
        MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_GEOMETRY
        | MYSQL_TYPE_VECTOR
        | MYSQL_TYPE_JSON
        | MYSQL_TYPE_TIMESTAMP2
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIME2 => 1,
        _ => 0,
    }
}

/// Charset name of a collation id (`latin1`, `utf8mb4`, `binary`, …).
pub fn charset_name(collation: u16) -> String {
    let id = CollationId::from(collation);
    if id == CollationId::UNKNOWN_COLLATION_ID {
        return format!("collation#{collation}");
    }
    Collation::resolve(id).charset().to_owned()
}

/// The SQL type from the wire type, its metadata and the optional metadata.
fn sql_type(
    wire_type: WireType,
    metadata: &[u8],
    unsigned: bool,
    collation: Option<u16>,
    labels: Option<Vec<String>>,
) -> Result<ColumnType, String> {
    use WireType::*;
    if metadata.len() < required_metadata_length(wire_type) {
        return Err(format!("metadata too short for {wire_type:?}"));
    }
    let charset = collation.map(charset_name);
    let is_binary = charset.as_deref() == Some("binary");
    let text_or_binary = |fixed_length: Option<u32>| match &charset {
        Some(charset) if charset != "binary" => ColumnType::Text {
            charset: charset.clone(),
        },
        _ => ColumnType::Binary { fixed_length },
    };
    Ok(match wire_type {
        MYSQL_TYPE_TINY => ColumnType::TinyInt { unsigned },
        MYSQL_TYPE_SHORT => ColumnType::SmallInt { unsigned },
        MYSQL_TYPE_INT24 => ColumnType::MediumInt { unsigned },
        MYSQL_TYPE_LONG => ColumnType::Int { unsigned },
        MYSQL_TYPE_LONGLONG => ColumnType::BigInt { unsigned },
        MYSQL_TYPE_FLOAT => ColumnType::Float,
        MYSQL_TYPE_DOUBLE => ColumnType::Double,
        MYSQL_TYPE_NEWDECIMAL => ColumnType::Decimal {
            precision: metadata[0],
            scale: metadata[1],
        },
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => ColumnType::Date,
        MYSQL_TYPE_DATETIME => ColumnType::DateTime {
            fractional_digits: 0,
        },
        MYSQL_TYPE_DATETIME2 => ColumnType::DateTime {
            fractional_digits: metadata[0],
        },
        MYSQL_TYPE_TIMESTAMP => ColumnType::Timestamp {
            fractional_digits: 0,
        },
        MYSQL_TYPE_TIMESTAMP2 => ColumnType::Timestamp {
            fractional_digits: metadata[0],
        },
        MYSQL_TYPE_TIME => ColumnType::Time {
            fractional_digits: 0,
        },
        MYSQL_TYPE_TIME2 => ColumnType::Time {
            fractional_digits: metadata[0],
        },
        MYSQL_TYPE_YEAR => ColumnType::Year,
        MYSQL_TYPE_BIT => ColumnType::Bit {
            width: metadata[1].saturating_mul(8).saturating_add(metadata[0]),
        },
        MYSQL_TYPE_JSON => ColumnType::Json,
        MYSQL_TYPE_GEOMETRY => ColumnType::Geometry,
        MYSQL_TYPE_VECTOR => ColumnType::Vector,
        MYSQL_TYPE_ENUM => ColumnType::Enum {
            labels: labels.ok_or("ENUM without ENUM_STR_VALUE metadata")?,
        },
        MYSQL_TYPE_SET => ColumnType::Set {
            labels: labels.ok_or("SET without SET_STR_VALUE metadata")?,
        },
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => text_or_binary(None),
        MYSQL_TYPE_BLOB | MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB => {
            text_or_binary(None)
        }
        MYSQL_TYPE_STRING => {
            // CHAR(n)/BINARY(n): the byte length is split over both metadata bytes (see the
            // "long CHAR() field" note in mysql_common's value reader).
            let (byte0, byte1) = (u32::from(metadata[0]), u32::from(metadata[1]));
            let length = if byte0 & 0x30 != 0x30 {
                byte1 | (((byte0 & 0x30) ^ 0x30) << 4)
            } else {
                byte1
            };
            if is_binary {
                ColumnType::Binary {
                    fixed_length: Some(length),
                }
            } else {
                text_or_binary(Some(length))
            }
        }
        other => return Err(format!("unsupported column type {other:?}")),
    })
}

/// Schemas of the tables mapped in the current stream, keyed by table id.
#[derive(Debug, Default)]
pub struct SchemaCache {
    tables: HashMap<u64, Arc<TableSchema>>,
}

impl SchemaCache {
    /// Keeps the schema of a TABLE_MAP. The same id may be remapped with a new schema after DDL.
    pub fn insert(&mut self, table_id: u64, schema: TableSchema) -> Arc<TableSchema> {
        if let Some(existing) = self.tables.get(&table_id) {
            if **existing == schema {
                return existing.clone();
            }
        }
        let schema = Arc::new(schema);
        self.tables.insert(table_id, schema.clone());
        schema
    }

    pub fn get(&self, table_id: u64) -> Option<&Arc<TableSchema>> {
        self.tables.get(&table_id)
    }

    /// Called on a real ROTATE: table ids are only valid within one binlog file's stream.
    pub fn clear(&mut self) {
        self.tables.clear();
    }
}
