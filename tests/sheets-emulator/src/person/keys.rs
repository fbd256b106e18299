//! Writing the keys the webhook returned for new rows: `writeInsertedKeys_`, `rowStillHolds_`
//! and `relocatedRow_` of `apps-script/Delivery.js`.
//!
//! Consumes the body that was sent and the webhook's answer; produces the key cells written and
//! warnings for rows that changed meanwhile. Guarantees, as the script under its document lock:
//! one atomic store write; a key lands only in an empty key cell of a row that still holds the
//! values that were sent — the sent row, or where it moved (the nearest keyless row holding
//! them, the upper one on a tie); nothing else changes. Script writes fire no trigger, so nothing is
//! sent for them (and they do not pass the API's control layer: no request is logged or counted).

use serde::Serialize;
use serde_json::Value;

use super::js_json::Js;
use super::message::{cell_js, last_column, last_row, read_header, value_at};
use crate::api::model::{CellValue, Sheet};
use crate::api::user_entered::{parse_typed, Input};
use crate::api::Store;

/// One key cell written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyWritten {
    pub sheet: String,
    pub row: u32,
    pub column: String,
    pub value: Value,
}

/// Keys written, and what the script would have warned about.
#[derive(Debug, Default)]
pub struct KeyWriteBack {
    pub written: Vec<KeyWritten>,
    pub warnings: Vec<String>,
}

/// `writeInsertedKeys_`. `Err` when the answer is not the JSON the protocol promises.
pub fn write_inserted_keys(
    store: &Store,
    sent_body: &str,
    answer_text: &str,
) -> Result<KeyWriteBack, String> {
    let message: Value = serde_json::from_str(sent_body)
        .map_err(|error| format!("the sent body is not JSON: {error}"))?;
    let answer: Value = serde_json::from_str(answer_text)
        .map_err(|error| format!("the answer is not JSON: {error}"))?;
    let inserted: Vec<&Value> = answer
        .get("results")
        .and_then(Value::as_array)
        .map(|results| {
            results
                .iter()
                .filter(|result| result.get("status") == Some(&Value::from("inserted")))
                .filter(|result| result.get("key").is_some_and(Value::is_object))
                .collect()
        })
        .unwrap_or_default();
    if inserted.is_empty() || message.get("kind") != Some(&Value::from("edit")) {
        return Ok(KeyWriteBack::default());
    }
    let spreadsheet_id = message
        .get("spreadsheet_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sheet_id = message.get("sheet_id").and_then(Value::as_i64);
    let sent_rows = message
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    store
        .write(spreadsheet_id, |spreadsheet, _| {
            let mut write_back = KeyWriteBack::default();
            let Some(sheet) = sheet_id.and_then(|id| spreadsheet.sheet_by_id_mut(id)) else {
                return Ok(write_back);
            };
            let header = read_header(sheet, last_column(sheet));
            for result in &inserted {
                let row = result.get("row").and_then(Value::as_u64).unwrap_or(0);
                let sent = sent_rows
                    .iter()
                    .find(|sent| sent.get("row").and_then(Value::as_u64) == Some(row));
                let sent_row = u32::try_from(row).unwrap_or(0);
                let key = result.get("key").and_then(Value::as_object);
                let key_columns: Vec<&str> = key
                    .into_iter()
                    .flatten()
                    .map(|(column, _)| column.as_str())
                    .collect();
                let row = sent.and_then(|sent| {
                    if row_still_holds(sheet, &header, sent_row, sent) {
                        Some(sent_row)
                    } else {
                        relocated_row(sheet, &header, sent, &key_columns, sent_row)
                    }
                });
                let Some(row) = row else {
                    write_back.warnings.push(format!(
                        "row {sent_row} changed before its key arrived; reconcile will fix it"
                    ));
                    continue;
                };
                // `keyRow_`: a key is written once (two messages about one typed row get the
                // same key; the second may match another keyless row by the cells it sent).
                if let Some(placed) = key.and_then(|key| key_row(sheet, &header, key)) {
                    if placed != row {
                        write_back.warnings.push(format!(
                            "the key of row {sent_row} is already in row {placed}; not written again"
                        ));
                    }
                    continue;
                }
                for (column, value) in key.into_iter().flatten() {
                    let Some(index) = header.iter().position(|name| name == column) else {
                        continue;
                    };
                    let column_number = index as u32 + 1;
                    if value.is_null() || value_at(sheet, row, column_number).is_some() {
                        continue;
                    }
                    sheet.cell_mut(row - 1, index as u32).value = set_value(value);
                    write_back.written.push(KeyWritten {
                        sheet: sheet.title.clone(),
                        row,
                        column: column.clone(),
                        value: value.clone(),
                    });
                }
            }
            Ok(write_back)
        })
        .map_err(|error| error.message)
}

/// `keyRow_`: the first row whose key cells hold `key` (column → value).
fn key_row(sheet: &Sheet, header: &[String], key: &serde_json::Map<String, Value>) -> Option<u32> {
    let columns: Vec<(u32, &Value)> = key
        .iter()
        .map(|(name, value)| {
            header
                .iter()
                .position(|column| column == name)
                .map(|index| (index as u32 + 1, value))
        })
        .collect::<Option<_>>()?;
    (2..=last_row(sheet)).find(|row| {
        columns
            .iter()
            .all(|(column, value)| same_value(&cell_js(value_at(sheet, *row, *column)), value))
    })
}

/// `rowStillHolds_`: every sent value is still in its column (rows may move meanwhile).
fn row_still_holds(sheet: &Sheet, header: &[String], row: u32, sent: &Value) -> bool {
    if row < 2 {
        return false;
    }
    let values = sent.get("values").and_then(Value::as_object);
    values.into_iter().flatten().all(|(column, value)| {
        header
            .iter()
            .position(|name| name == column)
            .is_some_and(|index| {
                same_value(&cell_js(value_at(sheet, row, index as u32 + 1)), value)
            })
    })
}

/// `relocatedRow_`: where a sent keyless row moved — the nearest row (the upper one on a tie)
/// whose key cells are all empty and which holds every sent value.
fn relocated_row(
    sheet: &Sheet,
    header: &[String],
    sent: &Value,
    key_columns: &[&str],
    sent_row: u32,
) -> Option<u32> {
    let column_of = |name: &str| {
        header
            .iter()
            .position(|column| column == name)
            .map(|index| index as u32 + 1)
    };
    let key_columns: Vec<u32> = key_columns
        .iter()
        .map(|name| column_of(name))
        .collect::<Option<_>>()?;
    let values = sent.get("values").and_then(Value::as_object)?;
    let sent_cells: Vec<(u32, &Value)> = values
        .iter()
        .map(|(name, value)| column_of(name).map(|column| (column, value)))
        .collect::<Option<_>>()?;
    let mut best: Option<u32> = None;
    for row in 2..=last_row(sheet) {
        let keyless = key_columns
            .iter()
            .all(|column| matches!(cell_js(value_at(sheet, row, *column)), Js::Null));
        let holds = sent_cells
            .iter()
            .all(|(column, value)| same_value(&cell_js(value_at(sheet, row, *column)), value));
        let nearer = best.is_none_or(|best| row.abs_diff(sent_row) < best.abs_diff(sent_row));
        if keyless && holds && nearer {
            best = Some(row);
        }
    }
    best
}

/// JavaScript's `===` between a cell as the script reads it and a value from the sent JSON.
fn same_value(cell: &Js, sent: &Value) -> bool {
    match (cell, sent) {
        (Js::Null, Value::Null) => true,
        (Js::Bool(left), Value::Bool(right)) => left == right,
        (Js::Number(left), Value::Number(right)) => right.as_f64() == Some(*left),
        (Js::Text(left), Value::String(right)) => left == right,
        _ => false,
    }
}

/// `Range.setValue(value)`: numbers and booleans as they are, text as if typed.
fn set_value(value: &Value) -> Option<CellValue> {
    match value {
        Value::Null => None,
        Value::Bool(flag) => Some(CellValue::Bool(*flag)),
        Value::Number(number) => Some(CellValue::Number(number.as_f64().unwrap_or(0.0))),
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => match parse_typed(text) {
            Input::Set(value, _) => Some(value),
            Input::Skip | Input::Clear => None,
        },
        other => Some(CellValue::Text(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_equality_between_cells_and_sent_values() {
        assert!(same_value(&Js::Null, &Value::Null));
        assert!(same_value(&Js::Number(10.0), &serde_json::json!(10)));
        assert!(same_value(&Js::Number(12.5), &serde_json::json!(12.5)));
        assert!(!same_value(&Js::Number(10.0), &serde_json::json!("10")));
        assert!(!same_value(&Js::text("TRUE"), &serde_json::json!(true)));
        assert!(same_value(&Js::text("Ada"), &serde_json::json!("Ada")));
    }

    #[test]
    fn a_key_is_written_once_even_when_a_second_typed_row_holds_the_cell_a_late_answer_names() {
        // As apps-script/test/edit.test.js: the typed row moved up from 4 to 3, another typed
        // row at 4 holds the same total, and both messages about row 4 get the same key.
        let store = Store::default();
        let id = store.create_spreadsheet("keys", &["Orders"]);
        store
            .set_values(
                &id,
                "Orders!A1",
                vec![
                    vec!["id".into(), "customer".into(), "total".into()],
                    vec![1.into(), "Ada".into(), 10.into()],
                    vec!["".into(), "Margaret".into(), 99.into()],
                    vec!["".into(), "Other".into(), 99.into()],
                ],
                false,
            )
            .expect("values");
        let sheet_id = store
            .read(&id, |spreadsheet| Ok(spreadsheet.sheets[0].sheet_id))
            .expect("sheet id");
        let answer = r#"{"results":[{"row":4,"status":"inserted","key":{"id":5001}}]}"#;
        let typed = |values: Value| {
            serde_json::json!({"kind": "edit", "spreadsheet_id": id, "sheet_id": sheet_id,
                "rows": [{"row": 4, "key": {"id": null}, "values": values}]})
            .to_string()
        };
        let first = write_inserted_keys(
            &store,
            &typed(serde_json::json!({"customer": "Margaret"})),
            answer,
        )
        .expect("first");
        assert_eq!(
            first.written.iter().map(|key| key.row).collect::<Vec<_>>(),
            vec![3]
        );
        let second = write_inserted_keys(&store, &typed(serde_json::json!({"total": 99})), answer)
            .expect("second");
        assert!(second.written.is_empty(), "{:?}", second.written);
        assert_eq!(
            second.warnings,
            vec!["the key of row 4 is already in row 3; not written again".to_string()]
        );
        let keys: Vec<Value> = store
            .sheet_values(&id, "Orders")
            .expect("values")
            .iter()
            .skip(1)
            .filter_map(|row| row.first().cloned())
            .collect();
        assert_eq!(
            keys.iter()
                .filter(|key| **key == serde_json::json!(5001))
                .count(),
            1,
            "{keys:?}"
        );
    }

    #[test]
    fn set_value_types_text_as_typed() {
        assert_eq!(
            set_value(&serde_json::json!(1001)),
            Some(CellValue::Number(1001.0))
        );
        assert_eq!(
            set_value(&serde_json::json!("A-17")),
            Some(CellValue::Text("A-17".into()))
        );
        assert_eq!(set_value(&serde_json::json!("")), None);
    }
}
