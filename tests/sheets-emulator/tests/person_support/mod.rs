//! Shared by the person tests: an emulator with a sample spreadsheet, and a small webhook
//! receiver that checks every request with sheetsync's own code — the signature with
//! `sheetsync::webhook::signature::verify`, the body with `sheetsync::webhook::parse` — and
//! answers as the service would (keys 1001, 1002, … for keyless rows) or as a test scripts it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing;
use axum::Router;
use serde_json::{json, Value};
use sheets_emulator::person::{NewSheet, NewSpreadsheet, WebhookTarget};
use sheets_emulator::{EmulatorConfig, RunningEmulator};
use sheetsync::webhook::message::Message;
use sheetsync::webhook::signature::{self, SignatureError};

pub const SECRET: &str = "person-secret-\u{043a}\u{043b}\u{044e}\u{0447}";
pub const SPREADSHEET: &str = "person-sheet-1";
pub const TAB: &str = "Orders";
pub const TAB_ID: i64 = 7;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: String,
    pub verified: Result<i64, SignatureError>,
    pub parsed: Result<Message, String>,
}

type BeforeAnswer = Box<dyn FnOnce() + Send>;

/// What the receiver answers next.
pub enum Answer {
    /// This status and body.
    Canned(u16, Value),
    /// Run this (e.g. change the sheet meanwhile), then answer as the service would.
    After(BeforeAnswer),
}

#[derive(Default)]
struct ReceiverState {
    received: Mutex<Vec<Received>>,
    answers: Mutex<VecDeque<Answer>>,
    next_key: Mutex<u64>,
}

pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState {
            next_key: Mutex::new(1001),
            ..ReceiverState::default()
        });
        let app = Router::new()
            .route("/webhook", routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{address}/webhook"),
            state,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Answer the next request(s) this way, in order.
    pub fn answer_next(&self, answer: Answer) {
        self.state.answers.lock().expect("lock").push_back(answer);
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("<not ascii>").to_string())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let verified = signature::verify(
        SECRET.as_bytes(),
        headers
            .get(signature::TIMESTAMP_HEADER)
            .map(|value| value.as_bytes()),
        headers
            .get(signature::SIGNATURE_HEADER)
            .map(|value| value.as_bytes()),
        &body,
        now,
    );
    let parsed = sheetsync::webhook::parse(&body).map_err(|error| error.to_string());
    let received = Received {
        timestamp: header("x-sheetsync-timestamp").unwrap_or_default(),
        signature: header("x-sheetsync-signature").unwrap_or_default(),
        content_type: header("content-type").unwrap_or_default(),
        body: String::from_utf8_lossy(&body).into_owned(),
        verified: verified.clone(),
        parsed: parsed.clone(),
    };
    state.received.lock().expect("lock").push(received);
    let next = state.answers.lock().expect("lock").pop_front();
    match next {
        Some(Answer::Canned(status, body)) => {
            return (
                StatusCode::from_u16(status).expect("status"),
                body.to_string(),
            )
        }
        Some(Answer::After(hook)) => hook(),
        None => {}
    }
    if let Err(error) = verified {
        return (
            StatusCode::UNAUTHORIZED,
            error_body(401, &error.to_string()),
        );
    }
    let message = match parsed {
        Ok(message) => message,
        Err(error) => return (StatusCode::BAD_REQUEST, error_body(400, &error)),
    };
    let Message::Edit(edit) = message else {
        return (StatusCode::OK, json!({"results": []}).to_string());
    };
    let results: Vec<Value> = edit
        .rows
        .iter()
        .map(|row| {
            if row.is_new() {
                let mut next_key = state.next_key.lock().expect("lock");
                let key = *next_key;
                *next_key += 1;
                json!({"row": row.row, "status": "inserted", "key": {"id": key}})
            } else {
                json!({"row": row.row, "status": "applied"})
            }
        })
        .collect();
    (StatusCode::OK, json!({ "results": results }).to_string())
}

fn error_body(status: u16, message: &str) -> String {
    json!({"error": {"status": status, "message": message}}).to_string()
}

/// A running emulator holding the sample spreadsheet:
///
/// | id | customer | total | paid  |
/// |----|----------|-------|-------|
/// | 1  | Ada      | 10    | FALSE |
/// | 2  | Grace    | 20    | TRUE  |
/// | 3  | Linus    | 30    | FALSE |
pub async fn emulator() -> RunningEmulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = sheets_emulator::start(
        "127.0.0.1:0".parse().expect("address"),
        EmulatorConfig::default(),
    )
    .await
    .expect("start the emulator");
    emulator
        .state
        .person()
        .create_spreadsheet(&sample_spreadsheet())
        .expect("create the sample spreadsheet");
    emulator
}

pub fn sample_spreadsheet() -> NewSpreadsheet {
    NewSpreadsheet {
        spreadsheet_id: Some(SPREADSHEET.into()),
        title: Some("Shop".into()),
        time_zone: Some("Europe/Berlin".into()),
        sheets: vec![NewSheet {
            title: TAB.into(),
            sheet_id: Some(TAB_ID),
            rows: vec![
                vec![
                    json!("id"),
                    json!("customer"),
                    json!("total"),
                    json!("paid"),
                ],
                vec![json!(1), json!("Ada"), json!(10), json!(false)],
                vec![json!(2), json!("Grace"), json!(20), json!(true)],
                vec![json!(3), json!("Linus"), json!(30), json!(false)],
            ],
        }],
    }
}

/// An emulator and a receiver, the person's webhook pointing at it.
pub async fn bed() -> (RunningEmulator, Receiver) {
    let emulator = emulator().await;
    let receiver = Receiver::start().await;
    emulator
        .state
        .person()
        .configure_webhook(WebhookTarget::new(&receiver.url, SECRET))
        .expect("configure the webhook");
    (emulator, receiver)
}

/// `POST {base}{path}` with a JSON body: (status, JSON answer).
pub async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn get(base: &str, path: &str) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::get(format!("{base}{path}")).await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The body with its per-delivery values (delivery id, times) replaced by `…`, so a test can
/// compare the rest byte for byte.
pub fn masked(body: &str) -> String {
    let mut text = body.to_string();
    for field in ["delivery_id", "sent_at", "edited_at", "changed_at"] {
        let marker = format!("\"{field}\":\"");
        if let Some(start) = text.find(&marker) {
            let value_start = start + marker.len();
            let value_end = value_start + text[value_start..].find('"').expect("closing quote");
            text.replace_range(value_start..value_end, "…");
        }
    }
    text
}

/// Every request the receiver got was signed right and parsed by sheetsync's parser.
pub fn assert_all_valid(receiver: &Receiver) {
    for received in receiver.received() {
        assert!(received.verified.is_ok(), "{received:?}");
        assert!(received.parsed.is_ok(), "{received:?}");
        assert_eq!(received.content_type, "application/json");
        assert!(received.signature.starts_with("sha256="));
    }
}

/// The tab's values as the API reads them (UNFORMATTED_VALUE).
pub fn values(emulator: &RunningEmulator) -> Vec<Vec<Value>> {
    emulator
        .state
        .store
        .sheet_values(SPREADSHEET, TAB)
        .expect("the tab")
}
