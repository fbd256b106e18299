//! `POST /token`: the JWT-bearer grant (RFC 7523) of Google's OAuth token endpoint.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::oauth_error::OAuthError;
use super::{TokenIdentity, TOKEN_LIFETIME};
use crate::SharedState;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    assertion: Option<String>,
}

pub async fn token(
    State(state): State<SharedState>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    match issue(&state, form) {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(error = error.error, description = %error.description, "token request refused");
            error.into_response()
        }
    }
}

fn issue(
    state: &SharedState,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(request) = form.map_err(|rejection| {
        OAuthError::new(
            "invalid_request",
            format!("The token request must be an application/x-www-form-urlencoded POST body ({rejection})"),
        )
    })?;
    let grant_type = request.grant_type.unwrap_or_default();
    if grant_type != JWT_BEARER {
        // Google's wording; the emulator supports only the service-account grant.
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("Invalid grant_type: {grant_type} (this emulator supports only {JWT_BEARER})"),
        ));
    }
    let Some(assertion) = request.assertion.filter(|assertion| !assertion.is_empty()) else {
        return Err(OAuthError::new(
            "invalid_request",
            "Missing required parameter: assertion",
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let verified = state
        .auth
        .verify_assertion(&assertion, i64::try_from(now).unwrap_or(i64::MAX))?;
    let identity = TokenIdentity {
        client_email: verified.client_email,
        scopes: verified.scopes,
    };
    let access_token = state.auth.issue_token(identity, TOKEN_LIFETIME);
    let body = json!({
        "access_token": access_token,
        "expires_in": TOKEN_LIFETIME.as_secs() - 1,
        "token_type": "Bearer",
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `POST /_emulator/tokens/expire`: every issued token now gets 401 (clients must refresh).
pub async fn expire_all(State(state): State<SharedState>) -> StatusCode {
    state.auth.expire_all_tokens();
    StatusCode::NO_CONTENT
}

/// `DELETE /_emulator/tokens`: forget every issued token.
pub async fn revoke_all(State(state): State<SharedState>) -> StatusCode {
    state.auth.revoke_all_tokens();
    StatusCode::NO_CONTENT
}
