//! Every way a webhook request can fail, its HTTP status, its JSON body
//! (`{"error":{"status":…,"message":…}}`) and its outcome label for metrics.
//!
//! Input errors are the sender's problem and are answered, not logged as errors. Only a failure
//! of the apply step is logged, and its details stay out of the response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::apply::ApplyError;
use super::message::MessageError;
use super::signature::SignatureError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("cannot read the request body: {0}")]
    UnreadableBody(String),
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Message(#[from] MessageError),
    #[error("unknown spreadsheet {spreadsheet_id:?}: no mapping syncs it")]
    UnknownSpreadsheet { spreadsheet_id: String },
    #[error("unknown tab {sheet:?} in spreadsheet {spreadsheet_id:?}: no mapping syncs it")]
    UnknownSheet {
        spreadsheet_id: String,
        sheet: String,
    },
    #[error("mapping {mapping:?} does not sync column(s) {}", quoted_list(.columns))]
    UnknownColumns {
        mapping: String,
        columns: Vec<String>,
    },
    #[error("{0}")]
    Apply(#[from] ApplyError),
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::UnreadableBody(_) | WebhookError::Message(_) => StatusCode::BAD_REQUEST,
            WebhookError::Signature(_) => StatusCode::UNAUTHORIZED,
            WebhookError::UnknownSpreadsheet { .. }
            | WebhookError::UnknownSheet { .. }
            | WebhookError::UnknownColumns { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            WebhookError::Apply(ApplyError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Apply(ApplyError::Failed(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bounded label for `sheetsync_webhook_requests_total{outcome}`.
    pub fn outcome(&self) -> &'static str {
        match self {
            WebhookError::PayloadTooLarge { .. } => "too_large",
            WebhookError::UnreadableBody(_) | WebhookError::Message(_) => "malformed",
            WebhookError::Signature(SignatureError::StaleTimestamp { .. }) => "stale_timestamp",
            WebhookError::Signature(_) => "bad_signature",
            WebhookError::UnknownSpreadsheet { .. }
            | WebhookError::UnknownSheet { .. }
            | WebhookError::UnknownColumns { .. } => "unknown_target",
            WebhookError::Apply(ApplyError::Unavailable(_)) => "unavailable",
            WebhookError::Apply(ApplyError::Failed(_)) => "apply_failed",
        }
    }

    fn public_message(&self) -> String {
        match self {
            // The cause may hold database details; the script only needs to know it failed.
            WebhookError::Apply(ApplyError::Failed(_)) => {
                "internal error while applying the edit".into()
            }
            WebhookError::Apply(ApplyError::Unavailable(_)) => {
                "database unavailable, retry later".into()
            }
            other => other.to_string(),
        }
    }
}

/// The JSON error body shared by every failure.
pub fn error_body(status: StatusCode, message: &str) -> serde_json::Value {
    serde_json::json!({ "error": { "status": status.as_u16(), "message": message } })
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        if let WebhookError::Apply(error) = &self {
            tracing::warn!(%error, "webhook apply step failed");
        }
        let status = self.status();
        (status, Json(error_body(status, &self.public_message()))).into_response()
    }
}

fn quoted_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|column| format!("{column:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_status_and_a_bounded_outcome_label() {
        let cases = [
            (
                WebhookError::PayloadTooLarge { limit_bytes: 1 },
                413,
                "too_large",
            ),
            (
                WebhookError::Signature(SignatureError::Mismatch),
                401,
                "bad_signature",
            ),
            (
                WebhookError::Signature(SignatureError::StaleTimestamp { skew_seconds: 301 }),
                401,
                "stale_timestamp",
            ),
            (
                WebhookError::Message(MessageError::MissingField {
                    field: "rows".into(),
                }),
                400,
                "malformed",
            ),
            (
                WebhookError::UnknownSheet {
                    spreadsheet_id: "s".into(),
                    sheet: "t".into(),
                },
                422,
                "unknown_target",
            ),
            (
                WebhookError::Apply(ApplyError::Unavailable("down".into())),
                503,
                "unavailable",
            ),
            (
                WebhookError::Apply(ApplyError::Failed("secret detail".into())),
                500,
                "apply_failed",
            ),
        ];
        for (error, status, outcome) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
            assert_eq!(error.outcome(), outcome);
        }
        let internal = WebhookError::Apply(ApplyError::Failed("secret detail".into()));
        assert!(!internal.public_message().contains("secret detail"));
    }
}
