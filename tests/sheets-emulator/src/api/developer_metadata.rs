//! Developer metadata endpoints (`developerMetadata:search`, `developerMetadata/{id}`) and the
//! batchUpdate requests that create, update and delete metadata.

use serde_json::{json, Value};

use super::cells::required_mask;
use super::metadata::{matches_filter, parse_visibility, DeveloperMetadata, Location};
use super::model::Spreadsheet;
use super::ranges::integer;
use super::store::{not_found, Identifiers, Store};
use crate::error::ApiError;

/// Metadata ids selected by any of `filters`, each with the filters that selected it.
fn select(
    spreadsheet: &Spreadsheet,
    filters: &[Value],
) -> Result<Vec<(i64, Vec<Value>)>, ApiError> {
    let mut matched = Vec::new();
    for metadata in spreadsheet.metadata.values() {
        let mut selecting = Vec::new();
        for filter in filters {
            if matches_filter(spreadsheet, metadata, filter)? {
                selecting.push(filter.clone());
            }
        }
        if !selecting.is_empty() {
            matched.push((metadata.metadata_id, selecting));
        }
    }
    Ok(matched)
}

pub fn search(store: &Store, spreadsheet_id: &str, body: &Value) -> Result<Value, ApiError> {
    let filters = body
        .get("dataFilters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    store.read(spreadsheet_id, |spreadsheet| {
        let matched: Vec<Value> = select(spreadsheet, &filters)?
            .into_iter()
            .filter_map(|(id, filters)| {
                spreadsheet.metadata.get(&id).map(|metadata| json!({"developerMetadata": metadata.to_json(), "dataFilters": filters}))
            })
            .collect();
        if matched.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({"matchedDeveloperMetadata": matched}))
    })
}

pub fn get(store: &Store, spreadsheet_id: &str, metadata_id: &str) -> Result<Value, ApiError> {
    store.read(spreadsheet_id, |spreadsheet| {
        let id: i64 = metadata_id.parse().map_err(|_| {
            ApiError::invalid_argument(format!("Invalid metadataId: {metadata_id}"))
        })?;
        spreadsheet
            .metadata
            .get(&id)
            .map(DeveloperMetadata::to_json)
            .ok_or_else(not_found)
    })
}

/// `createDeveloperMetadata`.
pub fn create(
    spreadsheet: &mut Spreadsheet,
    identifiers: &mut Identifiers,
    request: &Value,
) -> Result<Value, ApiError> {
    let wanted = request
        .get("developerMetadata")
        .ok_or_else(|| ApiError::invalid_argument("developerMetadata must be specified."))?;
    let metadata_id = match integer(wanted.get("metadataId")) {
        Some(id) if id <= 0 => {
            return Err(ApiError::invalid_argument(format!(
                "Invalid metadataId: {id}. It must be a positive integer."
            )))
        }
        Some(id) => {
            if spreadsheet.metadata.contains_key(&id) {
                return Err(ApiError::invalid_argument(format!(
                    "Developer metadata with ID {id} already exists."
                )));
            }
            id
        }
        None => loop {
            let id = identifiers.small_id();
            if !spreadsheet.metadata.contains_key(&id) {
                break id;
            }
        },
    };
    let key = match wanted.get("metadataKey").and_then(Value::as_str) {
        Some(key) if !key.is_empty() => key.to_string(),
        _ => {
            return Err(ApiError::invalid_argument(
                "Developer metadata must have a metadataKey.",
            ))
        }
    };
    let location = Location::parse(spreadsheet, wanted.get("location").unwrap_or(&Value::Null))?;
    let metadata = DeveloperMetadata {
        metadata_id,
        key,
        value: wanted
            .get("metadataValue")
            .and_then(Value::as_str)
            .map(str::to_string),
        location,
        visibility: parse_visibility(wanted.get("visibility"))?,
    };
    let reply = json!({"createDeveloperMetadata": {"developerMetadata": metadata.to_json()}});
    spreadsheet.metadata_mut().insert(metadata_id, metadata);
    Ok(reply)
}

fn filters_of(request: &Value, name: &str) -> Result<Vec<Value>, ApiError> {
    match request.get(name) {
        Some(Value::Array(filters)) if !filters.is_empty() => Ok(filters.clone()),
        Some(filter @ Value::Object(_)) => Ok(vec![filter.clone()]),
        _ => Err(ApiError::invalid_argument(format!(
            "{name} must be specified."
        ))),
    }
}

/// `updateDeveloperMetadata`: every entry matched by `dataFilters` gets the masked fields.
pub fn update(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let filters = filters_of(request, "dataFilters")?;
    let mask = required_mask(request.get("fields"))?;
    let wanted = request
        .get("developerMetadata")
        .cloned()
        .unwrap_or(json!({}));
    if mask.selects("metadataId") && integer(wanted.get("metadataId")).is_some() {
        return Err(ApiError::invalid_argument("metadataId cannot be updated."));
    }
    let new_location = if mask.selects("location") {
        Some(Location::parse(
            spreadsheet,
            wanted.get("location").unwrap_or(&Value::Null),
        )?)
    } else {
        None
    };
    let new_visibility = if mask.selects("visibility") {
        Some(parse_visibility(wanted.get("visibility"))?)
    } else {
        None
    };
    if mask.selects("metadataKey")
        && wanted
            .get("metadataKey")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid_argument(
            "Developer metadata must have a metadataKey.",
        ));
    }
    let ids: Vec<i64> = select(spreadsheet, &filters)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let map = spreadsheet.metadata_mut();
    let mut updated = Vec::new();
    for id in ids {
        let Some(metadata) = map.get_mut(&id) else {
            continue;
        };
        if mask.selects("metadataKey") {
            metadata.key = wanted
                .get("metadataKey")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
        }
        if mask.selects("metadataValue") {
            metadata.value = wanted
                .get("metadataValue")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(location) = &new_location {
            metadata.location = location.clone();
        }
        if let Some(visibility) = &new_visibility {
            metadata.visibility = visibility.clone();
        }
        updated.push(metadata.to_json());
    }
    Ok(json!({"updateDeveloperMetadata": {"developerMetadata": updated}}))
}

/// `deleteDeveloperMetadata`: every entry matched by `dataFilter` is removed.
pub fn delete(spreadsheet: &mut Spreadsheet, request: &Value) -> Result<Value, ApiError> {
    let filters = filters_of(request, "dataFilter")?;
    let ids: Vec<i64> = select(spreadsheet, &filters)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let map = spreadsheet.metadata_mut();
    let deleted: Vec<Value> = ids
        .iter()
        .filter_map(|id| map.remove(id))
        .map(|metadata| metadata.to_json())
        .collect();
    Ok(json!({"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}}))
}
