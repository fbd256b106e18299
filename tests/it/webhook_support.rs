//! A real webhook listener on 127.0.0.1:0 with a recording `Apply` and a settable clock.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sheetsync::config::{ConflictPolicy, MappingConfig, Secret};
use sheetsync::webhook::signature::sign;
use sheetsync::webhook::{
    router, Apply, ApplyError, ApplyFuture, ApplyRequest, ApplyResponse, Clock, RowResult,
    RowStatus, WebhookState,
};

pub const SECRET: &str = "test-secret-\u{1F511}";
pub const NOW: i64 = 1_767_225_600;
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

pub struct TestClock(pub AtomicI64);

impl Clock for TestClock {
    fn now_unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Records every request; answers 503 while `unavailable` is above zero.
#[derive(Default)]
pub struct RecordingApply {
    pub requests: Mutex<Vec<ApplyRequest>>,
    pub unavailable: AtomicUsize,
    /// How long each apply takes, to hold requests in flight together.
    pub delay_milliseconds: std::sync::atomic::AtomicU64,
}

impl RecordingApply {
    pub fn calls(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }
}

impl Apply for RecordingApply {
    fn apply(&self, request: ApplyRequest) -> ApplyFuture<'_> {
        Box::pin(async move {
            let delay = self.delay_milliseconds.load(Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            if self
                .unavailable
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
            {
                return Err(ApplyError::Unavailable("connection refused".into()));
            }
            let results = match &request {
                ApplyRequest::Edit(edit) => edit
                    .message
                    .rows
                    .iter()
                    .map(|row| RowResult {
                        row: row.row,
                        status: RowStatus::Applied,
                        key: None,
                        errors: Vec::new(),
                    })
                    .collect(),
                ApplyRequest::Structure(_) => Vec::new(),
            };
            self.requests.lock().expect("lock").push(request);
            Ok(ApplyResponse { results })
        })
    }
}

#[derive(Clone)]
pub struct TestServer {
    pub url: String,
    pub apply: Arc<RecordingApply>,
    pub clock: Arc<TestClock>,
    client: reqwest::Client,
}

pub fn mapping(sheet: &str, columns: Option<&[&str]>) -> MappingConfig {
    MappingConfig {
        name: sheet.to_lowercase(),
        table: format!("shop.{}", sheet.to_lowercase()),
        spreadsheet_id: "sheet-1".into(),
        sheet: sheet.into(),
        columns: columns.map(|columns| columns.iter().map(|column| column.to_string()).collect()),
        conflict: ConflictPolicy::LastWriteWins,
        column_conflict: Default::default(),
        deletes: true,
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let apply = Arc::new(RecordingApply::default());
        let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
        let mappings = [
            mapping("Orders", Some(&["id", "customer", "total"])),
            mapping("Notes", None),
        ];
        let state = WebhookState::new(Secret::new(SECRET.into()), &mappings, apply.clone())
            .with_clock(clock.clone())
            .with_body_limit_bytes(BODY_LIMIT_BYTES);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/webhook", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router(state)).await.expect("serve") });
        TestServer {
            url,
            apply,
            clock,
            client: reqwest::Client::new(),
        }
    }

    /// Send raw parts; `None` leaves a header out.
    pub async fn send_raw(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value, bool) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(timestamp) = timestamp {
            request = request.header("x-sheetsync-timestamp", timestamp);
        }
        if let Some(signature) = signature {
            request = request.header("x-sheetsync-signature", signature);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("x-sheetsync-replayed");
        let body = response.json::<Value>().await.expect("JSON response body");
        (status, body, replayed)
    }

    /// Send `body` correctly signed at the server's current time.
    pub async fn send_signed(&self, body: Vec<u8>) -> (u16, Value, bool) {
        let timestamp = self.clock.now_unix_seconds().to_string();
        let signature = sign(SECRET.as_bytes(), &timestamp, &body);
        self.send_raw(Some(&timestamp), Some(&signature), body)
            .await
    }
}

/// A valid single-cell edit of `Orders`.
pub fn edit_message(delivery_id: &str) -> Value {
    json!({
        "version": 1, "delivery_id": delivery_id, "kind": "edit",
        "spreadsheet_id": "sheet-1", "sheet": "Orders", "sheet_id": 0,
        "sent_at": "2026-01-01T00:00:00.000Z", "user": "editor@example.com",
        "edited_at": "2026-01-01T00:00:00.000Z", "header": ["id", "customer", "total"],
        "rows": [{ "row": 2, "key": {"id": 1}, "values": {"total": 12.5}, "old_values": {"total": "10"} }]
    })
}

pub fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
