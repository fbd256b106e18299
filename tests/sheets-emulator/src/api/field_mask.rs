//! Partial responses: the `fields` parameter (`sheets.properties(sheetId,title)`, `*`), parsed
//! into a tree and applied to a JSON response. Also used for `fields` of update requests.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// A selection: everything below this point, or only the named children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMask {
    All,
    Fields(BTreeMap<String, FieldMask>),
}

impl FieldMask {
    pub fn parse(text: &str) -> Result<FieldMask, ApiError> {
        let characters: Vec<char> = text
            .chars()
            .filter(|character| !character.is_whitespace())
            .collect();
        let mut position = 0;
        let mask = parse_list(&characters, &mut position)?;
        if position != characters.len() {
            return Err(invalid(text));
        }
        Ok(mask)
    }

    /// Keep only the selected parts of `value`. Arrays apply the mask to each element.
    pub fn apply(&self, value: &Value) -> Value {
        match (self, value) {
            (FieldMask::All, _) => value.clone(),
            (FieldMask::Fields(children), Value::Object(object)) => {
                let mut kept = Map::new();
                for (name, child) in children {
                    if let Some(inner) = object.get(name) {
                        kept.insert(name.clone(), child.apply(inner));
                    }
                }
                Value::Object(kept)
            }
            (FieldMask::Fields(_), Value::Array(items)) => {
                Value::Array(items.iter().map(|item| self.apply(item)).collect())
            }
            (FieldMask::Fields(_), other) => other.clone(),
        }
    }

    /// The sub-mask for one child, if it is selected.
    pub fn child(&self, name: &str) -> Option<&FieldMask> {
        match self {
            FieldMask::All => Some(&FieldMask::All),
            FieldMask::Fields(children) => children.get(name),
        }
    }

    pub fn selects(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    fn merge(&mut self, path: &[String], leaf: FieldMask) {
        let FieldMask::Fields(children) = self else {
            return;
        };
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            match children.get_mut(first) {
                Some(existing) => existing.union(leaf),
                None => {
                    children.insert(first.clone(), leaf);
                }
            }
            return;
        }
        children
            .entry(first.clone())
            .or_insert_with(|| FieldMask::Fields(BTreeMap::new()))
            .merge(rest, leaf);
    }

    fn union(&mut self, other: FieldMask) {
        match (self as &mut FieldMask, other) {
            (FieldMask::All, _) => {}
            (this, FieldMask::All) => *this = FieldMask::All,
            (FieldMask::Fields(mine), FieldMask::Fields(theirs)) => {
                for (name, mask) in theirs {
                    match mine.get_mut(&name) {
                        Some(existing) => existing.union(mask),
                        None => {
                            mine.insert(name, mask);
                        }
                    }
                }
            }
        }
    }
}

fn invalid(text: &str) -> ApiError {
    ApiError::invalid_argument(format!("Invalid field selection {text}"))
}

/// `item(,item)*` up to a `)` or the end.
fn parse_list(characters: &[char], position: &mut usize) -> Result<FieldMask, ApiError> {
    let mut mask = FieldMask::Fields(BTreeMap::new());
    loop {
        let (path, leaf) = parse_item(characters, position)?;
        if path.len() == 1 && path[0] == "*" {
            mask = FieldMask::All;
        } else {
            mask.merge(&path, leaf);
        }
        match characters.get(*position) {
            Some(',') => *position += 1,
            _ => return Ok(mask),
        }
    }
}

/// `a.b.c` optionally followed by `(list)`.
fn parse_item(
    characters: &[char],
    position: &mut usize,
) -> Result<(Vec<String>, FieldMask), ApiError> {
    let text: String = characters.iter().collect();
    let mut path = Vec::new();
    loop {
        let start = *position;
        while *position < characters.len()
            && (characters[*position].is_alphanumeric()
                || matches!(characters[*position], '_' | '*' | '@'))
        {
            *position += 1;
        }
        if start == *position {
            return Err(invalid(&text));
        }
        path.push(characters[start..*position].iter().collect());
        // Google accepts both `a.b` and `a/b` (gspread sends `gridProperties/rowCount`).
        if matches!(characters.get(*position), Some('.' | '/')) {
            *position += 1;
            continue;
        }
        break;
    }
    if characters.get(*position) == Some(&'(') {
        *position += 1;
        let inner = parse_list(characters, position)?;
        if characters.get(*position) != Some(&')') {
            return Err(invalid(&text));
        }
        *position += 1;
        return Ok((path, inner));
    }
    Ok((path, FieldMask::All))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applies_nested_selections() {
        let value = json!({
            "spreadsheetId": "x",
            "properties": {"title": "T", "locale": "en_US"},
            "sheets": [{"properties": {"sheetId": 0, "title": "Sheet1", "index": 0,
                "gridProperties": {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1}}}],
        });
        let mask = FieldMask::parse(
            "sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))",
        )
        .unwrap();
        assert_eq!(
            mask.apply(&value),
            json!({"sheets": [{"properties": {"sheetId": 0, "title": "Sheet1", "gridProperties": {"rowCount": 1000, "columnCount": 26}}}]})
        );
        let mask = FieldMask::parse("spreadsheetId,properties/title").unwrap();
        assert_eq!(
            mask.apply(&value),
            json!({"spreadsheetId": "x", "properties": {"title": "T"}})
        );
        assert_eq!(FieldMask::parse("*").unwrap().apply(&value), value);
        let mask = FieldMask::parse("sheets(properties.title),sheets.properties.index").unwrap();
        assert_eq!(
            mask.apply(&value),
            json!({"sheets": [{"properties": {"title": "Sheet1", "index": 0}}]})
        );
    }

    #[test]
    fn rejects_bad_syntax() {
        assert!(FieldMask::parse("sheets(properties").is_err());
        assert!(FieldMask::parse("a,,b").is_err());
        assert!(FieldMask::parse("").is_err());
    }
}
