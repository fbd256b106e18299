//! The token endpoint's error body: OAuth 2.0's `{"error","error_description"}` (RFC 6749 §5.2),
//! not the `google.rpc.Status` envelope the API uses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_grant`, `invalid_request`, `invalid_scope`, `unsupported_grant_type`.
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        // Google answers every token-endpoint error with 400, as RFC 6749 §5.2 says.
        let body = json!({ "error": self.error, "error_description": self.description });
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    }
}
