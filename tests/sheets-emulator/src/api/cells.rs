//! `CellData` and `ExtendedValue` in JSON: reading cells out (grid data) and writing them in
//! (`updateCells`, `appendCells`, `repeatCell`) under a `fields` mask.

use serde_json::{json, Map, Value};

use super::field_mask::FieldMask;
use super::model::{Cell, CellValue, MAX_CHARACTERS_PER_CELL};
use super::render::{self, number_json};
use super::user_entered::too_many_characters;
use crate::error::ApiError;

pub fn extended_value_json(value: &CellValue) -> Value {
    match value {
        CellValue::Number(number) => json!({"numberValue": number_json(*number)}),
        CellValue::Text(text) => json!({"stringValue": text}),
        CellValue::Bool(flag) => json!({"boolValue": flag}),
        CellValue::Formula(formula) => json!({"formulaValue": formula}),
    }
}

/// A cell as `CellData`. Formulas have no `effectiveValue`: they are not evaluated.
pub fn cell_data_json(cell: &Cell) -> Value {
    let mut object = Map::new();
    if let Some(value) = &cell.value {
        object.insert("userEnteredValue".into(), extended_value_json(value));
        if !matches!(value, CellValue::Formula(_)) {
            object.insert("effectiveValue".into(), extended_value_json(value));
        }
        if let Some(formatted) = render::formatted_value(cell) {
            object.insert("formattedValue".into(), json!(formatted));
        }
    }
    if let Some(format) = &cell.format {
        object.insert("userEnteredFormat".into(), (**format).clone());
        object.insert("effectiveFormat".into(), (**format).clone());
    }
    if let Some(note) = &cell.note {
        object.insert("note".into(), json!(note));
    }
    Value::Object(object)
}

fn check_length(text: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_CHARACTERS_PER_CELL {
        return Err(too_many_characters());
    }
    Ok(())
}

/// An `ExtendedValue` object. `{}` or `null` means no value.
pub fn parse_extended_value(value: Option<&Value>) -> Result<Option<CellValue>, ApiError> {
    let Some(Value::Object(object)) = value else {
        return Ok(None);
    };
    if let Some(text) = object.get("stringValue") {
        let text = text.as_str().ok_or_else(|| {
            ApiError::invalid_argument(format!("Invalid value at 'stringValue', {text}"))
        })?;
        check_length(text)?;
        return Ok(Some(CellValue::Text(text.to_string())));
    }
    if let Some(number) = object.get("numberValue") {
        let number = match number {
            Value::Number(number) => number.as_f64(),
            // proto3 JSON also allows numbers as strings ("NaN", "1.5").
            Value::String(text) => text.parse::<f64>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::invalid_argument(format!("Invalid value at 'numberValue', {number}"))
        })?;
        return Ok(Some(CellValue::Number(number)));
    }
    if let Some(flag) = object.get("boolValue") {
        let flag = flag.as_bool().ok_or_else(|| {
            ApiError::invalid_argument(format!("Invalid value at 'boolValue', {flag}"))
        })?;
        return Ok(Some(CellValue::Bool(flag)));
    }
    if let Some(formula) = object.get("formulaValue") {
        let formula = formula.as_str().ok_or_else(|| {
            ApiError::invalid_argument(format!("Invalid value at 'formulaValue', {formula}"))
        })?;
        check_length(formula)?;
        return Ok(Some(CellValue::Formula(formula.to_string())));
    }
    Ok(None)
}

/// Write the masked fields of `data` into `cell`. A selected field absent from `data` is cleared.
pub fn apply_cell_data(cell: &mut Cell, data: &Value, mask: &FieldMask) -> Result<(), ApiError> {
    if mask.selects("userEnteredValue") {
        cell.value = parse_extended_value(data.get("userEnteredValue"))?;
    }
    if mask.selects("note") {
        cell.note = match data.get("note").and_then(Value::as_str) {
            Some(note) if !note.is_empty() => {
                check_length(note)?;
                Some(note.to_string())
            }
            _ => None,
        };
    }
    if let Some(format_mask) = mask.child("userEnteredFormat") {
        let incoming = data
            .get("userEnteredFormat")
            .cloned()
            .unwrap_or(Value::Null);
        let merged = match format_mask {
            FieldMask::All => incoming,
            FieldMask::Fields(_) => merge_masked(
                cell.format.as_deref().cloned().unwrap_or(json!({})),
                &incoming,
                format_mask,
            ),
        };
        cell.format = match merged {
            Value::Object(object) if !object.is_empty() => Some(Box::new(Value::Object(object))),
            _ => None,
        };
    }
    Ok(())
}

/// Replace the masked parts of `existing` with those of `incoming` (absent → removed).
fn merge_masked(existing: Value, incoming: &Value, mask: &FieldMask) -> Value {
    match mask {
        FieldMask::All => incoming.clone(),
        FieldMask::Fields(children) => {
            let mut object = match existing {
                Value::Object(object) => object,
                _ => Map::new(),
            };
            for (name, child) in children {
                let previous = object.remove(name).unwrap_or(json!({}));
                let replacement = match incoming.get(name) {
                    Some(value) => merge_masked(previous, value, child),
                    None if matches!(child, FieldMask::All) => Value::Null,
                    None => merge_masked(previous, &Value::Null, child),
                };
                let empty =
                    replacement.is_null() || replacement.as_object().is_some_and(Map::is_empty);
                if !empty {
                    object.insert(name.clone(), replacement);
                }
            }
            Value::Object(object)
        }
    }
}

/// `fields` of an update request: required and non-empty.
pub fn required_mask(fields: Option<&Value>) -> Result<FieldMask, ApiError> {
    match fields.and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => FieldMask::parse(text),
        _ => Err(ApiError::invalid_argument(
            "At least one field must be listed in 'fields'. (Use '*' to indicate all fields.)",
        )),
    }
}
