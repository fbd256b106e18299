//! Google's error envelope (`google.rpc.Status` in JSON): `{"error":{"code","message","status",...}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An API error as Google returns it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    /// Canonical status name, e.g. `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, `UNAUTHENTICATED`.
    pub status: &'static str,
    pub message: String,
    /// `error.details`, when Google sends some (e.g. `ErrorInfo` on a 429).
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: StatusCode, status: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            details: None,
        }
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn body(&self) -> Value {
        let mut error = json!({
            "code": self.code.as_u16(),
            "message": self.message,
            "status": self.status,
        });
        if let Some(details) = &self.details {
            error["details"] = details.clone();
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, axum::Json(self.body())).into_response()
    }
}
