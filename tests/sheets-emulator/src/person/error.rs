//! Why a person call was refused. Every refusal is definite (the request or the emulator's
//! state is wrong; repeating it changes nothing), and nothing was changed: the store write
//! happens only after every check passed. Webhook failures are not errors: they are reported in
//! the call's outcome, as the script keeps them for a retry.

use axum::http::StatusCode;

use crate::error::ApiError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PersonError {
    /// No `POST /_emulator/person/webhook` (or `--webhook-url`) yet: the script is not set up.
    #[error("no webhook configured: POST /_emulator/person/webhook {{\"url\":…,\"secret\":…}} first (the Apps Script's setup())")]
    NoWebhook,
    /// The request body does not describe a change a person can make.
    #[error("{0}")]
    Invalid(String),
    /// The store refused the change (unknown spreadsheet or tab, outside the grid, too long).
    #[error("{}", .0.message)]
    Store(ApiError),
}

impl PersonError {
    pub fn invalid(message: impl Into<String>) -> PersonError {
        PersonError::Invalid(message.into())
    }

    /// Always false: a refused call must be fixed, not repeated.
    pub fn is_transient(&self) -> bool {
        false
    }

    /// The admin API's answer, in Google's error envelope like the other admin calls.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            PersonError::NoWebhook => ApiError::new(
                StatusCode::CONFLICT,
                "FAILED_PRECONDITION",
                self.to_string(),
            ),
            PersonError::Invalid(message) => ApiError::invalid_argument(message.clone()),
            PersonError::Store(error) => error.clone(),
        }
    }
}

impl From<ApiError> for PersonError {
    fn from(error: ApiError) -> Self {
        PersonError::Store(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_status() {
        let table = [
            (PersonError::NoWebhook, 409),
            (PersonError::invalid("bad"), 400),
            (PersonError::Store(ApiError::not_found("no tab")), 404),
        ];
        for (error, status) in table {
            assert_eq!(error.to_api_error().code.as_u16(), status, "{error}");
            assert!(!error.is_transient());
        }
    }
}
