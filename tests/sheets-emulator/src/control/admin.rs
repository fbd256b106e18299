//! The admin API under `/_emulator/` (documented in `control/mod.rs`). It is not behind the
//! control layer: steering the emulator must work whatever faults or quotas are set.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultSpec;
use super::quota::QuotaSettings;
use super::request_class::RequestClass;
use super::LatencySettings;
use crate::error::ApiError;
use crate::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_emulator/quota", get(get_quota).put(put_quota))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/faults/{id}", delete(remove_fault))
        .route("/_emulator/latency", get(get_latency).put(put_latency))
        .route(
            "/_emulator/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/_emulator/summary", get(summary))
        .route("/_emulator/reset", post(reset))
}

/// A malformed admin body: 400 in Google's envelope, saying what serde disliked.
fn bad_body(rejection: JsonRejection) -> Response {
    ApiError::invalid_argument(rejection.body_text()).into_response()
}

async fn get_quota(State(state): State<SharedState>) -> Json<QuotaSettings> {
    Json(state.control.quota())
}

async fn put_quota(
    State(state): State<SharedState>,
    body: Result<Json<QuotaSettings>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(settings)) if settings.window_ms == 0 => {
            ApiError::invalid_argument("window_ms must be at least 1").into_response()
        }
        Ok(Json(settings)) => {
            state.control.set_quota(settings);
            Json(state.control.quota()).into_response()
        }
        Err(rejection) => bad_body(rejection),
    }
}

async fn list_faults(State(state): State<SharedState>) -> Response {
    Json(json!({ "faults": state.control.faults() })).into_response()
}

async fn add_fault(
    State(state): State<SharedState>,
    body: Result<Json<FaultSpec>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(spec)) => match state.control.add_fault(spec) {
            Ok(fault) => (StatusCode::CREATED, Json(fault)).into_response(),
            Err(reason) => ApiError::invalid_argument(reason).into_response(),
        },
        Err(rejection) => bad_body(rejection),
    }
}

async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    state.control.clear_faults();
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(state): State<SharedState>, Path(id): Path<u64>) -> Response {
    if state.control.remove_fault(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        ApiError::not_found(format!("No fault with id {id}")).into_response()
    }
}

async fn get_latency(State(state): State<SharedState>) -> Json<LatencySettings> {
    Json(state.control.latency())
}

async fn put_latency(
    State(state): State<SharedState>,
    body: Result<Json<LatencySettings>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(settings)) => {
            state.control.set_latency(settings);
            Json(state.control.latency()).into_response()
        }
        Err(rejection) => bad_body(rejection),
    }
}

#[derive(Deserialize)]
struct RequestFilter {
    since: Option<u64>,
    class: Option<RequestClass>,
    status: Option<u16>,
}

async fn list_requests(
    State(state): State<SharedState>,
    Query(filter): Query<RequestFilter>,
) -> Response {
    let requests: Vec<_> = state
        .control
        .requests(filter.since)
        .into_iter()
        .filter(|entry| filter.class.is_none_or(|class| entry.class == class))
        .filter(|entry| filter.status.is_none_or(|status| entry.status == status))
        .collect();
    Json(json!({ "requests": requests, "last_seq": state.control.last_seq() })).into_response()
}

async fn clear_requests(State(state): State<SharedState>) -> StatusCode {
    state.control.clear_requests();
    StatusCode::NO_CONTENT
}

async fn summary(State(state): State<SharedState>) -> Response {
    Json(state.control.summary()).into_response()
}

async fn reset(State(state): State<SharedState>) -> StatusCode {
    state.control.reset();
    StatusCode::NO_CONTENT
}
