//! The webhook body (docs/webhook-protocol.md): serde types and a validating parser.
//!
//! Consumes the raw request body; produces a [`Message`] whose every field has been checked
//! against the protocol's types and limits, or a [`MessageError`] naming the field at fault.
//! Parsing goes through `serde_json::Value` by hand rather than `#[derive(Deserialize)]` so that
//! each error says which field, what was expected and what was found. It never panics on any
//! input (a property test feeds it arbitrary bytes).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::column_map::ColumnMap;
use super::fields::{
    bounded_name, cell_map, cell_text, cell_value, column_name, describe, name, quoted, timestamp,
    Element, Fields, Member,
};

/// The only protocol version this service speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// Rows in one edit message; the script splits bigger pastes.
pub const MAX_ROWS_PER_MESSAGE: usize = 10_000;
/// Google's own limit for one cell; also applied to header names and old values.
pub const MAX_CELL_CHARACTERS: usize = 50_000;
/// Highest sheet row: a tab holds at most 10 million cells.
pub const MAX_ROW_NUMBER: u64 = 10_000_000;
/// Rows listed in a structure message's key snapshot.
pub const MAX_KEY_ROWS: usize = 10_000_000;
const MAX_DELIVERY_ID_CHARACTERS: usize = 128;
/// Sheets tab ids (gids) are positive 32-bit integers.
const MAX_SHEET_ID: u64 = i32::MAX as u64;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    #[error("body is not valid UTF-8 (invalid byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("body is not valid JSON: {message}")]
    InvalidJson { message: String },
    #[error("field `{field}` is missing")]
    MissingField { field: String },
    #[error("field `{field}`: expected {expected}, found {found}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unsupported version {found}; this service speaks version {PROTOCOL_VERSION}")]
    UnsupportedVersion { found: String },
    #[error("field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

/// A cell as sent by the script: empty cells are `null`, dates are serial numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CellValue {
    Empty,
    Boolean(bool),
    Number(f64),
    Text(String),
}

impl CellValue {
    pub fn is_empty(&self) -> bool {
        matches!(self, CellValue::Empty)
    }
}

/// Fields every message carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    pub delivery_id: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub sheet_id: u64,
    pub sent_at: String,
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    Edit(EditMessage),
    Structure(StructureMessage),
}

impl Message {
    pub fn envelope(&self) -> &Envelope {
        match self {
            Message::Edit(edit) => &edit.envelope,
            Message::Structure(structure) => &structure.envelope,
        }
    }
}

/// Cells typed into the sheet (one cell, a paste, or a cleared block).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditMessage {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub edited_at: String,
    pub header: Vec<String>,
    /// Row 1 was edited inside the header's columns: the service puts the header back.
    pub header_edited: bool,
    pub rows: Vec<EditedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditedRow {
    /// 1-based sheet row, never 1 (the header).
    pub row: u32,
    pub key: ColumnMap<CellValue>,
    pub values: ColumnMap<CellValue>,
    /// What the editor saw before a single-cell edit; the compare-and-set input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_values: Option<ColumnMap<String>>,
}

impl EditedRow {
    /// A row typed into the sheet that has no key yet: it becomes an INSERT.
    pub fn is_new(&self) -> bool {
        self.key.values().all(CellValue::is_empty)
    }
}

/// Rows inserted, removed or reordered: the key column snapshot to diff against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructureMessage {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub change_type: String,
    pub changed_at: String,
    pub key_columns: Vec<String>,
    /// For every data row in sheet order, its key cells in `key_columns` order.
    pub keys: Vec<Vec<CellValue>>,
}

/// Parse and validate a raw webhook body.
pub fn parse(raw_body: &[u8]) -> Result<Message, MessageError> {
    let text = std::str::from_utf8(raw_body).map_err(|error| MessageError::InvalidUtf8 {
        offset: error.valid_up_to(),
    })?;
    let value: Value = serde_json::from_str(text).map_err(|error| MessageError::InvalidJson {
        message: error.to_string(),
    })?;
    let Value::Object(object) = value else {
        return Err(MessageError::WrongType {
            field: "(body)".into(),
            expected: "an object",
            found: describe(&value),
        });
    };
    let fields = Fields::new(&object, None);
    check_version(&fields)?;
    let kind = fields.string("kind")?;
    let envelope = parse_envelope(&fields)?;
    match kind {
        "edit" => parse_edit(&fields, envelope).map(Message::Edit),
        "structure" => parse_structure(&fields, envelope).map(Message::Structure),
        other => Err(fields.invalid(
            "kind",
            format!(
                "expected \"edit\" or \"structure\", found {}",
                quoted(other)
            ),
        )),
    }
}

fn check_version(fields: &Fields) -> Result<(), MessageError> {
    let value = fields.required("version")?;
    match value.as_u64() {
        Some(PROTOCOL_VERSION) => Ok(()),
        _ if value.is_number() => Err(MessageError::UnsupportedVersion {
            found: value.to_string(),
        }),
        _ => Err(fields.wrong_type("version", "an integer", value)),
    }
}

fn parse_envelope(fields: &Fields) -> Result<Envelope, MessageError> {
    let delivery_id = fields.string("delivery_id")?;
    let valid_id = !delivery_id.is_empty()
        && delivery_id.len() <= MAX_DELIVERY_ID_CHARACTERS
        && delivery_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !valid_id {
        return Err(fields.invalid(
            "delivery_id",
            format!("expected 1 to {MAX_DELIVERY_ID_CHARACTERS} characters of A-Z a-z 0-9 - _"),
        ));
    }
    let user = match fields.optional("user") {
        None | Some(Value::Null) => None,
        Some(Value::String(user)) => Some(bounded_name(fields, "user", user)?.to_owned()),
        Some(other) => return Err(fields.wrong_type("user", "a string or null", other)),
    };
    Ok(Envelope {
        delivery_id: delivery_id.to_owned(),
        spreadsheet_id: name(fields, "spreadsheet_id")?,
        sheet: name(fields, "sheet")?,
        sheet_id: fields.integer("sheet_id", 0, MAX_SHEET_ID)?,
        sent_at: timestamp(fields, "sent_at")?,
        user,
    })
}

fn parse_edit(fields: &Fields, envelope: Envelope) -> Result<EditMessage, MessageError> {
    let edited_at = timestamp(fields, "edited_at")?;
    let header = fields
        .array("header")?
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let field = Element("header", index, None);
            match value {
                Value::String(text) => cell_text(fields, field, text).map(str::to_owned),
                other => Err(fields.wrong_type(field, "a string", other)),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let header_edited = match fields.optional("header_edited") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => return Err(fields.wrong_type("header_edited", "a boolean", other)),
    };
    let row_values = fields.array("rows")?;
    if row_values.len() > MAX_ROWS_PER_MESSAGE {
        return Err(fields.invalid(
            "rows",
            format!(
                "{} rows, at most {MAX_ROWS_PER_MESSAGE} per message",
                row_values.len()
            ),
        ));
    }
    if row_values.is_empty() && !header_edited {
        return Err(fields.invalid("rows", "is empty and the header was not edited".into()));
    }
    let mut seen_rows = BTreeSet::new();
    let mut rows = Vec::with_capacity(row_values.len());
    for (index, value) in row_values.iter().enumerate() {
        let row = parse_row(fields, index, value)?;
        if !seen_rows.insert(row.row) {
            return Err(fields.invalid(
                format!("rows[{index}].row"),
                format!("row {} appears more than once", row.row),
            ));
        }
        rows.push(row);
    }
    Ok(EditMessage {
        envelope,
        edited_at,
        header,
        header_edited,
        rows,
    })
}

fn parse_row(parent: &Fields, index: usize, value: &Value) -> Result<EditedRow, MessageError> {
    let path = Element("rows", index, None);
    let Value::Object(object) = value else {
        return Err(parent.wrong_type(path, "an object", value));
    };
    let fields = Fields::new(object, Some(&path));
    let row = fields.integer("row", 1, MAX_ROW_NUMBER)?;
    if row == 1 {
        return Err(fields.invalid(
            "row",
            "row 1 is the header; header edits are reported with header_edited".into(),
        ));
    }
    let key = cell_map(&fields, "key")?;
    let values = cell_map(&fields, "values")?;
    if values.is_empty() {
        return Err(fields.invalid("values", "is empty".into()));
    }
    let old_values = match fields.optional("old_values") {
        None | Some(Value::Null) => None,
        Some(Value::Object(object)) => Some(old_value_map(&fields, object, &values)?),
        Some(other) => return Err(fields.wrong_type("old_values", "an object", other)),
    };
    Ok(EditedRow {
        row: u32::try_from(row).unwrap_or(u32::MAX),
        key,
        values,
        old_values,
    })
}

fn old_value_map(
    fields: &Fields,
    object: &Map<String, Value>,
    values: &ColumnMap<CellValue>,
) -> Result<ColumnMap<String>, MessageError> {
    let mut old_values = ColumnMap::with_capacity(object.len());
    for (column, value) in object {
        let field = Member("old_values", column);
        column_name(fields, field, column)?;
        if !values.contains_key(column) {
            return Err(fields.invalid(field, "has no new value in `values`".into()));
        }
        match value {
            Value::String(text) => {
                old_values.insert(column.clone(), cell_text(fields, field, text)?.to_owned());
            }
            other => return Err(fields.wrong_type(field, "a string", other)),
        }
    }
    Ok(old_values)
}

fn parse_structure(fields: &Fields, envelope: Envelope) -> Result<StructureMessage, MessageError> {
    let change_type = fields.string("change_type")?;
    let valid_change_type = !change_type.is_empty()
        && change_type.len() <= 64
        && change_type
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte == b'_');
    if !valid_change_type {
        return Err(fields.invalid(
            "change_type",
            format!(
                "expected an Apps Script change type such as INSERT_ROW, found {}",
                quoted(change_type)
            ),
        ));
    }
    let changed_at = timestamp(fields, "changed_at")?;
    let mut key_columns = Vec::new();
    for (index, value) in fields.array("key_columns")?.iter().enumerate() {
        let field = Element("key_columns", index, None);
        match value {
            Value::String(column) => key_columns.push(column_name(fields, field, column)?),
            other => return Err(fields.wrong_type(field, "a string", other)),
        }
    }
    if key_columns.is_empty() {
        return Err(fields.invalid("key_columns", "is empty".into()));
    }
    let key_rows = fields.array("keys")?;
    if key_rows.len() > MAX_KEY_ROWS {
        return Err(fields.invalid("keys", format!("more than {MAX_KEY_ROWS} rows")));
    }
    let mut keys = Vec::with_capacity(key_rows.len());
    for (index, value) in key_rows.iter().enumerate() {
        let field = Element("keys", index, None);
        let Value::Array(cells) = value else {
            return Err(fields.wrong_type(field, "an array", value));
        };
        if cells.len() != key_columns.len() {
            return Err(fields.invalid(
                field,
                format!(
                    "has {} cells for {} key columns",
                    cells.len(),
                    key_columns.len()
                ),
            ));
        }
        let row = cells
            .iter()
            .enumerate()
            .map(|(column, cell)| cell_value(fields, Element("keys", index, Some(column)), cell))
            .collect::<Result<Vec<_>, _>>()?;
        keys.push(row);
    }
    Ok(StructureMessage {
        envelope,
        change_type: change_type.to_owned(),
        changed_at,
        key_columns,
        keys,
    })
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
