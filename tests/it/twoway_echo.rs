//! Both directions in one real service: a signed sheet edit is applied to MySQL, and its binlog
//! echo makes no Sheets write — except the column the database changed itself in the same
//! transaction (`ON UPDATE CURRENT_TIMESTAMP`), which still reaches the sheet.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sheetsync::config::Config;
use sheetsync::sync::pipeline::RunOptions;
use sheetsync::webhook::signature::sign;
use tokio_util::sync::CancellationToken;

use crate::sheets_support::writes_since;
use crate::sync_support::{execute, stored_checkpoint, table_rows, wait_for, SyncBed};

pub const SECRET: &str = "two-way-secret";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

pub fn now_iso() -> String {
    let milliseconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    crate::apply_support::iso(milliseconds)
}

/// The bed's config for the `people` → `People` mapping with the webhook on a free port and
/// this file's secret: what every two-way scenario runs.
pub fn two_way_config(bed: &SyncBed) -> (Config, u16) {
    two_way_config_with(bed, "")
}

/// [`two_way_config`] with `mapping_lines` (e.g. `deletes = true\n`) added to the mapping.
pub fn two_way_config_with(bed: &SyncBed, mapping_lines: &str) -> (Config, u16) {
    let port = free_port();
    let text = bed.config_text(&[("people", "People")], "").replace(
        "[webhook]\nlisten = \"127.0.0.1:0\"",
        &format!("[webhook]\nlisten = \"127.0.0.1:{port}\"\nsecret = \"{SECRET}\""),
    ) + mapping_lines;
    (Config::from_toml(&text).expect("config"), port)
}

/// `sheetsync run`'s service in this process with [`two_way_config`]: the stream, and the
/// webhook listening on `port`.
pub struct TwoWayService {
    pub port: u16,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), sheetsync::service::ServiceError>>,
}

impl TwoWayService {
    pub fn start(bed: &SyncBed) -> TwoWayService {
        TwoWayService::start_with(bed, "")
    }

    /// [`TwoWayService::start`] with `mapping_lines` added to the mapping.
    pub fn start_with(bed: &SyncBed, mapping_lines: &str) -> TwoWayService {
        let (config, port) = two_way_config_with(bed, mapping_lines);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(sheetsync::service::run(
            config,
            RunOptions {
                heartbeat: Duration::from_secs(1),
                ..RunOptions::default()
            },
            shutdown.clone(),
        ));
        TwoWayService {
            port,
            shutdown,
            task,
        }
    }

    /// Graceful stop within 30 s; the service's result.
    pub async fn stop(self) -> Result<(), sheetsync::service::ServiceError> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("stops within 30 s")
            .expect("task")
    }
}

/// A two-way bed: `people (id AUTO_INCREMENT, name, qty)` holding `names` with qty 10, 20, …,
/// the service started with `mapping_lines`, and the initial load in the tab.
pub async fn people_service(
    bed_name: &str,
    names: &[&str],
    mapping_lines: &str,
) -> (SyncBed, TwoWayService) {
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(index, name)| format!("('{name}', {})", (index + 1) * 10))
        .collect();
    let insert = format!("INSERT INTO people (name, qty) VALUES {}", rows.join(", "));
    let bed = SyncBed::start(
        bed_name,
        &[
            "CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), qty INT)",
            &insert,
        ],
    )
    .await;
    let service = TwoWayService::start_with(&bed, mapping_lines);
    crate::sync_support::try_wait_for_tab_to_equal_table(
        &bed,
        "People",
        "people",
        "id, name, qty",
        Duration::from_secs(30),
    )
    .await
    .expect("initial load");
    (bed, service)
}

pub async fn post(port: u16, body: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(body).expect("json");
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let signature = sign(SECRET.as_bytes(), &timestamp, &body);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhook"))
        .header("X-Sheetsync-Timestamp", timestamp)
        .header("X-Sheetsync-Signature", signature)
        .body(body)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until the tab's first three columns equal the table's id, name, qty.
async fn wait_for_three_columns(bed: &SyncBed) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let expected = table_rows(&bed.database.url, "people", "id, name, qty").await;
        let mut actual: Vec<Vec<String>> = bed
            .tab("People")
            .iter()
            .skip(1)
            .map(|row| row.iter().take(3).cloned().collect())
            .collect();
        actual.sort();
        if actual == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tab {actual:?} never equalled table {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_edit_reaches_mysql_and_echoes_nothing_but_the_databases_own_change() {
    let bed = SyncBed::start(
        "twoway_echo",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), qty INT,
              touched TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
            "INSERT INTO people (id, name, qty) VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let service = TwoWayService::start(&bed);
    let port = service.port;
    wait_for_three_columns(&bed).await;
    // The initial load stores its checkpoint in a write of its own after the rows; counting
    // writes starts only once it is there (CI once counted it as an echo).
    wait_for(
        Duration::from_secs(30),
        "the initial load's checkpoint",
        || stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).is_some(),
    )
    .await;
    crate::sync_support::wait_past_the_load_allowance().await;
    let touched_before = bed.tab("People")[1][3].clone();

    // The person types "Ada L." over "ada" in row 2 (the sheet holds it already, as in Google).
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "People!B2",
            vec![vec![json!("Ada L.")]],
            false,
        )
        .expect("the person's edit");
    let since = bed
        .emulator
        .state
        .control
        .requests(None)
        .last()
        .map_or(0, |entry| entry.seq);
    let message = json!({
        "version": 1, "delivery_id": "edit-1", "kind": "edit",
        "spreadsheet_id": bed.spreadsheet_id, "sheet": "People", "sheet_id": 0,
        "sent_at": now_iso(), "user": "person@example.com", "edited_at": now_iso(),
        "header": ["id", "name", "qty", "touched"],
        "rows": [{"row": 2, "key": {"id": 1}, "values": {"name": "Ada L."}, "old_values": {"name": "ada"}}]
    });
    let (status, body) = post(port, &message).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let rows = table_rows(
        &bed.database.url,
        &format!("{}.people", bed.database.name),
        "id, name",
    )
    .await;
    assert_eq!(rows[0], ["1", "Ada L."]);

    // The database's own change in that transaction (touched) reaches the sheet...
    let deadline = Instant::now() + Duration::from_secs(10);
    while bed.tab("People")[1][3] == touched_before {
        assert!(
            Instant::now() < deadline,
            "the ON UPDATE column never reached the sheet"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and then a later, unrelated change proves the stream is past the echo.
    execute(
        &bed.database.url,
        &["UPDATE people SET qty = 21 WHERE id = 2"],
    )
    .await;
    wait_for_three_columns(&bed).await;
    tokio::time::sleep(Duration::from_millis(600)).await; // two flush intervals: nothing else may come

    let writes = writes_since(&bed.emulator, since);
    let bodies: Vec<&str> = writes.iter().map(|entry| entry.body.as_str()).collect();
    assert!(
        bodies.iter().all(|body| !body.contains("Ada L.")),
        "the echo of the person's own value was written back: {bodies:?}"
    );
    assert!(
        writes.len() <= 2,
        "one write for `touched`, one for qty: {bodies:#?}"
    );
    assert_eq!(bed.tab("People")[1][1], "Ada L.");

    // A replay of the same delivery is answered, not applied twice.
    let (status, _) = post(port, &message).await;
    assert_eq!(status, 200);
    let result = service.stop().await;
    assert!(result.is_ok(), "{result:?}");
}
