//! The middleware around every API call: log → latency → authentication → quota → faults
//! before → handler → faults after. See the module documentation of `control` for why.

use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::faults::FaultStage;
use super::google_errors;
use super::request_class::RequestClass;
use super::request_log::{body_text, LoggedRequest};
use crate::error::ApiError;
use crate::SharedState;

/// Bodies above this are refused before anything else; Google recommends at most 2 MB.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What the layer decided, for the log.
struct Outcome {
    response: Response,
    client_email: Option<String>,
    fault: Option<String>,
}

impl Outcome {
    fn plain(response: Response, client_email: Option<String>) -> Self {
        Self {
            response,
            client_email,
            fault: None,
        }
    }
}

pub async fn control_layer(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let class = RequestClass::of(&parts.method, parts.uri.path());
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    // The body is read here once so the log can keep it; the handler gets the same bytes back.
    let (outcome, body) = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let request = Request::from_parts(parts, Body::from(bytes.clone()));
            (handle(&state, class, request, next).await, bytes)
        }
        Err(error) => {
            let refused = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "INVALID_ARGUMENT",
                format!("The request body could not be read: {error}"),
            );
            (
                Outcome::plain(refused.into_response(), None),
                Default::default(),
            )
        }
    };
    let (text, body_truncated) = body_text(&body, state.control.logged_body_limit());
    state.control.record(LoggedRequest {
        seq: 0,
        method,
        path,
        query,
        body: text,
        body_bytes: body.len(),
        body_truncated,
        status: outcome.response.status().as_u16(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        class,
        client_email: outcome.client_email,
        fault: outcome.fault,
        completed_unix_ms: 0,
    });
    outcome.response
}

async fn handle(state: &SharedState, class: RequestClass, request: Request, next: Next) -> Outcome {
    let latency = state.control.latency().for_class(class);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let identity = match state.auth.authenticate(authorization) {
        Ok(identity) => identity,
        Err(rejection) => return Outcome::plain(google_errors::unauthenticated(rejection), None),
    };
    let client_email = Some(identity.client_email.clone());
    if class == RequestClass::Write && !identity.may_write() {
        return Outcome::plain(google_errors::insufficient_scopes(), client_email);
    }
    if !state.control.admit(&identity.client_email, class) {
        return Outcome::plain(
            google_errors::quota_exceeded(class).into_response(),
            client_email,
        );
    }
    if let Some(status) = state.control.strike(class, FaultStage::Before) {
        return injected(status, "before", client_email);
    }
    let response = next.run(request).await;
    // Only a call that succeeded was applied; a failed one stays failed as it is.
    if response.status().is_success() {
        if let Some(status) = state.control.strike(class, FaultStage::After) {
            return injected(status, "after", client_email);
        }
    }
    Outcome::plain(response, client_email)
}

fn injected(status: u16, stage: &str, client_email: Option<String>) -> Outcome {
    let response = google_errors::backend_failure(status).into_response();
    let fault = Some(format!("{} {stage} apply", response.status().as_u16()));
    Outcome {
        response,
        client_email,
        fault,
    }
}
