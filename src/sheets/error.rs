//! `SheetsError`: everything a Sheets call can fail with, each classified as *transient* (worth
//! retrying with backoff: the same request may succeed later) or *definite* (retrying the same
//! request cannot help: record it with the mapping and position, DESIGN §2.7).

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SheetsError {
    /// Sheets answered with a non-success status. `google_status` and `message` come from
    /// Google's `google.rpc.Status` envelope when the body has one.
    #[error("sheets api answered {status} {google_status}: {message}")]
    Http {
        status: u16,
        google_status: String,
        message: String,
        /// `Retry-After`, when the response carried one.
        retry_after: Option<std::time::Duration>,
    },
    /// The request did not get an answer: connect failure, reset, timeout, truncated body.
    #[error("sheets request failed in transport: {0}")]
    Transport(String),
    /// Getting an access token failed.
    #[error("sheets authentication failed: {message}")]
    Auth { message: String, transient: bool },
    /// A success response whose body is not what the API documents.
    #[error("sheets response could not be decoded: {0}")]
    Decode(String),
    /// The service-account key file is missing, unreadable or not a service-account key.
    #[error("service-account key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },
    /// The configuration cannot produce a client (no key file configured, bad base URL, TLS).
    #[error("sheets client configuration: {0}")]
    Config(String),
    /// The caller's cancellation token fired while waiting for quota or a retry.
    #[error("sheets call cancelled")]
    Cancelled,
}

impl SheetsError {
    /// True when the same request may succeed if sent again later (DESIGN §2.7): 408, 429,
    /// 500, 502, 503, 504, transport failures and token-endpoint outages. Everything else is
    /// definite.
    pub fn is_transient(&self) -> bool {
        match self {
            SheetsError::Http { status, .. } => is_retryable_status(*status),
            SheetsError::Transport(_) => true,
            SheetsError::Auth { transient, .. } => *transient,
            SheetsError::Decode(_)
            | SheetsError::KeyFile { .. }
            | SheetsError::Config(_)
            | SheetsError::Cancelled => false,
        }
    }

    /// True when Google refused a `batchUpdate` because the grid is no longer the shape it was
    /// planned for: a person deleted rows (`Range (…) exceeds grid limits`) or the tab (`No grid
    /// with id`) since the writer last read it. `batchUpdate` is all or nothing, so nothing was
    /// applied: sending the same request again cannot succeed, but re-reading the tab and
    /// planning again can (the writer restarts from its checkpoint, DESIGN §2.6).
    pub fn is_sheet_changed(&self) -> bool {
        match self {
            SheetsError::Http {
                status: 400,
                message,
                ..
            } => {
                message.contains("exceeds grid limits")
                    || message.starts_with("No grid with id")
                    // The grid guard (`sync/plan/guard.rs`) is sheetsync's only copyPaste.
                    || message.contains(".copyPaste:")
            }
            _ => false,
        }
    }

    /// The HTTP status, for metrics labels (`None` when there was no answer).
    pub fn status(&self) -> Option<u16> {
        match self {
            SheetsError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Build the error for a non-success response from its status, body and `Retry-After`.
    pub fn from_response(
        status: u16,
        body: &[u8],
        retry_after: Option<std::time::Duration>,
    ) -> SheetsError {
        let (google_status, message) = match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => (envelope.error.status, envelope.error.message),
            // Not Google's envelope (a proxy's HTML page, an empty body): keep a bounded excerpt.
            Err(_) => (String::new(), excerpt(body)),
        };
        SheetsError::Http {
            status,
            google_status,
            message,
            retry_after,
        }
    }
}

/// The statuses DESIGN §2.7 retries.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Google's `{"error": {"code", "message", "status", ...}}`; other fields are ignored.
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: GoogleStatus,
}

#[derive(Debug, Deserialize)]
struct GoogleStatus {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

const EXCERPT_CHARS: usize = 300;

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    match trimmed.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

/// Classify a token-endpoint failure. Outages (connection, I/O, a non-JSON answer such as an
/// HTML 503 page) are transient; a refused grant (`invalid_grant`: wrong key, clock skew) is
/// definite.
pub fn from_oauth(error: yup_oauth2::Error) -> SheetsError {
    use yup_oauth2::Error as OauthError;
    let transient = matches!(
        error,
        OauthError::HttpError(_)
            | OauthError::HttpClientError(_)
            | OauthError::LowLevelError(_)
            | OauthError::JSONError(_)
    );
    SheetsError::Auth {
        message: error.to_string(),
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_that_changed_shape_is_told_apart_from_other_refusals() {
        let http = |status: u16, message: &str| SheetsError::Http {
            status,
            google_status: "INVALID_ARGUMENT".into(),
            message: message.into(),
            retry_after: None,
        };
        for (error, changed) in [
            (http(400, "Invalid requests[200].updateCells: Range (Items!A651:C841) exceeds grid limits. Max rows: 840, max columns: 26"), true),
            (http(400, "No grid with id: 1591826349"), true),
            (http(400, "Invalid requests[0].updateCells: Invalid value at 'rows'"), false),
            (http(403, "The caller does not have permission"), false),
            (http(503, "exceeds grid limits"), false),
            (SheetsError::Transport("exceeds grid limits".into()), false),
        ] {
            assert_eq!(error.is_sheet_changed(), changed, "{error}");
            assert!(!(changed && error.is_transient()), "the same request is never resent: {error}");
        }
    }

    #[test]
    fn parses_google_envelope_of_a_429() {
        let body = br#"{"error":{"code":429,"message":"Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:1'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED"}]}}"#;
        let error = SheetsError::from_response(429, body, None);
        match &error {
            SheetsError::Http {
                status,
                google_status,
                message,
                ..
            } => {
                assert_eq!(*status, 429);
                assert_eq!(google_status, "RESOURCE_EXHAUSTED");
                assert!(message.starts_with("Quota exceeded"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.is_transient());
    }

    #[test]
    fn parses_legacy_503_with_errors_array() {
        let body = br#"{"error":{"code":503,"message":"The service is currently unavailable.","errors":[{"message":"x","domain":"global","reason":"backendError"}],"status":"UNAVAILABLE"}}"#;
        let error = SheetsError::from_response(503, body, None);
        assert!(error.to_string().contains("UNAVAILABLE"));
        assert!(error.is_transient());
    }

    #[test]
    fn grid_limit_400_is_definite_and_keeps_the_message() {
        let body = br#"{"error":{"code":400,"message":"Range (Solar!Y1) exceeds grid limits. Max rows: 981, max columns: 24","status":"INVALID_ARGUMENT"}}"#;
        let error = SheetsError::from_response(400, body, None);
        assert!(!error.is_transient());
        assert!(error.to_string().contains("exceeds grid limits"));
    }

    #[test]
    fn non_json_body_is_kept_as_a_bounded_excerpt() {
        let body = "<html>".to_string() + &"x".repeat(1000);
        let error = SheetsError::from_response(502, body.as_bytes(), None);
        let SheetsError::Http { message, .. } = &error else {
            panic!("unexpected {error:?}");
        };
        assert!(message.starts_with("<html>"));
        assert!(message.chars().count() <= EXCERPT_CHARS + 1);
        assert!(error.is_transient());
    }

    #[test]
    fn classification_of_other_kinds() {
        assert!(SheetsError::Transport("reset".into()).is_transient());
        assert!(!SheetsError::Decode("bad".into()).is_transient());
        assert!(!SheetsError::Cancelled.is_transient());
        assert!(!SheetsError::Config("x".into()).is_transient());
        assert!(SheetsError::Auth {
            message: "down".into(),
            transient: true
        }
        .is_transient());
    }
}
