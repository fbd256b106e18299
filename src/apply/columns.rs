//! A mapped table's columns as `information_schema` describes them today: what the apply step
//! converts sheet cells into, and the quoted identifiers its SQL is built from.
//!
//! Consumes a mapping and a connection; produces a [`TableInfo`] (column kinds with their
//! limits, primary key, AUTO_INCREMENT column, synced columns). Guarantees: every identifier put
//! into SQL comes from the mapping or the server's own catalog, is validated and is quoted with
//! backticks by [`quote`]; nothing from a webhook request is ever spliced into SQL.
//! The binlog side never uses this (it decodes with each event's own TABLE_MAP); this is only
//! for writing, which happens against today's schema anyway.

use std::sync::Arc;

use mysql_async::prelude::Queryable;

use super::cells::SheetDisplay;
use super::error::Failure;
use crate::config::MappingConfig;

/// What values a column takes.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    Integer {
        unsigned: bool,
        /// 8, 16, 24, 32 or 64.
        bits: u8,
        /// TINYINT(1): BOOLEAN. Also accepts TRUE/FALSE.
        boolean: bool,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Double,
    Text {
        max_characters: Option<u64>,
        max_bytes: Option<u64>,
        charset: Option<String>,
    },
    Binary,
    Date,
    DateTime {
        fractional_digits: u32,
    },
    /// Written and read in UTC (the session time zone is `+00:00`); shown in the sheet, and
    /// edits read, in `sync.time_zone` ([`TableInfo::display`]).
    Timestamp {
        fractional_digits: u32,
    },
    Time {
        fractional_digits: u32,
    },
    Year,
    Enum {
        labels: Vec<String>,
    },
    Set {
        labels: Vec<String>,
    },
    Bit {
        width: u32,
    },
    Json,
    /// Spatial and other types a sheet cannot edit.
    Unsupported {
        data_type: String,
    },
}

impl ColumnKind {
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            ColumnKind::Integer { .. }
                | ColumnKind::Decimal { .. }
                | ColumnKind::Float
                | ColumnKind::Double
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: Arc<str>,
    pub kind: ColumnKind,
    pub nullable: bool,
    /// The type as the server shows it (`varchar(10)`), for error messages.
    pub column_type: String,
    pub auto_increment: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub database: String,
    pub table: String,
    /// Every column in table order.
    pub columns: Vec<ColumnInfo>,
    /// Indexes into `columns` of the primary key, in key order.
    pub key: Vec<usize>,
    /// Indexes of the columns the mapping syncs.
    pub synced: Vec<usize>,
    /// How the table's values show in the sheet (and how TIMESTAMP edits are read).
    pub display: SheetDisplay,
}

impl TableInfo {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|column| column.name.as_ref() == name)
    }

    pub fn is_key(&self, index: usize) -> bool {
        self.key.contains(&index)
    }

    /// `` `database`.`table` ``.
    pub fn quoted_name(&self) -> String {
        format!("{}.{}", quote(&self.database), quote(&self.table))
    }

    pub fn display_name(&self) -> String {
        format!("{}.{}", self.database, self.table)
    }

    /// The AUTO_INCREMENT column, when it is part of the key.
    pub fn auto_increment_key(&self) -> Option<usize> {
        self.key
            .iter()
            .copied()
            .find(|index| self.columns[*index].auto_increment)
    }

    /// `` `k1` = ? AND `k2` = ? ``.
    pub fn key_condition(&self) -> String {
        self.key
            .iter()
            .map(|index| format!("{} = ?", quote(&self.columns[*index].name)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// A MySQL identifier in backticks, inner backticks doubled (the server's own escaping).
pub fn quote(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

/// Identifiers MySQL accepts: 1–64 characters, no NUL, not ending in a space.
pub fn valid_identifier(identifier: &str) -> bool {
    let characters = identifier.chars().count();
    (1..=64).contains(&characters) && !identifier.contains('\0') && !identifier.ends_with(' ')
}

type ColumnRow = (
    String,
    String,
    String,
    String,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<String>,
    String,
);

/// Reads the mapping's table from `information_schema`.
pub async fn load(
    connection: &mut mysql_async::Conn,
    mapping: &MappingConfig,
    display: &SheetDisplay,
) -> Result<TableInfo, Failure> {
    let (database, table) = mapping.database_and_table();
    let table_failure = |reason: String| Failure::Table {
        table: mapping.table.clone(),
        reason,
    };
    if !valid_identifier(database) || !valid_identifier(table) {
        return Err(table_failure("is not a valid database.table name".into()));
    }
    let rows: Vec<ColumnRow> = connection
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, \
             CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, \
             CHARACTER_SET_NAME, EXTRA \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        .await?;
    if rows.is_empty() {
        return Err(table_failure(
            "does not exist (or is not visible to this user)".into(),
        ));
    }
    let key_names: Vec<String> = connection
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' \
             ORDER BY SEQ_IN_INDEX",
            (database, table),
        )
        .await?;
    let columns: Vec<ColumnInfo> = rows.into_iter().map(column_info).collect();
    let index_of = |name: &str| {
        columns
            .iter()
            .position(|column| column.name.as_ref() == name)
    };
    let key: Vec<usize> = key_names.iter().filter_map(|name| index_of(name)).collect();
    if key.is_empty() || key.len() != key_names.len() {
        return Err(table_failure(
            "has no primary key; sheetsync needs one".into(),
        ));
    }
    let synced = match &mapping.columns {
        None => (0..columns.len()).collect(),
        Some(names) => {
            let mut synced = Vec::with_capacity(names.len());
            for name in names {
                synced.push(
                    index_of(name)
                        .ok_or_else(|| table_failure(format!("has no column `{name}`")))?,
                );
            }
            synced
        }
    };
    Ok(TableInfo {
        database: database.to_string(),
        table: table.to_string(),
        columns,
        key,
        synced,
        display: display.clone(),
    })
}

fn column_info(row: ColumnRow) -> ColumnInfo {
    let (name, data_type, column_type, nullable, max_characters, max_bytes, precision, scale) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    let (datetime_precision, charset, extra) = (row.8, row.9, row.10);
    let data_type = data_type.to_ascii_lowercase();
    let lower_type = column_type.to_ascii_lowercase();
    let unsigned = lower_type.contains("unsigned");
    let fractional_digits = datetime_precision.unwrap_or(0) as u32;
    let integer = |bits: u8| ColumnKind::Integer {
        unsigned,
        bits,
        boolean: bits == 8 && lower_type.starts_with("tinyint(1)"),
    };
    let kind = match data_type.as_str() {
        "tinyint" => integer(8),
        "smallint" => integer(16),
        "mediumint" => integer(24),
        "int" | "integer" => integer(32),
        "bigint" => integer(64),
        "decimal" | "numeric" => ColumnKind::Decimal {
            precision: precision.unwrap_or(10) as u32,
            scale: scale.unwrap_or(0) as u32,
        },
        "float" => ColumnKind::Float,
        "double" | "real" => ColumnKind::Double,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => ColumnKind::Text {
            max_characters,
            max_bytes,
            charset: charset.map(|charset| charset.to_ascii_lowercase()),
        },
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnKind::Binary
        }
        "date" => ColumnKind::Date,
        "datetime" => ColumnKind::DateTime { fractional_digits },
        "timestamp" => ColumnKind::Timestamp { fractional_digits },
        "time" => ColumnKind::Time { fractional_digits },
        "year" => ColumnKind::Year,
        "enum" => ColumnKind::Enum {
            labels: quoted_labels(&column_type),
        },
        "set" => ColumnKind::Set {
            labels: quoted_labels(&column_type),
        },
        "bit" => ColumnKind::Bit {
            width: precision.unwrap_or(1) as u32,
        },
        "json" => ColumnKind::Json,
        other => ColumnKind::Unsupported {
            data_type: other.to_string(),
        },
    };
    ColumnInfo {
        name: Arc::from(name.as_str()),
        kind,
        nullable: nullable.eq_ignore_ascii_case("YES"),
        column_type,
        auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
    }
}

/// The labels of `enum('a','it''s')` / `set(…)`: quoted strings, `''` and `\'` unescaped.
pub fn quoted_labels(column_type: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut characters = column_type.chars().peekable();
    while let Some(character) = characters.next() {
        if character != '\'' {
            continue;
        }
        let mut label = String::new();
        while let Some(inner) = characters.next() {
            match inner {
                '\'' if characters.peek() == Some(&'\'') => {
                    characters.next();
                    label.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(escaped) = characters.next() {
                        label.push(escaped);
                    }
                }
                other => label.push(other),
            }
        }
        labels.push(label);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_inner_backticks_doubled() {
        assert_eq!(quote("orders"), "`orders`");
        assert_eq!(quote("a`b"), "`a``b`");
        assert_eq!(quote("x`; DROP TABLE t; --"), "`x``; DROP TABLE t; --`");
        assert!(valid_identifier("total = 0 WHERE 1=1; --"));
        assert!(!valid_identifier(""));
        assert!(!valid_identifier("a\0b"));
        assert!(!valid_identifier(&"x".repeat(65)));
    }

    #[test]
    fn enum_labels_are_unescaped() {
        assert_eq!(
            quoted_labels("enum('small','it''s','a,b','back\\\\slash')"),
            ["small", "it's", "a,b", "back\\slash"]
        );
        assert_eq!(quoted_labels("set('')"), [""]);
    }
}
