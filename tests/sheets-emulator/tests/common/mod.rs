//! Shared test harness: the Sheets API routes served on a real `127.0.0.1:0` listener (so the
//! tests prove the wire format), and a small JSON client.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{json, Value};
use sheets_emulator::{api, auth, control, EmulatorConfig, EmulatorState, SharedState};

pub struct Emulator {
    pub base_url: String,
    pub state: SharedState,
    client: reqwest::Client,
}

pub async fn start() -> Emulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let (auth, _) = auth::Auth::from_config(&EmulatorConfig::default(), &base_url).expect("auth");
    let state = Arc::new(EmulatorState {
        store: api::Store::default(),
        auth,
        control: control::Control::default(),
    });
    let app = api::routes().with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Emulator {
        base_url,
        state,
        client: reqwest::Client::new(),
    }
}

impl Emulator {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base_url, path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Create a spreadsheet over HTTP; returns its id.
    pub async fn create(&self, body: Value) -> String {
        let (status, created) = self.post("/v4/spreadsheets", body).await;
        assert_eq!(status, 200, "{created}");
        created["spreadsheetId"].as_str().expect("id").to_string()
    }

    pub async fn batch_update(&self, id: &str, requests: Value) -> (u16, Value) {
        self.post(
            &format!("/v4/spreadsheets/{id}:batchUpdate"),
            json!({"requests": requests}),
        )
        .await
    }

    /// `values.update` with RAW or USER_ENTERED.
    pub async fn write(&self, id: &str, range: &str, option: &str, values: Value) -> (u16, Value) {
        let path = format!(
            "/v4/spreadsheets/{id}/values/{}?valueInputOption={option}",
            encode(range)
        );
        self.put(&path, json!({"values": values})).await
    }

    /// `values.get` with extra query parameters.
    pub async fn read(&self, id: &str, range: &str, query: &str) -> (u16, Value) {
        self.get(&format!(
            "/v4/spreadsheets/{id}/values/{}?{query}",
            encode(range)
        ))
        .await
    }
}

/// Percent-encode a range the way Google's clients do.
pub fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The exact Google error body for a 400.
pub fn invalid(message: &str) -> Value {
    json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
}
