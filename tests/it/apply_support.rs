//! The real apply path for the `apply_*` scenarios: a database on a real MariaDB, `MysqlApply`
//! behind the real signed webhook router on 127.0.0.1:0, and the write-backs it sends.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use sheetsync::apply::{ApplyOptions, MysqlApply, RowClock};
use sheetsync::config::{ConflictPolicy, MappingConfig, Secret};
use sheetsync::sync::{StructureNotifier, WriteBack};
use sheetsync::webhook::signature::sign;
use sheetsync::webhook::{router, WebhookState};
use sheetsync_testbed::MariaDb;
use tokio::sync::mpsc;

pub const SECRET: &str = "apply-test-secret";
pub const SPREADSHEET: &str = "sheet-apply";

pub struct ApplyBed {
    pub database: String,
    /// Root pool on the test database's server (the apply step uses its own pool too).
    pub pool: mysql_async::Pool,
    pub url: String,
    pub write_backs: mpsc::Receiver<WriteBack>,
    pub structure: StructureNotifier,
    pub clock: RowClock,
    pub origin: String,
    pub mappings: Vec<MappingConfig>,
    client: reqwest::Client,
}

/// A mapping of `database.table` to tab `sheet` of the test spreadsheet.
pub fn mapping(
    database: &str,
    table: &str,
    sheet: &str,
    conflict: ConflictPolicy,
) -> MappingConfig {
    MappingConfig {
        name: sheet.to_lowercase(),
        table: format!("{database}.{table}"),
        spreadsheet_id: SPREADSHEET.into(),
        sheet: sheet.into(),
        columns: None,
        conflict,
        column_conflict: Default::default(),
        deletes: true,
    }
}

impl ApplyBed {
    /// A fresh database on `server` with `statements` run in it, and the router serving
    /// `mappings` (built from the database name).
    pub async fn start(
        server: &MariaDb,
        prefix: &str,
        statements: &[&str],
        mappings: impl FnOnce(&str) -> Vec<MappingConfig>,
    ) -> ApplyBed {
        let (database, pool) = prepare(server, prefix, statements).await;
        let mappings = mappings(&database);
        Self::serve(database, pool, mappings).await
    }

    /// The router with a new `MysqlApply` (as after a restart) on an existing database.
    pub async fn serve(
        database: String,
        pool: mysql_async::Pool,
        mappings: Vec<MappingConfig>,
    ) -> ApplyBed {
        Self::serve_with(database, pool, mappings, None).await
    }

    /// Like [`ApplyBed::serve`], reading key columns through `sheets`.
    pub async fn serve_with(
        database: String,
        pool: mysql_async::Pool,
        mappings: Vec<MappingConfig>,
        sheets: Option<Arc<sheetsync::sheets::SheetsClient>>,
    ) -> ApplyBed {
        Self::serve_with_cells(database, pool, mappings, sheets, Default::default()).await
    }

    /// Like [`ApplyBed::serve_with`], with the writer's cell options (`sync.time_zone`, …).
    pub async fn serve_with_cells(
        database: String,
        pool: mysql_async::Pool,
        mappings: Vec<MappingConfig>,
        sheets: Option<Arc<sheetsync::sheets::SheetsClient>>,
        cells: sheetsync::cell::CellOptions,
    ) -> ApplyBed {
        let _ = rustls::crypto::ring::default_provider().install_default();
        counter("", &[]);
        let (sender, write_backs) = mpsc::channel(1024);
        let structure = StructureNotifier::default();
        let clock = RowClock::default();
        let origin = format!("it-{database}");
        let apply = MysqlApply::new(
            pool.clone(),
            &mappings,
            ApplyOptions {
                origin: origin.clone(),
                write_back: sender,
                structure: structure.clone(),
                row_clock: clock.clone(),
                sheets,
                cells,
            },
        )
        .await
        .expect("MysqlApply::new");
        let state = WebhookState::new(
            Secret::new(SECRET.into()),
            &mappings,
            Arc::new(apply.clone()),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/webhook", listener.local_addr().expect("address"));
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, router(state)).await.expect("serve") });
        ApplyBed {
            database,
            pool,
            url,
            write_backs,
            structure,
            clock,
            origin,
            mappings,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs `body` signed now; returns the status and the JSON answer.
    pub async fn send(&self, body: &Value) -> (u16, Value) {
        let body = body.to_string().into_bytes();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            .to_string();
        let signature = sign(SECRET.as_bytes(), &timestamp, &body);
        let response = self
            .client
            .post(&self.url)
            .header("x-sheetsync-timestamp", timestamp)
            .header("x-sheetsync-signature", signature)
            .body(body)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    /// Rows of a query, each column as text (NULL as `None`).
    pub async fn rows(&self, query: &str) -> Vec<Vec<Option<String>>> {
        let mut connection = self.pool.get_conn().await.expect("connect");
        let rows: Vec<mysql_async::Row> = connection
            .query(query)
            .await
            .unwrap_or_else(|error| panic!("{query}: {error}"));
        rows.into_iter()
            .map(|row| {
                (0..row.len())
                    .map(|index| match row.as_ref(index) {
                        Some(mysql_async::Value::NULL) | None => None,
                        Some(mysql_async::Value::Bytes(bytes)) => {
                            Some(String::from_utf8_lossy(bytes).into_owned())
                        }
                        Some(other) => Some(other.as_sql(true).trim_matches('\'').to_string()),
                    })
                    .collect()
            })
            .collect()
    }

    pub async fn execute(&self, statement: &str) {
        let mut connection = self.pool.get_conn().await.expect("connect");
        connection
            .query_drop(statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }

    /// Write-backs already sent (waits briefly for the first when `expected` > 0).
    pub async fn take_write_backs(&mut self, expected: usize) -> Vec<WriteBack> {
        let mut taken = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while taken.len() < expected {
            match tokio::time::timeout_at(deadline, self.write_backs.recv()).await {
                Ok(Some(write_back)) => taken.push(write_back),
                _ => break,
            }
        }
        while let Ok(write_back) = self.write_backs.try_recv() {
            taken.push(write_back);
        }
        taken
    }
}

/// A fresh database with `statements` run in it and the sheetsync schema: (name, root pool).
pub async fn prepare(
    server: &MariaDb,
    prefix: &str,
    statements: &[&str],
) -> (String, mysql_async::Pool) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    counter("", &[]);
    let database = server.create_database(prefix).await;
    let pool = mysql_async::Pool::new(database.url.as_str());
    let mut connection = pool.get_conn().await.expect("connect");
    for statement in statements {
        connection
            .query_drop(*statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    drop(connection);
    sheetsync::apply::schema::ensure(&pool)
        .await
        .expect("create the sheetsync schema");
    (database.name, pool)
}

/// An edit message of tab `sheet` with `rows` (each `{row, key, values, old_values?}`).
pub fn edit(delivery_id: &str, sheet: &str, header: &[&str], rows: Value) -> Value {
    edit_at(delivery_id, sheet, header, rows, &now_iso())
}

pub fn edit_at(
    delivery_id: &str,
    sheet: &str,
    header: &[&str],
    rows: Value,
    edited_at: &str,
) -> Value {
    json!({
        "version": 1, "delivery_id": delivery_id, "kind": "edit",
        "spreadsheet_id": SPREADSHEET, "sheet": sheet, "sheet_id": 0,
        "sent_at": now_iso(), "user": "editor@example.com",
        "edited_at": edited_at, "header": header, "rows": rows
    })
}

/// A structure report of tab `sheet`: `keys` is every data row's key cells.
pub fn structure(
    delivery_id: &str,
    sheet: &str,
    change_type: &str,
    key_columns: &[&str],
    keys: Value,
) -> Value {
    json!({
        "version": 1, "delivery_id": delivery_id, "kind": "structure",
        "spreadsheet_id": SPREADSHEET, "sheet": sheet, "sheet_id": 0,
        "sent_at": now_iso(), "user": null, "change_type": change_type,
        "changed_at": now_iso(), "key_columns": key_columns, "keys": keys
    })
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ` of a unix time in milliseconds.
pub fn iso(unix_milliseconds: i64) -> String {
    let seconds = unix_milliseconds.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let date = sheetsync::apply::typed::civil_from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year,
        date.month,
        date.day,
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        unix_milliseconds.rem_euclid(1000)
    )
}

pub fn now_milliseconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

pub fn now_iso() -> String {
    iso(now_milliseconds())
}

/// A unique delivery id for this test process.
pub fn delivery(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The running total of a counter the code recorded in this test process, read from the
/// service's own process-wide Prometheus recorder (`sheetsync::metrics::install`, idempotent),
/// so in-process services and these scenarios share one recorder whichever starts first.
/// Counters of other scenarios running at once are included: compare before and after.
pub fn counter(name: &str, labels: &[(&str, &str)]) -> u64 {
    let handle = sheetsync::metrics::install().expect("the Prometheus recorder");
    let mut wanted: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{value}\""))
        .collect();
    wanted.sort();
    handle
        .render()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, mut labels) = match series.split_once('{') {
                Some((metric, rest)) => (
                    metric,
                    rest.trim_end_matches('}')
                        .split(',')
                        .filter(|label| !label.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                ),
                None => (series, Vec::new()),
            };
            labels.sort();
            (metric == name && labels == wanted).then(|| value.parse::<f64>().ok())?
        })
        .map(|value| value as u64)
        .sum()
}
