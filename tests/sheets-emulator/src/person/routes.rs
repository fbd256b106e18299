//! The person's admin routes (documented in `person/mod.rs`). Like the rest of `/_emulator/`,
//! they are not behind the control layer: a person's edits are not Sheets API calls, so they
//! are neither logged, counted against quota nor hit by injected faults.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::{grid, AddRow, Edit, NewSpreadsheet, PersonError, RowSpan, Sort, WebhookTarget};
use crate::error::ApiError;
use crate::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/_emulator/person/webhook",
            get(get_webhook)
                .post(configure_webhook)
                .delete(clear_webhook),
        )
        .route("/_emulator/person/spreadsheets", post(create_spreadsheet))
        .route("/_emulator/person/edit", post(edit))
        .route("/_emulator/person/add-row", post(add_row))
        .route("/_emulator/person/delete-rows", post(delete_rows))
        .route("/_emulator/person/insert-rows", post(insert_rows))
        .route("/_emulator/person/sort", post(sort))
        .route("/_emulator/person/retry", post(retry))
        .route("/_emulator/person/queue", get(queue))
        .route("/_emulator/grid/{spreadsheet_id}", get(grid::page))
        .route("/_emulator/grid/{spreadsheet_id}/data", get(grid::data))
}

/// A body serde refused: 400 in Google's envelope, saying what was wrong.
fn bad_body(rejection: JsonRejection) -> Response {
    ApiError::invalid_argument(rejection.body_text()).into_response()
}

fn answer<T: serde::Serialize>(result: Result<T, PersonError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.to_api_error().into_response(),
    }
}

async fn get_webhook(State(state): State<SharedState>) -> Response {
    match state.person().webhook() {
        Some(view) => Json(view).into_response(),
        None => Json(json!({ "configured": false })).into_response(),
    }
}

async fn configure_webhook(
    State(state): State<SharedState>,
    request: Result<Json<WebhookTarget>, JsonRejection>,
) -> Response {
    let Json(target) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().configure_webhook(target))
}

async fn clear_webhook(State(state): State<SharedState>) -> StatusCode {
    state.person().clear_webhook();
    StatusCode::NO_CONTENT
}

async fn create_spreadsheet(
    State(state): State<SharedState>,
    request: Result<Json<NewSpreadsheet>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().create_spreadsheet(&request))
}

async fn edit(
    State(state): State<SharedState>,
    request: Result<Json<Edit>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().edit(&request).await)
}

async fn add_row(
    State(state): State<SharedState>,
    request: Result<Json<AddRow>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().add_row(&request).await)
}

async fn delete_rows(
    State(state): State<SharedState>,
    request: Result<Json<RowSpan>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().delete_rows(&request).await)
}

async fn insert_rows(
    State(state): State<SharedState>,
    request: Result<Json<RowSpan>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().insert_rows(&request).await)
}

async fn sort(
    State(state): State<SharedState>,
    request: Result<Json<Sort>, JsonRejection>,
) -> Response {
    let Json(request) = match request {
        Ok(json) => json,
        Err(rejection) => return bad_body(rejection),
    };
    answer(state.person().sort(&request).await)
}

async fn retry(State(state): State<SharedState>) -> Response {
    answer(state.person().retry().await)
}

async fn queue(State(state): State<SharedState>) -> Response {
    Json(json!({ "queued": state.person().queued() })).into_response()
}
