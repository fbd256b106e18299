//! The error bodies Google's front end returns before a call reaches the Sheets backend
//! (authentication, scopes, quota) or when the backend fails. Texts are verbatim where known
//! (see shared/notes/sheets-api.md §1).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request_class::RequestClass;
use crate::auth::BearerRejection;
use crate::error::ApiError;

/// The project number reported as the quota consumer in 429 bodies.
pub const PROJECT_NUMBER: &str = "100000000001";
const SERVICE: &str = "sheets.googleapis.com";
const SIGN_IN_HINT: &str = "Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// 401 UNAUTHENTICATED, with the `WWW-Authenticate` challenge Google sends.
pub fn unauthenticated(rejection: BearerRejection) -> Response {
    let (error, challenge) = match rejection {
        BearerRejection::Missing => (
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                format!("Request is missing required authentication credential. {SIGN_IN_HINT}"),
            )
            .with_details(json!([{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "CREDENTIALS_MISSING",
                "domain": "googleapis.com",
                "metadata": { "service": SERVICE },
            }])),
            r#"Bearer realm="https://accounts.google.com/""#,
        ),
        BearerRejection::Invalid | BearerRejection::Expired => (
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                format!("Request had invalid authentication credentials. {SIGN_IN_HINT}"),
            ),
            r#"Bearer realm="https://accounts.google.com/", error="invalid_token""#,
        ),
    };
    let mut response = error.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// 403 PERMISSION_DENIED: a read-only token used for a write.
pub fn insufficient_scopes() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "Request had insufficient authentication scopes.",
    )
    .with_details(json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com",
        "metadata": { "service": SERVICE },
    }]))
    .into_response()
}

/// 429 RESOURCE_EXHAUSTED, exactly as Google words it. Google sends no `Retry-After`.
pub fn quota_exceeded(class: RequestClass) -> ApiError {
    let (metric, limit, metric_id, limit_id) = match class {
        RequestClass::Read => (
            "Read requests",
            "Read requests per minute per user",
            "read_requests",
            "ReadRequestsPerMinutePerUser",
        ),
        RequestClass::Write => (
            "Write requests",
            "Write requests per minute per user",
            "write_requests",
            "WriteRequestsPerMinutePerUser",
        ),
    };
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RESOURCE_EXHAUSTED",
        format!(
            "Quota exceeded for quota metric '{metric}' and limit '{limit}' of service '{SERVICE}' for consumer 'project_number:{PROJECT_NUMBER}'."
        ),
    )
    .with_details(json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": {
            "consumer": format!("projects/{PROJECT_NUMBER}"),
            "quota_limit": limit_id,
            "quota_metric": format!("{SERVICE}/{metric_id}"),
            "service": SERVICE,
        },
    }]))
}

/// An injected backend failure: 500 INTERNAL or 503 UNAVAILABLE.
pub fn backend_failure(status: u16) -> ApiError {
    match status {
        500 => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Internal error encountered.",
        ),
        _ => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "The service is currently unavailable.",
        ),
    }
}
