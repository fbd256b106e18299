//! Field access on a JSON object, and the validation of single values (cells, names, times),
//! turning every failure into a [`MessageError`] naming the full path of the field
//! (`rows[3].values.total`), so the sender learns exactly what was wrong.

use std::fmt::{self, Display};

use serde_json::{Map, Value};

use super::column_map::ColumnMap;
use super::message::{CellValue, MessageError, MAX_CELL_CHARACTERS};

/// Identifiers (spreadsheet id, tab title, user) longer than this are refused.
const MAX_NAME_CHARACTERS: usize = 1_000;

/// A member's path, `name.member` (`values.total`). Paths are written out only when an error
/// names them, so a paste of many cells formats none.
#[derive(Clone, Copy)]
pub(super) struct Member<'a>(pub &'a str, pub &'a str);

impl Display for Member<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.0, self.1)
    }
}

/// An array element's path, `name[index]`, or `name[index][inner]` (`keys[3][0]`).
#[derive(Clone, Copy)]
pub(super) struct Element<'a>(pub &'a str, pub usize, pub Option<usize>);

impl Display for Element<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}[{}]", self.0, self.1)?;
        match self.2 {
            Some(inner) => write!(formatter, "[{inner}]"),
            None => Ok(()),
        }
    }
}

pub(super) struct Fields<'a> {
    object: &'a Map<String, Value>,
    /// Path of this object inside the body, `None` for the top level.
    path: Option<&'a dyn Display>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(object: &'a Map<String, Value>, path: Option<&'a dyn Display>) -> Self {
        Self { object, path }
    }

    pub(super) fn path_of(&self, field: impl Display) -> String {
        match self.path {
            None => field.to_string(),
            Some(path) => format!("{path}.{field}"),
        }
    }

    pub(super) fn optional(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field)
    }

    pub(super) fn required(&self, field: &str) -> Result<&'a Value, MessageError> {
        self.object
            .get(field)
            .ok_or_else(|| MessageError::MissingField {
                field: self.path_of(field),
            })
    }

    pub(super) fn string(&self, field: &str) -> Result<&'a str, MessageError> {
        match self.required(field)? {
            Value::String(text) => Ok(text),
            other => Err(self.wrong_type(field, "a string", other)),
        }
    }

    pub(super) fn array(&self, field: &str) -> Result<&'a Vec<Value>, MessageError> {
        match self.required(field)? {
            Value::Array(items) => Ok(items),
            other => Err(self.wrong_type(field, "an array", other)),
        }
    }

    /// An integer in `minimum..=maximum`; fractions, negatives and huge values are refused.
    pub(super) fn integer(
        &self,
        field: &str,
        minimum: u64,
        maximum: u64,
    ) -> Result<u64, MessageError> {
        let value = self.required(field)?;
        let Value::Number(number) = value else {
            return Err(self.wrong_type(field, "an integer", value));
        };
        match number.as_u64() {
            Some(integer) if (minimum..=maximum).contains(&integer) => Ok(integer),
            _ if number.is_f64() && number.as_f64().is_some_and(|float| float.fract() != 0.0) => {
                Err(self.invalid(field, format!("expected an integer, found {number}")))
            }
            _ => Err(self.invalid(
                field,
                format!("{number} is out of range {minimum}..={maximum}"),
            )),
        }
    }

    pub(super) fn wrong_type(
        &self,
        field: impl Display,
        expected: &'static str,
        found: &Value,
    ) -> MessageError {
        MessageError::WrongType {
            field: self.path_of(field),
            expected,
            found: describe(found),
        }
    }

    pub(super) fn invalid(&self, field: impl Display, reason: String) -> MessageError {
        MessageError::Invalid {
            field: self.path_of(field),
            reason,
        }
    }
}

/// The JSON type of a value, for "expected …, found …" messages.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn cell_map(fields: &Fields, name: &str) -> Result<ColumnMap<CellValue>, MessageError> {
    let value = fields.required(name)?;
    let Value::Object(object) = value else {
        return Err(fields.wrong_type(name, "an object", value));
    };
    let mut cells = ColumnMap::with_capacity(object.len());
    for (column, cell) in object {
        let field = Member(name, column);
        column_name(fields, field, column)?;
        cells.insert(column.clone(), cell_value(fields, field, cell)?);
    }
    Ok(cells)
}

pub(super) fn cell_value(
    fields: &Fields,
    field: impl Display + Copy,
    value: &Value,
) -> Result<CellValue, MessageError> {
    match value {
        Value::Null => Ok(CellValue::Empty),
        Value::Bool(flag) => Ok(CellValue::Boolean(*flag)),
        Value::Number(number) => number
            .as_f64()
            .filter(|number| number.is_finite())
            .map(CellValue::Number)
            .ok_or_else(|| fields.invalid(field, "number is out of range".into())),
        Value::String(text) => {
            cell_text(fields, field, text).map(|text| CellValue::Text(text.to_owned()))
        }
        other => Err(fields.wrong_type(field, "a string, number, boolean or null", other)),
    }
}

pub(super) fn cell_text<'a>(
    fields: &Fields,
    field: impl Display,
    text: &'a str,
) -> Result<&'a str, MessageError> {
    // Count characters only when the byte length could exceed the limit (4 bytes per char at most).
    if text.len() > MAX_CELL_CHARACTERS && text.chars().count() > MAX_CELL_CHARACTERS {
        return Err(fields.invalid(
            field,
            format!(
                "{} characters, at most {MAX_CELL_CHARACTERS} per cell",
                text.chars().count()
            ),
        ));
    }
    Ok(text)
}

pub(super) fn column_name(
    fields: &Fields,
    field: impl Display + Copy,
    column: &str,
) -> Result<String, MessageError> {
    if column.is_empty() {
        return Err(fields.invalid(field, "column name is empty".into()));
    }
    cell_text(fields, field, column).map(str::to_owned)
}

pub(super) fn name(fields: &Fields, field: &str) -> Result<String, MessageError> {
    let text = fields.string(field)?;
    if text.is_empty() {
        return Err(fields.invalid(field, "is empty".into()));
    }
    bounded_name(fields, field, text).map(str::to_owned)
}

pub(super) fn bounded_name<'a>(
    fields: &Fields,
    field: &str,
    text: &'a str,
) -> Result<&'a str, MessageError> {
    if text.chars().count() > MAX_NAME_CHARACTERS {
        return Err(fields.invalid(
            field,
            format!("longer than {MAX_NAME_CHARACTERS} characters"),
        ));
    }
    Ok(text)
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ`, what JavaScript's `Date.prototype.toISOString` produces.
pub(super) fn timestamp(fields: &Fields, field: &str) -> Result<String, MessageError> {
    let text = fields.string(field)?;
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let matches_shape = bytes.len() == shape.len()
        && bytes
            .iter()
            .zip(shape)
            .all(|(byte, expected)| match expected {
                b'd' => byte.is_ascii_digit(),
                other => byte == other,
            });
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let in_range = matches_shape
        && (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10))
        && number(11..13) < 24
        && number(14..16) < 60
        && number(17..19) < 61;
    if !in_range {
        return Err(fields.invalid(
            field,
            format!(
                "expected an ISO 8601 UTC time like 2026-01-01T12:00:00.000Z, found {}",
                quoted(text)
            ),
        ));
    }
    Ok(text.to_owned())
}

/// A value from the request, quoted and cut short so an error message stays small.
pub(super) fn quoted(text: &str) -> String {
    let short: String = text.chars().take(64).collect();
    if short.len() < text.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}
