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

use super::convert::convert;
use super::schema::{ColumnSchema, TableName, TableSchema};
use crate::value::Value;

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
    /// ≈ bytes this image holds in memory (for the pipeline's byte budgets).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Row>()
            + self.columns.capacity() * std::mem::size_of::<RowColumn>()
            + self
                .columns
                .iter()
                .map(|column| column.value.heap_bytes())
                .sum::<usize>()
    }

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
    /// ≈ bytes this change holds in memory (the schema is shared, not counted).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<RowChange>()
            + self.before.as_ref().map_or(0, Row::memory_bytes)
            + self.after.as_ref().map_or(0, Row::memory_bytes)
    }

    /// [`RowChange::memory_bytes`] without the values' own heap (text, JSON, blobs), which the
    /// rows event's length bounds: counted per row without visiting each value, so the
    /// assembler can weigh every event it decodes.
    pub fn fixed_bytes(&self) -> usize {
        let image = |row: &Row| {
            std::mem::size_of::<Row>() + row.columns.capacity() * std::mem::size_of::<RowColumn>()
        };
        std::mem::size_of::<RowChange>()
            + self.before.as_ref().map_or(0, image)
            + self.after.as_ref().map_or(0, image)
    }

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
            // Through the DOM so opaque scalars (DECIMAL, DATE, TIME, DATETIME inside JSON)
            // become text rather than failing; other opaque types become
            // "base64:type<id>:<data>" strings (mysql_common's documented form).
            let dom = jsonb.parse().map_err(|error| format!("JSON: {error}"))?;
            return Ok(Value::Json(serde_json::Value::from(dom).to_string()));
        }
        BinlogValue::JsonDiff(_) => return Err("partial JSON update".into()),
    };
    convert(wire, &column.column_type)
}
