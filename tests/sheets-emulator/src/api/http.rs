//! Routing: Google's paths carry `:verb` suffixes inside a segment (`{id}:batchUpdate`,
//! `values/{range}:append`) and percent-encoded ranges, which a path router cannot split, so one
//! handler parses the raw path and query itself. The `fields` partial-response mask applies to
//! every successful response, as in Google; other standard parameters (`alt`, `prettyPrint`,
//! `quotaUser`, ...) are accepted and ignored.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::field_mask::FieldMask;
use super::{batch_update, developer_metadata, spreadsheets, values, values_append, values_write};
use crate::error::ApiError;
use crate::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v4/spreadsheets", post(create))
        .route("/v4/spreadsheets/{*rest}", any(dispatch))
        // Google sets no hard payload limit (it recommends 2 MB): axum's default 2 MB body
        // limit would answer bigger batches with a 413 Google never sends. The control layer
        // still caps bodies (64 MB).
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Query parameters in order, decoded; repeated names (`ranges=`) are kept.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name, true), decode(value, true))
            })
            .collect();
        Query { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "True"))
    }
}

/// Percent-decoding; `+` is a space only in query strings.
pub fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut output = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match hex {
                    Some(byte) => {
                        output.push(byte);
                        index += 3;
                    }
                    None => {
                        output.push(b'%');
                        index += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                output.push(b' ');
                index += 1;
            }
            byte => {
                output.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&output).into_owned()
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_argument(format!("Invalid JSON payload received. {error}"))
    })
}

fn respond(result: Result<Value, ApiError>, query: &Query) -> Response {
    let result = result.and_then(|value| match query.get("fields") {
        Some(fields) if !fields.is_empty() => Ok(FieldMask::parse(fields)?.apply(&value)),
        _ => Ok(value),
    });
    match result {
        Ok(value) => (StatusCode::OK, Json(value)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn create(State(state): State<SharedState>, uri: Uri, body: Bytes) -> Response {
    let query = Query::parse(uri.query());
    let result = parse_body(&body).and_then(|body| spreadsheets::create(&state.store, &body));
    respond(result, &query)
}

fn method_not_found() -> ApiError {
    ApiError::not_found("Requested entity was not found.")
}

async fn dispatch(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let query = Query::parse(uri.query());
    let result = parse_body(&body).and_then(|body| route(&state, &method, &uri, &query, &body));
    respond(result, &query)
}

fn route(
    state: &SharedState,
    method: &Method,
    uri: &Uri,
    query: &Query,
    body: &Value,
) -> Result<Value, ApiError> {
    let store = &state.store;
    let rest = uri
        .path()
        .strip_prefix("/v4/spreadsheets/")
        .ok_or_else(method_not_found)?;
    let segments: Vec<String> = rest
        .split('/')
        .map(|segment| decode(segment, false))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", [id]) if !id.contains(':') => spreadsheets::get(store, id, query),
        ("POST", [id_verb]) => match id_verb.rsplit_once(':') {
            Some((id, "batchUpdate")) => batch_update::batch_update(store, id, body),
            Some((id, "getByDataFilter")) => spreadsheets::get_by_data_filter(store, id, body),
            _ => Err(method_not_found()),
        },
        ("GET", [id, "values:batchGet"]) => values::batch_get(store, id, query),
        ("POST", [id, "values:batchUpdate"]) => values_write::batch_update(store, id, body),
        ("POST", [id, "values:batchClear"]) => values_append::batch_clear(store, id, body),
        ("GET", [id, "values", range]) => values::get(store, id, range, query),
        ("PUT", [id, "values", range]) => values_write::update(store, id, range, query, body),
        ("POST", [id, "values", range_verb]) => {
            if let Some(range) = range_verb.strip_suffix(":append") {
                values_append::append(store, id, range, query, body)
            } else if let Some(range) = range_verb.strip_suffix(":clear") {
                values_append::clear(store, id, range)
            } else {
                Err(method_not_found())
            }
        }
        ("POST", [id, "developerMetadata:search"]) => developer_metadata::search(store, id, body),
        ("GET", [id, "developerMetadata", metadata_id]) => {
            developer_metadata::get(store, id, metadata_id)
        }
        _ => Err(method_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ranges_and_queries() {
        assert_eq!(decode("Sheet1%21A1%3AB2", false), "Sheet1!A1:B2");
        assert_eq!(decode("My+Tab", false), "My+Tab");
        assert_eq!(decode("My+Tab", true), "My Tab");
        assert_eq!(decode("%27My%20Tab%27", false), "'My Tab'");
        assert_eq!(decode("100%", false), "100%");
        let query = Query::parse(Some(
            "ranges=A1&ranges=Sheet1%21B2&alt=json&prettyPrint=false",
        ));
        assert_eq!(
            query.all("ranges"),
            vec!["A1".to_string(), "Sheet1!B2".to_string()]
        );
        assert_eq!(query.get("alt"), Some("json"));
    }
}
