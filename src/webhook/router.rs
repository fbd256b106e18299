//! `POST /webhook`: authenticate, parse, de-duplicate, find the mapping, apply.
//!
//! Order of checks, each a cheaper gate than the next: body size (413) → timestamp and signature
//! over the raw bytes (401) → parse and validate (400) → replay store (a repeat gets the first
//! answer) → mapping and columns (422) → apply (200, 503 when the database is down). Nothing that
//! fails a gate reaches the apply step.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::apply::{Apply, ApplyRequest, ApplyResponse, ValidatedEdit, ValidatedStructure};
use super::error::WebhookError;
use super::message::{self, Message};
use super::replay::ReplayStore;
use super::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::config::{MappingConfig, Secret};

/// Default body limit: a 500-row paste of wide rows fits many times over.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;
/// Set on a 200 answered from the replay store rather than by applying.
pub const REPLAYED_HEADER: &str = "x-sheetsync-replayed";

/// The time source, injectable so tests can check timestamp freshness and replay expiry.
pub trait Clock: Send + Sync {
    fn now_unix_seconds(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

pub struct WebhookState {
    /// The HMAC key shared with the Apps Script.
    secret: Secret,
    /// Accepted too while a rotation is in progress (`webhook.previous_secret`).
    previous_secret: Option<Secret>,
    /// Where messages may go: looked up by spreadsheet id and tab title.
    mappings: Vec<Arc<MappingConfig>>,
    /// First answers by delivery id, so retries and replays are not applied twice.
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
    /// The database side; everything before it is this module's job.
    apply: Arc<dyn Apply>,
    body_limit_bytes: usize,
}

impl WebhookState {
    pub fn new(secret: Secret, mappings: &[MappingConfig], apply: Arc<dyn Apply>) -> Self {
        Self {
            secret,
            previous_secret: None,
            mappings: mappings.iter().cloned().map(Arc::new).collect(),
            replay: ReplayStore::default(),
            clock: Arc::new(SystemClock),
            apply,
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
        }
    }

    /// Also accept signatures made with `previous` (rotating the secret without a window in
    /// which the script's deliveries are refused).
    pub fn with_previous_secret(mut self, previous: Option<Secret>) -> Self {
        self.previous_secret = previous;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_body_limit_bytes(mut self, body_limit_bytes: usize) -> Self {
        self.body_limit_bytes = body_limit_bytes;
        self
    }

    pub fn with_replay_store(mut self, replay: ReplayStore) -> Self {
        self.replay = replay;
        self
    }
}

pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route("/webhook", post(receive))
        .with_state(Arc::new(state))
}

/// Serves [`router`] on `listener` until `stop` fires: what `sheetsync run` listens with (and the
/// webhook benchmark). Each accepted connection gets `TCP_NODELAY`: without it each small answer
/// waits on the peer's delayed ACK (≈5 ms more p50).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebhookState,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

async fn receive(State(state): State<Arc<WebhookState>>, request: Request) -> Response {
    // The request taken apart rather than a `HeaderMap` extractor, which copies the headers.
    let (parts, body) = request.into_parts();
    let (outcome, response) = handle(&state, &parts.headers, body).await;
    metrics::counter!(crate::metrics::WEBHOOK_REQUESTS_TOTAL, "outcome" => outcome).increment(1);
    response
}

/// One request, answered. Also returns the outcome label (`applied`, `replayed`, or the error's
/// label) so a metrics layer can count requests by outcome without parsing responses.
pub async fn handle(
    state: &WebhookState,
    headers: &HeaderMap,
    body: Body,
) -> (&'static str, Response) {
    match process(state, headers, body).await {
        Ok((response, replayed)) => {
            let outcome = if replayed { "replayed" } else { "applied" };
            let mut answer = (StatusCode::OK, Json(response)).into_response();
            if replayed {
                answer
                    .headers_mut()
                    .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            }
            (outcome, answer)
        }
        Err(error) => (error.outcome(), error.into_response()),
    }
}

async fn process(
    state: &WebhookState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(ApplyResponse, bool), WebhookError> {
    let raw_body = read_body(headers, body, state.body_limit_bytes).await?;
    let now = state.clock.now_unix_seconds();
    let verify = |secret: &Secret| {
        signature::verify(
            secret.expose().as_bytes(),
            headers.get(TIMESTAMP_HEADER).map(HeaderValue::as_bytes),
            headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes),
            &raw_body,
            now,
        )
    };
    match (verify(&state.secret), &state.previous_secret) {
        (Err(signature::SignatureError::Mismatch), Some(previous)) => verify(previous)?,
        (result, _) => result?,
    };
    let message = message::parse(&raw_body)?;
    let slot = state.replay.slot(&message.envelope().delivery_id, now);
    let applied = AtomicBool::new(false);
    let response = slot
        .get_or_try_init(|| async {
            applied.store(true, Ordering::Relaxed);
            let request = route(&state.mappings, message)?;
            state.apply.apply(request).await.map_err(WebhookError::from)
        })
        .await?;
    Ok((response.clone(), !applied.load(Ordering::Relaxed)))
}

async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit_bytes: usize,
) -> Result<Bytes, WebhookError> {
    let too_large = WebhookError::PayloadTooLarge { limit_bytes };
    // Refuse a declared oversize body before reading any of it.
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit_bytes as u64) {
        return Err(too_large);
    }
    match Limited::new(body, limit_bytes).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large),
        Err(error) => Err(WebhookError::UnreadableBody(error.to_string())),
    }
}

/// Find the mapping for a message and check that it names only columns the mapping syncs.
pub fn route(
    mappings: &[Arc<MappingConfig>],
    message: Message,
) -> Result<ApplyRequest, WebhookError> {
    let envelope = message.envelope();
    let mut of_spreadsheet = mappings
        .iter()
        .filter(|mapping| mapping.spreadsheet_id == envelope.spreadsheet_id)
        .peekable();
    if of_spreadsheet.peek().is_none() {
        return Err(WebhookError::UnknownSpreadsheet {
            spreadsheet_id: envelope.spreadsheet_id.clone(),
        });
    }
    let Some(mapping) = of_spreadsheet.find(|mapping| mapping.sheet == envelope.sheet) else {
        return Err(WebhookError::UnknownSheet {
            spreadsheet_id: envelope.spreadsheet_id.clone(),
            sheet: envelope.sheet.clone(),
        });
    };
    let named: Vec<&String> = match &message {
        Message::Edit(edit) => edit
            .rows
            .iter()
            .flat_map(|row| {
                let old = row.old_values.iter().flat_map(|old| old.keys());
                row.key.keys().chain(row.values.keys()).chain(old)
            })
            .collect(),
        Message::Structure(structure) => structure.key_columns.iter().collect(),
    };
    if let Some(columns) = &mapping.columns {
        let unknown: BTreeSet<String> = named
            .into_iter()
            .filter(|column| !columns.contains(column))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(WebhookError::UnknownColumns {
                mapping: mapping.name.clone(),
                columns: unknown.into_iter().collect(),
            });
        }
    }
    let mapping = mapping.clone();
    Ok(match message {
        Message::Edit(message) => ApplyRequest::Edit(ValidatedEdit { mapping, message }),
        Message::Structure(message) => {
            ApplyRequest::Structure(ValidatedStructure { mapping, message })
        }
    })
}
