//! Unit tests of `message::parse`: the happy paths and one precise error per kind of mistake.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn edit() -> Value {
    json!({
        "version": 1, "delivery_id": "d-1", "kind": "edit",
        "spreadsheet_id": "sheet-1", "sheet": "Orders", "sheet_id": 0,
        "sent_at": "2026-01-01T12:00:00.000Z", "user": null,
        "edited_at": "2026-01-01T12:00:00.000Z", "header": ["id", "total"],
        "rows": [{ "row": 2, "key": {"id": 1}, "values": {"total": 9.5}, "old_values": {"total": "9"} }]
    })
}

fn parse_value(value: &Value) -> Result<Message, MessageError> {
    parse(value.to_string().as_bytes())
}

fn error_of(value: &Value) -> String {
    parse_value(value)
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn an_edit_parses() {
    let Message::Edit(edit) = parse_value(&edit()).expect("valid") else {
        panic!("not an edit")
    };
    assert_eq!(edit.rows[0].row, 2);
    assert_eq!(
        edit.rows[0].values.get("total"),
        Some(&CellValue::Number(9.5))
    );
    assert!(!edit.rows[0].is_new());
}

#[test]
fn a_new_row_has_an_empty_key() {
    let mut value = edit();
    value["rows"][0]["key"] = json!({"id": null});
    let Message::Edit(edit) = parse_value(&value).expect("valid") else {
        panic!("not an edit")
    };
    assert!(edit.rows[0].is_new());
}

#[test]
fn a_structure_message_parses() {
    let value = json!({
        "version": 1, "delivery_id": "d-2", "kind": "structure",
        "spreadsheet_id": "sheet-1", "sheet": "Orders", "sheet_id": 7,
        "sent_at": "2026-01-01T12:00:00.000Z", "user": "a@example.com",
        "change_type": "REMOVE_ROW", "changed_at": "2026-01-01T12:00:00.000Z",
        "key_columns": ["id"], "keys": [[1], [2], [null]]
    });
    let Message::Structure(structure) = parse_value(&value).expect("valid") else {
        panic!("not a structure message")
    };
    assert_eq!(structure.keys.len(), 3);
    assert_eq!(structure.keys[2], vec![CellValue::Empty]);
}

/// A change to a valid message that makes it invalid.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn errors_name_the_field() {
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|v| { v.as_object_mut().map(|o| o.remove("delivery_id")); }), "field `delivery_id` is missing"),
        (Box::new(|v| v["version"] = json!(2)), "unsupported version 2"),
        (Box::new(|v| v["version"] = json!("1")), "field `version`: expected an integer, found a string"),
        (Box::new(|v| v["kind"] = json!("delete")), "field `kind`: expected \"edit\" or \"structure\""),
        (Box::new(|v| v["rows"][0]["row"] = json!("2")), "field `rows[0].row`: expected an integer, found a string"),
        (Box::new(|v| v["rows"][0]["row"] = json!(0)), "field `rows[0].row`: 0 is out of range 1..=10000000"),
        (Box::new(|v| v["rows"][0]["row"] = json!(-3)), "field `rows[0].row`: -3 is out of range"),
        (Box::new(|v| v["rows"][0]["row"] = json!(10_000_001)), "10000001 is out of range"),
        (Box::new(|v| v["rows"][0]["row"] = json!(2.5)), "expected an integer, found 2.5"),
        (Box::new(|v| v["rows"][0]["row"] = json!(1)), "row 1 is the header"),
        (Box::new(|v| v["rows"][0]["values"]["total"] = json!([1])), "field `rows[0].values.total`: expected a string, number, boolean or null, found an array"),
        (Box::new(|v| v["rows"][0]["values"]["total"] = json!("x".repeat(50_001))), "field `rows[0].values.total`: 50001 characters, at most 50000"),
        (Box::new(|v| v["rows"][0]["old_values"] = json!({"other": "1"})), "field `rows[0].old_values.other`: has no new value"),
        (Box::new(|v| v["sent_at"] = json!("yesterday")), "field `sent_at`: expected an ISO 8601 UTC time"),
        (Box::new(|v| v["delivery_id"] = json!("a b")), "field `delivery_id`: expected 1 to 128 characters"),
        (Box::new(|v| v["rows"] = json!([])), "field `rows`: is empty"),
    ];
    for (change, expected) in cases {
        let mut value = edit();
        change(&mut value);
        let message = error_of(&value);
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    }
}

#[test]
fn a_character_limit_counts_characters_not_bytes() {
    let mut value = edit();
    value["rows"][0]["values"]["total"] = json!("é".repeat(50_000));
    assert!(parse_value(&value).is_ok());
}

#[test]
fn bytes_that_are_not_utf8_or_json_are_named() {
    assert_eq!(
        parse(b"{\"a\":\"\xff\"}"),
        Err(MessageError::InvalidUtf8 { offset: 6 })
    );
    assert!(parse(b"{")
        .expect_err("truncated")
        .to_string()
        .starts_with("body is not valid JSON"));
    assert!(parse(b"[]")
        .expect_err("array")
        .to_string()
        .contains("expected an object, found an array"));
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        any::<f64>().prop_map(|number| json!(number)),
        ".{0,8}".prop_map(Value::String),
        prop_oneof![
            Just("edit"),
            Just("structure"),
            Just("d-1"),
            Just("2026-01-01T12:00:00.000Z")
        ]
        .prop_map(|text| Value::String(text.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("version".to_string()),
            Just("kind".to_string()),
            Just("rows".to_string()),
            Just("row".to_string()),
            Just("key".to_string()),
            Just("values".to_string()),
            Just("keys".to_string()),
            Just("key_columns".to_string()),
            Just("header".to_string()),
            Just("old_values".to_string()),
            Just("delivery_id".to_string()),
            ".{0,4}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn structure() -> Value {
    json!({
        "version": 1, "delivery_id": "d-2", "kind": "structure",
        "spreadsheet_id": "sheet-1", "sheet": "Orders", "sheet_id": 7,
        "sent_at": "2026-01-01T12:00:00.000Z", "user": "a@example.com",
        "change_type": "REMOVE_ROW", "changed_at": "2026-01-01T12:00:00.000Z",
        "key_columns": ["id", "region"], "keys": [[1, "eu"], [2, null], [null, null]]
    })
}

/// Every JSON pointer below `value` (nested fields and array entries, not the root).
fn pointers(value: &Value, prefix: &str, found: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(key, child)| (key.clone(), child))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, child)| (index.to_string(), child))
            .collect(),
        _ => Vec::new(),
    };
    for (name, child) in children {
        let pointer = format!("{prefix}/{name}");
        pointers(child, &pointer, found);
        found.push(pointer);
    }
}

/// What a message `parse` accepted promises, whatever the body was (docs/webhook-protocol.md).
fn check_promises(message: &Message) -> Result<(), TestCaseError> {
    let envelope = message.envelope();
    let id_character = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
    prop_assert!((1..=128).contains(&envelope.delivery_id.len()));
    prop_assert!(envelope.delivery_id.bytes().all(id_character));
    prop_assert!(!envelope.spreadsheet_id.is_empty() && !envelope.sheet.is_empty());
    let short = |value: &CellValue| match value {
        CellValue::Text(text) => text.chars().count() <= 50_000,
        _ => true,
    };
    match message {
        Message::Edit(edit) => {
            prop_assert!(edit.rows.len() <= 10_000);
            prop_assert!(!edit.rows.is_empty() || edit.header_edited);
            let mut seen = std::collections::BTreeSet::new();
            for row in &edit.rows {
                prop_assert!((2..=10_000_000).contains(&row.row), "row {}", row.row);
                prop_assert!(seen.insert(row.row), "row {} twice", row.row);
                prop_assert!(!row.values.is_empty());
                prop_assert!(row.values.values().chain(row.key.values()).all(short));
                for column in row.old_values.iter().flat_map(|old| old.keys()) {
                    prop_assert!(
                        row.values.contains_key(column),
                        "old value of {column} alone"
                    );
                }
            }
        }
        Message::Structure(structure) => {
            prop_assert!(!structure.key_columns.is_empty());
            for key in &structure.keys {
                prop_assert_eq!(key.len(), structure.key_columns.len());
                prop_assert!(key.iter().all(short));
            }
        }
    }
    Ok(())
}

proptest! {
    /// Any field at any depth of a valid edit or structure message (a row number, a key cell,
    /// an old value, a key row…) replaced by any JSON: no panic, and what is accepted keeps
    /// the protocol's promises.
    #[test]
    fn any_nested_field_replaced_never_panics_and_accepted_messages_keep_their_promises(
        structure_message in any::<bool>(),
        which in any::<prop::sample::Index>(),
        value in arbitrary_json(),
    ) {
        let mut message = if structure_message { structure() } else { edit() };
        let mut found = Vec::new();
        pointers(&message, "", &mut found);
        let pointer = which.get(&found);
        if let Some(slot) = message.pointer_mut(pointer) {
            *slot = value;
        }
        if let Ok(parsed) = parse_value(&message) {
            check_promises(&parsed)?;
        }
    }

    /// A valid body with one byte replaced, inserted or removed: bytes close to valid JSON,
    /// which random bytes almost never are.
    #[test]
    fn a_valid_body_with_one_byte_changed_never_panics(
        structure_message in any::<bool>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        change in 0..3u8,
    ) {
        let message = if structure_message { structure() } else { edit() };
        let mut body = message.to_string().into_bytes();
        let index = at.index(body.len());
        match change {
            0 => body[index] = byte,
            1 => body.insert(index, byte),
            _ => { body.remove(index); }
        }
        if let Ok(parsed) = parse(&body) {
            check_promises(&parsed)?;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        if let Ok(parsed) = parse(value.to_string().as_bytes()) {
            check_promises(&parsed)?;
        }
    }

    #[test]
    fn a_valid_edit_with_one_field_replaced_never_panics(field in "[a-z_]{1,12}", value in arbitrary_json()) {
        let mut message = edit();
        message[field.as_str()] = value.clone();
        message["rows"][0]["values"]["total"] = value;
        let _ = parse(message.to_string().as_bytes());
    }
}

#[test]
fn the_apps_script_fixture_message_parses() {
    // The same file the Node tests compare the script's output with: one format, both sides.
    let fixture = include_str!("../../apps-script/test/fixtures/edit-message.json");
    let Message::Edit(edit) = parse(fixture.as_bytes()).expect("the fixture is valid") else {
        panic!("not an edit")
    };
    assert_eq!(edit.envelope.sheet_id, 1234);
    assert_eq!(
        edit.rows[0].values.get("ordered_on"),
        Some(&CellValue::Number(46081.5))
    );
    assert_eq!(
        edit.rows[1].values.get("ordered_on"),
        Some(&CellValue::Empty)
    );
    assert_eq!(
        edit.rows[1].values.get("paid"),
        Some(&CellValue::Boolean(true))
    );
}
