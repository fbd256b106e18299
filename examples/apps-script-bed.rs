//! A test bed for running the real Apps Script (in Node) against the real service:
//! `apps-script/test/service.test.js` starts it once.
//!
//! Starts, all on 127.0.0.1: a throwaway MariaDB (the test bed crate) with a database holding
//! `orders` (30 rows), sheetsync's schema and a `sheetsync` user with exactly the grants of
//! `mysql-conf/grants.sql`; the Sheets emulator in this process with an empty spreadsheet; and
//! `sheetsync run` (the real binary, `--sheetsync PATH`, default beside this example's
//! directory) as that user. When `/readyz` answers 200 it prints one JSON line:
//! `{"webhook_url","secret","emulator_url","spreadsheet_id","sheet","bed_url","database","table"}`.
//!
//! The bed's own routes (at `bed_url`), for the test to play the person and look at MySQL:
//! - `GET /sheet`: the tab's values as `values.get(UNFORMATTED_VALUE)` returns them;
//! - `POST /sheet/values` `{"range","values"}`: write cells as a person types them (RAW);
//! - `POST /sheet/batch-update` (a `spreadsheets.batchUpdate` body): e.g. delete a row;
//! - `POST /sql` (SQL text, run as root) → `{"rows":[[…]]}` (cells as text or null) or 400
//!   `{"error"}`;
//! - `GET /log`: the end of sheetsync's log, for failure messages.
//!
//! Guarantees nothing outlives it: it exits when its standard input closes (the test ended,
//! however it ended) or after `--lifetime-seconds`; sheetsync runs under a watchdog shell that
//! kills it when this process's pipe to it closes, and MariaDB has the test bed's own watchdog.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use mysql_async::prelude::Queryable;
use serde::Deserialize;
use serde_json::{json, Value};
use sheets_emulator::{EmulatorConfig, RunningEmulator};
use sheetsync_testbed::MariaDb;
use tokio_util::sync::CancellationToken;

const SHEET: &str = "Orders";
const SECRET: &str = "apps-script-bed-\u{0441}\u{0435}\u{043a}\u{0440}\u{0435}\u{0442}";
const PASSWORD: &str = "apps-script-bed";
const SEED_ROWS: u32 = 30;

#[derive(Parser)]
struct Arguments {
    /// The `sheetsync` binary (default: `../sheetsync` from this example's directory).
    #[arg(long)]
    sheetsync: Option<PathBuf>,
    #[arg(long, default_value_t = 600)]
    lifetime_seconds: u64,
}

struct Bed {
    emulator: RunningEmulator,
    spreadsheet_id: String,
    root: mysql_async::Pool,
    log: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn seed_statements() -> Vec<String> {
    let mut statements = vec!["CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, \
         customer VARCHAR(60) NOT NULL DEFAULT '', city VARCHAR(40) NULL, qty INT NULL, \
         total DECIMAL(10,2) NULL, status VARCHAR(20) NULL)"
        .to_string()];
    let rows: Vec<String> = (1..=SEED_ROWS)
        .map(|id| format!("({id}, 'customer {id}', 'city {id}', {id}, {id}.50, 'new')"))
        .collect();
    statements.push(format!(
        "INSERT INTO orders (id, customer, city, qty, total, status) VALUES {}",
        rows.join(", ")
    ));
    statements
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sheetsync = match arguments.sheetsync {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .context("no parent directory of this example")?
            .join("sheetsync"),
    };
    anyhow::ensure!(sheetsync.exists(), "{} is missing", sheetsync.display());
    let directory = tempfile::tempdir()?;

    let server = MariaDb::start()?;
    let database = server.create_database("apps_script").await;
    for statement in seed_statements() {
        let mut connection = mysql_async::Conn::from_url(database.url.as_str()).await?;
        connection.query_drop(statement).await?;
        connection.disconnect().await?;
    }
    let root = mysql_async::Pool::new(server.root_url().as_str());
    sheetsync::apply::schema::ensure(&root)
        .await
        .map_err(|error| anyhow::anyhow!("schema: {error}"))?;
    let grants = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mysql-conf/grants.sql"
    ))?
    .replace("`shop`", &format!("`{}`", database.name))
    .replace("'change-me'", &format!("'{PASSWORD}'"));
    server.execute(&grants).await;

    let emulator = sheets_emulator::start(
        "127.0.0.1:0".parse::<SocketAddr>()?,
        EmulatorConfig {
            generated_key_path: Some(directory.path().join("service-account.json")),
            ..EmulatorConfig::default()
        },
    )
    .await?;
    let key_file = emulator.key_file.clone().context("no generated key file")?;
    let spreadsheet_id = emulator
        .state
        .store
        .create_spreadsheet("apps-script-bed", &[SHEET]);

    let (webhook_port, admin_port) = (free_port()?, free_port()?);
    let config = format!(
        "[mysql]\nurl = \"mysql://sheetsync:{PASSWORD}@127.0.0.1:{}\"\nserver_id = {}\n\
         [google]\ncredentials_file = \"{}\"\napi_base = \"{}\"\n\
         [webhook]\nlisten = \"127.0.0.1:{webhook_port}\"\nsecret = \"{SECRET}\"\n\
         [metrics]\nlisten = \"127.0.0.1:{admin_port}\"\n\
         [[mapping]]\ntable = \"{}.orders\"\nspreadsheet_id = \"{spreadsheet_id}\"\nsheet = \"{SHEET}\"\n",
        server.port(),
        server.server_id() + 1000,
        key_file.display(),
        emulator.base_url,
        database.name,
    );
    let config_path = directory.path().join("sheetsync.toml");
    std::fs::write(&config_path, config)?;
    let log = directory.path().join("sheetsync.log");
    let mut watchdog = spawn_service(&sheetsync, &config_path, &log)?;

    wait_until_ready(admin_port, &log).await?;

    let stop = CancellationToken::new();
    let bed = Arc::new(Bed {
        emulator,
        spreadsheet_id: spreadsheet_id.clone(),
        root,
        log,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bed_url = format!("http://{}", listener.local_addr()?);
    println!(
        "{}",
        json!({
            "webhook_url": format!("http://127.0.0.1:{webhook_port}/webhook"),
            "secret": SECRET,
            "emulator_url": bed.emulator.base_url,
            "spreadsheet_id": spreadsheet_id,
            "sheet": SHEET,
            "bed_url": bed_url,
            "database": database.name,
            "table": format!("{}.orders", database.name),
        })
    );
    let stdin_closed = stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        stdin_closed.cancel();
    });
    let serving = stop.clone();
    let served = axum::serve(listener, routes(bed.clone()))
        .with_graceful_shutdown(async move { serving.cancelled().await });
    tokio::select! {
        result = served => result?,
        () = tokio::time::sleep(Duration::from_secs(arguments.lifetime_seconds)) => {
            eprintln!("apps-script-bed: lifetime over, exiting");
        }
    }
    // Closing the watchdog's standard input stops sheetsync before MariaDB goes.
    drop(watchdog.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), watchdog.wait()).await;
    drop(server);
    Ok(())
}

/// `sheetsync run` under `sh`, which kills it when its standard input (our pipe) closes.
fn spawn_service(
    sheetsync: &std::path::Path,
    config: &std::path::Path,
    log: &std::path::Path,
) -> anyhow::Result<tokio::process::Child> {
    let script = r#""$0" run --config "$1" >>"$2" 2>&1 </dev/null & pid=$!
cat >/dev/null
kill "$pid" 2>/dev/null
wait "$pid""#;
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(sheetsync)
        .arg(config)
        .arg(log)
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    Ok(child)
}

async fn wait_until_ready(admin_port: u16, log: &std::path::Path) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = client
            .get(format!("http://127.0.0.1:{admin_port}/readyz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            anyhow::bail!("sheetsync was not ready within 120 s; its log:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn routes(bed: Arc<Bed>) -> Router {
    Router::new()
        .route("/sheet", get(sheet))
        .route("/sheet/values", post(set_values))
        .route("/sheet/batch-update", post(batch_update))
        .route("/sql", post(sql))
        .route("/log", get(log_tail))
        .with_state(bed)
}

type Answer = (StatusCode, Json<Value>);

fn refused(error: impl std::fmt::Display) -> Answer {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error.to_string() })),
    )
}

async fn sheet(State(bed): State<Arc<Bed>>) -> Answer {
    match bed
        .emulator
        .state
        .store
        .sheet_values(&bed.spreadsheet_id, SHEET)
    {
        Some(values) => (StatusCode::OK, Json(json!({ "values": values }))),
        None => refused("no such tab"),
    }
}

#[derive(Deserialize)]
struct SetValues {
    range: String,
    values: Vec<Vec<Value>>,
}

async fn set_values(State(bed): State<Arc<Bed>>, Json(request): Json<SetValues>) -> Answer {
    match bed.emulator.state.store.set_values(
        &bed.spreadsheet_id,
        &request.range,
        request.values,
        false,
    ) {
        Ok(answer) => (StatusCode::OK, Json(answer)),
        Err(error) => refused(format!("{error:?}")),
    }
}

async fn batch_update(State(bed): State<Arc<Bed>>, Json(body): Json<Value>) -> Answer {
    match bed
        .emulator
        .state
        .store
        .batch_update(&bed.spreadsheet_id, &body)
    {
        Ok(answer) => (StatusCode::OK, Json(answer)),
        Err(error) => refused(format!("{error:?}")),
    }
}

async fn sql(State(bed): State<Arc<Bed>>, text: String) -> Answer {
    let result = async {
        let mut connection = bed.root.get_conn().await?;
        let rows: Vec<mysql_async::Row> = connection.query(text).await?;
        Ok::<_, mysql_async::Error>(rows)
    }
    .await;
    match result {
        Ok(rows) => {
            let rows: Vec<Vec<Value>> = rows
                .into_iter()
                .map(|row| {
                    (0..row.len())
                        .map(|index| row.as_ref(index).cloned().map_or(Value::Null, cell_json))
                        .collect()
                })
                .collect();
            (StatusCode::OK, Json(json!({ "rows": rows })))
        }
        Err(error) => refused(error),
    }
}

/// A result cell as text (what the `mariadb` client prints), NULL as null.
fn cell_json(value: mysql_async::Value) -> Value {
    match value {
        mysql_async::Value::NULL => Value::Null,
        mysql_async::Value::Bytes(bytes) => Value::String(String::from_utf8_lossy(&bytes).into()),
        other => Value::String(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

async fn log_tail(State(bed): State<Arc<Bed>>) -> String {
    let text = tokio::fs::read_to_string(&bed.log)
        .await
        .unwrap_or_default();
    let skip = text.chars().count().saturating_sub(6000);
    text.chars().skip(skip).collect()
}
