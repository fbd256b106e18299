//! Field access on a JSON object that turns every failure into a [`MessageError`] naming the full
//! path of the field (`rows[3].values.total`), so the sender learns exactly what was wrong.

use serde_json::{Map, Value};

use super::message::MessageError;

pub(super) struct Fields<'a> {
    object: &'a Map<String, Value>,
    /// Path of this object inside the body, `""` for the top level.
    path: &'a str,
}

impl<'a> Fields<'a> {
    pub(super) fn new(object: &'a Map<String, Value>, path: &'a str) -> Self {
        Self { object, path }
    }

    pub(super) fn path_of(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
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
        field: &str,
        expected: &'static str,
        found: &Value,
    ) -> MessageError {
        MessageError::WrongType {
            field: self.path_of(field),
            expected,
            found: describe(found),
        }
    }

    pub(super) fn invalid(&self, field: &str, reason: String) -> MessageError {
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
