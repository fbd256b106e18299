//! The real webhook router with a recording `Apply`, for testing the Apps Script against the
//! real parser and signature check (`apps-script/test/`).
//!
//! Serves on 127.0.0.1:0 and prints `listening on http://127.0.0.1:PORT` as its first line.
//! - `POST /webhook`: the real `sheetsync::webhook::router`. Rows without a key are answered
//!   `inserted` with a generated key (1001, 1002, …) in their first key column; others `applied`.
//! - `GET /recorded`: every request that reached the apply step, as JSON, in arrival order.
//! - `POST /control/unavailable` with a number N as the body: the next N applies answer 503.
//!
//! Exits by itself after `--lifetime-seconds` (default 120), so a crashed test leaves nothing
//! running.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};
use sheetsync::config::{ConflictPolicy, MappingConfig, Secret};
use sheetsync::webhook::{
    router, Apply, ApplyError, ApplyFuture, ApplyRequest, ApplyResponse, CellValue, Message,
    RowResult, RowStatus, WebhookState,
};

#[derive(Parser)]
struct Arguments {
    #[arg(long)]
    secret: String,
    #[arg(long)]
    spreadsheet_id: String,
    /// Mapped tab titles (repeat for several).
    #[arg(long, required = true)]
    sheet: Vec<String>,
    /// Synced columns (comma-separated); default: every column is accepted.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    #[arg(long, default_value_t = 120)]
    lifetime_seconds: u64,
}

#[derive(Default)]
struct Recorder {
    recorded: Mutex<Vec<Value>>,
    unavailable_remaining: AtomicUsize,
    next_key: AtomicU64,
}

impl Apply for Recorder {
    fn apply(&self, request: ApplyRequest) -> ApplyFuture<'_> {
        Box::pin(async move {
            let unavailable = self
                .unavailable_remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok();
            if unavailable {
                return Err(ApplyError::Unavailable(
                    "told to fail by /control/unavailable".into(),
                ));
            }
            // As the `Message` enum, so the record carries `kind` like the body did.
            let message = match &request {
                ApplyRequest::Edit(edit) => {
                    serde_json::to_value(Message::Edit(edit.message.clone()))
                }
                ApplyRequest::Structure(structure) => {
                    serde_json::to_value(Message::Structure(structure.message.clone()))
                }
            }
            .map_err(|error| ApplyError::Failed(error.to_string()))?;
            self.recorded
                .lock()
                .map_err(|_| ApplyError::Failed("recorder lock poisoned".into()))?
                .push(json!({ "mapping": request.mapping().name, "message": message }));
            let ApplyRequest::Edit(edit) = request else {
                return Ok(ApplyResponse::default());
            };
            let results = edit
                .message
                .rows
                .iter()
                .map(|row| {
                    let key = row.is_new().then(|| {
                        row.key
                            .keys()
                            .enumerate()
                            .map(|(index, column)| {
                                let generated = 1001 + self.next_key.fetch_add(1, Ordering::SeqCst);
                                let value = if index == 0 {
                                    CellValue::Number(generated as f64)
                                } else {
                                    CellValue::Empty
                                };
                                (column.clone(), value)
                            })
                            .collect()
                    });
                    RowResult {
                        row: row.row,
                        status: if key.is_some() {
                            RowStatus::Inserted
                        } else {
                            RowStatus::Applied
                        },
                        key,
                        errors: Vec::new(),
                    }
                })
                .collect();
            Ok(ApplyResponse { results })
        })
    }
}

async fn recorded(State(recorder): State<Arc<Recorder>>) -> Json<Value> {
    let recorded = recorder
        .recorded
        .lock()
        .map(|list| list.clone())
        .unwrap_or_default();
    Json(Value::Array(recorded))
}

async fn make_unavailable(State(recorder): State<Arc<Recorder>>, body: String) -> Json<Value> {
    let count = body.trim().parse().unwrap_or(1);
    recorder
        .unavailable_remaining
        .store(count, Ordering::SeqCst);
    Json(json!({ "unavailable_for": count }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let mappings: Vec<MappingConfig> = arguments
        .sheet
        .iter()
        .map(|sheet| MappingConfig {
            name: sheet.to_lowercase(),
            table: format!("shop.{}", sheet.to_lowercase()),
            spreadsheet_id: arguments.spreadsheet_id.clone(),
            sheet: sheet.clone(),
            columns: arguments.columns.clone(),
            conflict: ConflictPolicy::LastWriteWins,
            column_conflict: Default::default(),
            deletes: true,
        })
        .collect();
    let recorder = Arc::new(Recorder::default());
    let state = WebhookState::new(Secret::new(arguments.secret), &mappings, recorder.clone());
    let control = Router::new()
        .route("/recorded", get(recorded))
        .route("/control/unavailable", post(make_unavailable))
        .with_state(recorder);
    let application = router(state).merge(control);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let lifetime = Duration::from_secs(arguments.lifetime_seconds);
    tokio::select! {
        served = axum::serve(listener, application) => served?,
        () = tokio::time::sleep(lifetime) => eprintln!("webhook-recorder: lifetime over, exiting"),
    }
    Ok(())
}
