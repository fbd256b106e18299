//! JSON exactly as the Apps Script's `JSON.stringify` writes it.
//!
//! Consumes values built by `message.rs`; produces the body text that is signed and sent.
//! Guarantees, so the emulator's bodies equal the script's byte for byte: object keys keep the
//! order they were inserted in (JavaScript's property order; `serde_json::Map` would sort them),
//! integral numbers print without a fraction (`10`, never `10.0`; `-0` as `0`), other numbers in
//! the shortest form that reads back equal, and strings are escaped as `JSON.stringify` does
//! (serde_json's escaping: `\"`, `\\`, `\b\f\n\r\t`, other control characters as `\u00xx`).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Largest integer a JavaScript number holds exactly (2^53).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JavaScript value as the script builds its messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Js {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Array(Vec<Js>),
    /// Properties in insertion order.
    Object(Vec<(String, Js)>),
}

impl Js {
    pub fn text(text: impl Into<String>) -> Js {
        Js::Text(text.into())
    }

    /// An empty object to add properties to with [`Js::insert`].
    pub fn object() -> Js {
        Js::Object(Vec::new())
    }

    /// Set a property: replaces the value in place when the key exists (JavaScript keeps the
    /// original position), else appends it.
    pub fn insert(&mut self, key: impl Into<String>, value: Js) {
        let Js::Object(properties) = self else {
            return;
        };
        let key = key.into();
        match properties.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, slot)) => *slot = value,
            None => properties.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Js> {
        match self {
            Js::Object(properties) => properties
                .iter()
                .find(|(existing, _)| existing == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// `JSON.stringify(value)`.
    pub fn stringify(&self) -> String {
        // Serializing this type cannot fail: every number is finite or written as null.
        serde_json::to_string(self).unwrap_or_else(|_| "null".into())
    }
}

/// JavaScript's `String(number)` for the numbers a sheet holds: integers without a fraction,
/// others in the shortest round-trip form.
pub fn number_text(number: f64) -> String {
    if number == 0.0 {
        return "0".into();
    }
    if number.fract() == 0.0 && number.abs() < 1e21 {
        return format!("{number:.0}");
    }
    format!("{number}")
}

impl Serialize for Js {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Js::Null => serializer.serialize_unit(),
            Js::Bool(flag) => serializer.serialize_bool(*flag),
            Js::Number(number) if !number.is_finite() => serializer.serialize_unit(),
            Js::Number(number) if number.fract() == 0.0 && number.abs() < MAX_SAFE_INTEGER => {
                serializer.serialize_i64(*number as i64)
            }
            Js::Number(number) => serializer.serialize_f64(*number),
            Js::Text(text) => serializer.serialize_str(text),
            Js::Array(items) => {
                let mut sequence = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    sequence.serialize_element(item)?;
                }
                sequence.end()
            }
            Js::Object(properties) => {
                let mut map = serializer.serialize_map(Some(properties.len()))?;
                for (key, value) in properties {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases = [
            (10.0, "10"),
            (-0.0, "0"),
            (12.5, "12.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (46024.5, "46024.5"),
            (-3.0, "-3"),
            (f64::NAN, "null"),
        ];
        for (number, expected) in cases {
            assert_eq!(Js::Number(number).stringify(), expected, "{number}");
        }
        assert_eq!(number_text(10.0), "10");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(12.25), "12.25");
    }

    #[test]
    fn objects_keep_insertion_order_and_replace_in_place() {
        let mut object = Js::object();
        object.insert("version", Js::Number(1.0));
        object.insert("kind", Js::text("edit"));
        object.insert("alpha", Js::Null);
        object.insert("kind", Js::text("structure"));
        assert_eq!(
            object.stringify(),
            r#"{"version":1,"kind":"structure","alpha":null}"#
        );
        assert_eq!(object.get("alpha"), Some(&Js::Null));
        assert_eq!(Js::Null.get("alpha"), None);
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let text = Js::text("a\"b\\c\n\u{1}é\u{2028}/");
        assert_eq!(text.stringify(), "\"a\\\"b\\\\c\\n\\u0001é\u{2028}/\"");
    }
}
