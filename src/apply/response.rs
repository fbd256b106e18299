//! The webhook answer as stored in `sheetsync.deliveries`, so a delivery retried after a restart
//! gets its first answer back (the webhook types serialise only; this reads them back).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::webhook::{ApplyResponse, CellError, CellValue, RowResult, RowStatus};

pub fn to_json(response: &ApplyResponse) -> String {
    serde_json::to_string(response).unwrap_or_else(|_| "{\"results\":[]}".into())
}

/// `None` when the stored text is not an answer this version wrote.
pub fn from_json(text: &str) -> Option<ApplyResponse> {
    let value: Value = serde_json::from_str(text).ok()?;
    let results = value
        .get("results")?
        .as_array()?
        .iter()
        .map(row_result)
        .collect::<Option<Vec<_>>>()?;
    Some(ApplyResponse { results })
}

fn row_result(value: &Value) -> Option<RowResult> {
    let status = match value.get("status")?.as_str()? {
        "applied" => RowStatus::Applied,
        "unchanged" => RowStatus::Unchanged,
        "conflict" => RowStatus::Conflict,
        "rejected" => RowStatus::Rejected,
        "inserted" => RowStatus::Inserted,
        _ => return None,
    };
    let key = match value.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::Object(object)) => Some(
            object
                .iter()
                .map(|(column, cell)| Some((column.clone(), cell_value(cell)?)))
                .collect::<Option<BTreeMap<_, _>>>()?,
        ),
        Some(_) => return None,
    };
    let errors = match value.get("errors") {
        None => Vec::new(),
        Some(errors) => errors
            .as_array()?
            .iter()
            .map(|error| {
                Some(CellError {
                    column: error.get("column")?.as_str()?.to_string(),
                    message: error.get("message")?.as_str()?.to_string(),
                })
            })
            .collect::<Option<Vec<_>>>()?,
    };
    Some(RowResult {
        row: u32::try_from(value.get("row")?.as_u64()?).ok()?,
        status,
        key,
        errors,
    })
}

fn cell_value(value: &Value) -> Option<CellValue> {
    Some(match value {
        Value::Null => CellValue::Empty,
        Value::Bool(flag) => CellValue::Boolean(*flag),
        Value::Number(number) => CellValue::Number(number.as_f64()?),
        Value::String(text) => CellValue::Text(text.clone()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_answer_reads_back_equal() {
        let response = ApplyResponse {
            results: vec![
                RowResult {
                    row: 6,
                    status: RowStatus::Inserted,
                    key: Some([("id".to_string(), CellValue::Number(1042.0))].into()),
                    errors: Vec::new(),
                },
                RowResult {
                    row: 7,
                    status: RowStatus::Rejected,
                    key: None,
                    errors: vec![CellError {
                        column: "total".into(),
                        message: "\"abc\" is not a number".into(),
                    }],
                },
            ],
        };
        assert_eq!(from_json(&to_json(&response)), Some(response));
        assert_eq!(
            from_json("{\"results\":[{\"row\":1,\"status\":\"odd\"}]}"),
            None
        );
        assert_eq!(from_json("not json"), None);
    }
}
