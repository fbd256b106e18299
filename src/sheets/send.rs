//! One HTTP call, attempted until it succeeds, fails definitely, runs out of retries or is
//! cancelled. Each attempt: take a token from the read or write budget, get an access token,
//! send, read the whole body, classify. Between attempts [`super::retry::decide`] says how long
//! to wait.
//!
//! # Cancellation
//! The token stops the *waits* — for a quota token and between attempts — and a cancelled call
//! returns [`SheetsError::Cancelled`]. A request already on the wire is allowed to finish
//! (bounded by the request timeout), because only its answer says whether a write was applied.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::client::SheetsClient;
use super::error::SheetsError;
use super::retry::{decide, parse_retry_after, Failure, RetryDecision};

/// Which budget a call counts against (Google's read vs write quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Read,
    Write,
}

/// A request ready to be sent, possibly more than once.
#[derive(Debug, Clone)]
pub struct Call {
    pub kind: RequestKind,
    pub method: Method,
    pub url: Url,
    /// JSON body, already encoded.
    pub body: Option<Vec<u8>>,
}

impl Call {
    pub fn new(kind: RequestKind, method: Method, url: Url, body: Option<Vec<u8>>) -> Self {
        Self {
            kind,
            method,
            url,
            body,
        }
    }
}

impl SheetsClient {
    /// Send `call` and decode the success body as `T`.
    pub(super) async fn send_json<T: DeserializeOwned>(
        &self,
        call: &Call,
        cancel: &CancellationToken,
    ) -> Result<T, SheetsError> {
        let body = self.send_with_retry(call, cancel).await?;
        serde_json::from_slice(&body).map_err(|error| {
            SheetsError::Decode(format!("{} {}: {error}", call.method, call.url.path()))
        })
    }

    /// Send `call`, retrying transient failures as DESIGN §2.7 says, until a success body, a
    /// definite error, the policy's retry limit (the last error is returned) or cancellation.
    /// Retries are counted in [`SheetsClient::retries_total`].
    ///
    /// A write retried after a "503 after applying" (the answer was lost, the write happened)
    /// is applied twice. Only idempotent calls may go through here: sheetsync's flush batches
    /// are (the writer guarantees it: cells addressed by row, checkpoint overwritten, no
    /// appends without a key check).
    pub async fn send_with_retry(
        &self,
        call: &Call,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>, SheetsError> {
        let mut retry = 0u32;
        loop {
            let error = match self.attempt(call, cancel).await {
                Ok(body) => return Ok(body),
                Err(SheetsError::Cancelled) => return Err(SheetsError::Cancelled),
                Err(error) => error,
            };
            let (failure, retry_after) = failure_of(&error);
            let jitter = self.retry.draw_jitter();
            let wait = match decide(failure, retry, retry_after, &self.retry, jitter) {
                RetryDecision::GiveUp => return Err(error),
                RetryDecision::RetryAfter(wait) => wait,
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(crate::metrics::SHEETS_RETRIES_TOTAL).increment(1);
            tracing::warn!(
                method = %call.method,
                path = call.url.path(),
                retry,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "sheets call failed, retrying"
            );
            retry = retry.saturating_add(1);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(SheetsError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One attempt: quota token, access token, request, whole body.
    pub(super) async fn attempt(
        &self,
        call: &Call,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>, SheetsError> {
        let budget = match call.kind {
            RequestKind::Read => &self.quota.reads,
            RequestKind::Write => &self.quota.writes,
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(SheetsError::Cancelled),
            _ = budget.acquire() => {}
        }
        let token = self.tokens.token().await?;
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(AUTHORIZATION, format!("Bearer {token}"));
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!(crate::metrics::QUOTA_TOKENS_AVAILABLE, "kind" => match call.kind {
            RequestKind::Read => "read",
            RequestKind::Write => "write",
        })
        .set(f64::from(budget.available()));
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                crate::metrics::record_sheets_request(None, false);
                return Err(transport_error(error));
            }
        };
        let status = response.status();
        crate::metrics::record_sheets_request(Some(status.as_u16()), false);
        let retry_after = retry_after_of(response.headers());
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(SheetsError::from_response(
            status.as_u16(),
            &body,
            retry_after,
        ))
    }
}

/// What `decide` needs to know about an error.
fn failure_of(error: &SheetsError) -> (Failure, Option<Duration>) {
    match error {
        SheetsError::Http {
            status,
            retry_after,
            ..
        } => (Failure::Status(*status), *retry_after),
        other if other.is_transient() => (Failure::Transport, None),
        _ => (Failure::Definite, None),
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after)
}

/// A request that got no (complete) answer. A builder error is a bug, not an outage.
fn transport_error(error: reqwest::Error) -> SheetsError {
    if error.is_builder() {
        return SheetsError::Config(format!("building the request: {error}"));
    }
    // reqwest's Display omits the cause ("error sending request"); the chain says why.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = std::error::Error::source(cause);
    }
    SheetsError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_for_decide() {
        let http = SheetsError::Http {
            status: 429,
            google_status: "RESOURCE_EXHAUSTED".into(),
            message: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            failure_of(&http),
            (Failure::Status(429), Some(Duration::from_secs(3)))
        );
        assert_eq!(
            failure_of(&SheetsError::Transport("reset".into())),
            (Failure::Transport, None)
        );
        let outage = SheetsError::Auth {
            message: "token endpoint down".into(),
            transient: true,
        };
        assert_eq!(failure_of(&outage), (Failure::Transport, None));
        assert_eq!(
            failure_of(&SheetsError::Decode("x".into())),
            (Failure::Definite, None)
        );
    }

    #[test]
    fn retry_after_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_of(&headers), None);
        headers.insert(RETRY_AFTER, "12".parse().expect("header"));
        assert_eq!(retry_after_of(&headers), Some(Duration::from_secs(12)));
    }
}
