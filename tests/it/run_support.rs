//! Helpers for the scenarios that run the real `sheetsync` binary as separate processes: a
//! config with fixed admin and webhook ports, spawning with the log in a file, signals, probes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

/// `text` (from `SyncBed::config_text`) with the admin listener on `metrics_port` and the
/// webhook on `webhook_port` with `secret` (none when `secret` is empty).
pub fn with_ports(text: &str, metrics_port: u16, webhook_port: u16, secret: &str) -> String {
    let webhook = if secret.is_empty() {
        format!("[webhook]\nlisten = \"127.0.0.1:{webhook_port}\"")
    } else {
        format!("[webhook]\nlisten = \"127.0.0.1:{webhook_port}\"\nsecret = \"{secret}\"")
    };
    text.replace(
        "[metrics]\nlisten = \"127.0.0.1:0\"",
        &format!("[metrics]\nlisten = \"127.0.0.1:{metrics_port}\""),
    )
    .replace("[webhook]\nlisten = \"127.0.0.1:0\"", &webhook)
}

/// A running `sheetsync` process; killed (SIGKILL) when dropped.
pub struct Process {
    pub child: Child,
    pub log: PathBuf,
    pub metrics_port: u16,
}

impl Process {
    /// `sheetsync run --config <config>`, stdout and stderr appended to `log`, the admin
    /// listener on `metrics_port` (by `SHEETSYNC_METRICS_LISTEN`, so several processes share
    /// one config file).
    pub fn run(config: &Path, log: &Path, metrics_port: u16) -> Process {
        Self::spawn(&["run"], config, log, metrics_port)
    }

    pub fn spawn(arguments: &[&str], config: &Path, log: &Path, metrics_port: u16) -> Process {
        Self::spawn_with(arguments, config, log, metrics_port, &[])
    }

    /// [`Process::spawn`] with extra environment variables.
    pub fn spawn_with(
        arguments: &[&str],
        config: &Path,
        log: &Path,
        metrics_port: u16,
        environment: &[(&str, &str)],
    ) -> Process {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file")
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
        for (name, _) in std::env::vars() {
            if name.starts_with("SHEETSYNC_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        let child = command
            .args(arguments)
            .arg("--config")
            .arg(config)
            .env(
                "SHEETSYNC_METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .envs(environment.iter().copied())
            .stdout(Stdio::from(open()))
            .stderr(Stdio::from(open()))
            .spawn()
            .expect("spawn sheetsync");
        Process {
            child,
            log: log.to_path_buf(),
            metrics_port,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no flush, no lease release; the server frees the lock when the socket dies.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as Kubernetes and docker send it.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM {}", self.pid());
    }

    /// The exit status, waiting at most `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `characters` of the log, for failure messages.
    pub fn log_tail(&self, characters: usize) -> String {
        let text = self.log_text();
        let skip = text.chars().count().saturating_sub(characters);
        text.chars().skip(skip).collect()
    }

    /// `GET <path>` on the admin listener: (status, body); None while it does not answer.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        admin_get(self.metrics_port, path).await
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain-HTTP client (reqwest is built without a default TLS provider).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub async fn admin_get(port: u16, path: &str) -> Option<(u16, String)> {
    let response = http()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.unwrap_or_default()))
}

/// Polls `/readyz` until it answers `status`, at most `limit`; returns the body.
pub async fn wait_for_readyz(process: &Process, status: u16, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Some((answered, body)) = process.get("/readyz").await {
            if answered == status {
                return body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "/readyz of pid {} never answered {status} within {limit:?}\nlog tail:\n{}",
            process.pid(),
            process.log_tail(4000)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/status.json` as JSON (None while the listener does not answer).
pub async fn status_json(process: &Process) -> Option<Value> {
    let (_, body) = process.get("/status.json").await?;
    serde_json::from_str(&body).ok()
}

/// The flush ids (`<writer run id>-<sequence>`) of every checkpoint the emulator accepted, in
/// order, from the request log; and how many logged writes were cut too short to tell.
pub fn logged_flush_ids(emulator: &sheets_emulator::RunningEmulator) -> (Vec<String>, usize) {
    let mut flushes = Vec::new();
    let mut unreadable = 0;
    for entry in emulator.state.control.requests(None) {
        if entry.method != "POST" || !entry.path.ends_with(":batchUpdate") || entry.status != 200 {
            continue;
        }
        if entry.body_truncated {
            unreadable += 1;
            continue;
        }
        let Ok(body) = serde_json::from_str::<Value>(&entry.body) else {
            unreadable += 1;
            continue;
        };
        for request in body["requests"].as_array().into_iter().flatten() {
            let metadata = request
                .get("updateDeveloperMetadata")
                .or_else(|| request.get("createDeveloperMetadata"))
                .map(|inner| &inner["developerMetadata"]);
            let value = metadata.and_then(|metadata| metadata["metadataValue"].as_str());
            if let Some(checkpoint) =
                value.and_then(|text| serde_json::from_str::<Value>(text).ok())
            {
                if let Some(flush) = checkpoint["flush"].as_str() {
                    flushes.push(flush.to_string());
                }
            }
        }
    }
    (flushes, unreadable)
}

/// The writer run id of a flush id.
pub fn run_id(flush: &str) -> &str {
    flush.rsplit_once('-').map_or(flush, |(run, _)| run)
}

/// Panics when a writer run's flushes resume after another run's: two writers interleaved.
/// The flushes that landed after another writer run's: a run that flushes again once another
/// run took over. With one writer at a time that is only a request sent before its process died
/// and applied late by Sheets (`sync/writer/fence.rs`), which the successor must notice.
pub fn late_flushes(flushes: &[String]) -> Vec<String> {
    let mut finished: Vec<&str> = Vec::new();
    let mut current: Option<&str> = None;
    let mut late = Vec::new();
    for flush in flushes {
        let run = run_id(flush);
        if current == Some(run) {
            continue;
        }
        if finished.contains(&run) {
            late.push(flush.clone());
        }
        if let Some(previous) = current {
            finished.push(previous);
        }
        current = Some(run);
    }
    late
}

pub fn now_iso() -> String {
    let milliseconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    crate::apply_support::iso(milliseconds)
}

/// A signed `POST /webhook` as the Apps Script sends it: (status, JSON answer).
pub async fn post_webhook(port: u16, secret: &str, body: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(body).expect("json");
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let signature = sheetsync::webhook::signature::sign(secret.as_bytes(), &timestamp, &body);
    let response = http()
        .post(format!("http://127.0.0.1:{port}/webhook"))
        .header("X-Sheetsync-Timestamp", timestamp)
        .header("X-Sheetsync-Signature", signature)
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The webhook's edit message for one cell of the row keyed `id` (the row's sheet row `row`).
pub fn cell_edit(
    spreadsheet_id: &str,
    sheet: &str,
    header: &[&str],
    (row, id): (u32, i64),
    (column, new, old): (&str, Value, Value),
    delivery_id: &str,
) -> Value {
    serde_json::json!({
        "version": 1, "delivery_id": delivery_id, "kind": "edit",
        "spreadsheet_id": spreadsheet_id, "sheet": sheet, "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": now_iso(),
        "header": header,
        "rows": [{"row": row, "key": {"id": id}, "values": {column: new}, "old_values": {column: old}}]
    })
}
