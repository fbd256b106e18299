//! `webhook`: Sheets → MySQL throughput and latency — signed single-cell edit messages applied
//! by the real webhook service, beside MariaDB's own rate for the same `UPDATE`s in the same run.
//!
//! Consumes a profile (messages, concurrency); produces applied edits/s, the p50/p99 request
//! latency and the ratio to the baseline. The service runs in this process, wired as `sheetsync
//! run` wires it: the pool of `apply::session::pool(mysql.url)`, the `sheetsync` schema,
//! `MysqlApply`, `WebhookState` and `webhook::router::serve` on 127.0.0.1 (only the Sheets
//! client is left out: single-cell edits of existing rows never read the sheet). A client sends
//! each message over HTTP/1.1 (keep-alive) exactly as docs/webhook-protocol.md says, signed
//! with `webhook::signature::sign`, from a fixed number of tasks; every answer must be 200 with
//! `applied`, and afterwards the table, the deliveries and the echo marker are checked.
//!
//! Each message edits its own row (`v` from `'0'` to `'w<id>'`, old value `'0'`), so every
//! compare-and-set runs and passes. Baseline: `UPDATE direct SET v = ? WHERE id = ?`
//! (autocommit, prepared, the same values) on a twin table through `mysql_async` with the same
//! number of connections, on the same server with the same settings (the test bed's: binlog on,
//! `innodb_flush_log_at_trx_commit=2`, `sync_binlog=0`). Latency is measured by the client
//! (send → whole answer read), so it includes the client's share of the 2 CPUs: an upper bound
//! of the service time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use mysql_async::prelude::Queryable as _;
use serde_json::json;
use sheetsync::apply::{ApplyOptions, MysqlApply, RowClock};
use sheetsync::config::{ConflictPolicy, MappingConfig, Secret};
use sheetsync::sync::StructureNotifier;
use sheetsync::webhook::signature::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use sheetsync::webhook::{
    Apply, ApplyFuture, ApplyRequest, ApplyResponse, RowResult, RowStatus, WebhookState,
};
use sheetsync_testbed::MariaDb;
use tokio_util::sync::CancellationToken;

use crate::outcome::{Figure, Target};
use crate::stats::percentile;
use crate::Measured;

const SECRET: &str = "webhook-benchmark-secret";
const SPREADSHEET: &str = "webhook-benchmark";
const SHEET: &str = "Edits";
const ORIGIN: &str = "sheetsync-bench";
/// Messages (and baseline UPDATEs) before the measured ones: connections, prepared statements
/// and the table's pages are warm for both sides.
const WARM_UP: usize = 500;
const TARGET_RATE: f64 = 2_000.0;
const TARGET_P99_MS: f64 = 50.0;
const TARGET_RATIO: f64 = 0.5;

pub struct Profile {
    pub messages: usize,
    pub concurrency: usize,
}

pub fn profile(quick: bool) -> Profile {
    Profile {
        messages: if quick { 4_000 } else { 20_000 },
        concurrency: 8,
    }
}

/// One run of requests: wall time and each request's latency (ms).
struct Run {
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.seconds
    }

    fn percentile(&self, at: f64) -> f64 {
        percentile(&self.latencies_ms, at).unwrap_or(f64::NAN)
    }
}

pub async fn run(profile: Profile) -> anyhow::Result<Measured> {
    let server = tokio::task::block_in_place(MariaDb::start)
        .context("start MariaDB (is mariadb-server installed? ./tests/run.sh installs it)")?;
    let database = server.create_database("webhook").await;
    let rows = WARM_UP + profile.messages;
    let mut connection = mysql_async::Conn::from_url(database.url.as_str())
        .await
        .context("connect to the benchmark database")?;
    for table in ["edits", "direct"] {
        connection
            .query_drop(format!(
                "CREATE TABLE {table} (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL)"
            ))
            .await?;
        connection
            .query_drop(format!(
                "INSERT INTO {table} (id, v) SELECT seq, '0' FROM seq_1_to_{rows}"
            ))
            .await
            .with_context(|| format!("fill {table}"))?;
    }
    let _ = connection.disconnect().await;

    let stop = CancellationToken::new();
    let url = start_service(&server.root_url(), &database.name, stop.clone()).await?;
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(profile.concurrency * 2)
        .build()
        .context("HTTP client")?;

    // Baseline, then the webhook: each warmed up first on rows of its own.
    let direct_pool = mysql_async::Pool::new(database.url.as_str());
    direct_updates(&direct_pool, 1, WARM_UP, profile.concurrency).await?;
    let mariadbd = crate::process::pid_from_file(&server.directory().join("mariadbd.pid"))?;
    let cpu_before = CpuSeconds::of(mariadbd);
    let baseline = direct_updates(
        &direct_pool,
        WARM_UP + 1,
        profile.messages,
        profile.concurrency,
    )
    .await?;
    let baseline_cpu = CpuSeconds::of(mariadbd).since(&cpu_before);
    let _ = direct_pool.disconnect().await;
    let warm_up_bodies = signed_messages(1, WARM_UP);
    send_all(&client, &url, warm_up_bodies, profile.concurrency).await?;
    let bodies = signed_messages(WARM_UP + 1, profile.messages);
    let counters_before = server_counters(&database.url).await?;
    let cpu_before = CpuSeconds::of(mariadbd);
    let webhook = send_all(&client, &url, bodies, profile.concurrency).await?;
    let webhook_cpu = CpuSeconds::of(mariadbd).since(&cpu_before);
    let counters_after = server_counters(&database.url).await?;
    stop.cancel();
    let per_message: Vec<String> = counters_after
        .iter()
        .map(|(name, after)| {
            let before = counters_before.get(name).copied().unwrap_or_default();
            let count = after.saturating_sub(before) as f64 / profile.messages as f64;
            format!("{name} {count:.2}")
        })
        .collect();

    let answer_only = answer_only();
    if !answer_only {
        verify(&database.url, &database.name, rows).await?;
    }

    let mut diagnostic = Vec::new();
    if answer_only {
        diagnostic.push(
            "diagnostic run with BENCH_WEBHOOK_APPLY=answer-only: the service answers `applied` without touching the database (the HTTP, signature, parsing and routing floor); nothing was applied or checked".into(),
        );
    }
    if let Ok(pool) = std::env::var("BENCH_WEBHOOK_POOL") {
        diagnostic.push(format!(
            "diagnostic run with BENCH_WEBHOOK_POOL={pool:?} (the apply step's pool is not the one `sheetsync run` uses)"
        ));
    }
    let mariadb_rate = baseline.rate();
    let rate = webhook.rate();
    let figures = vec![
        Figure::new(
            "applied single-cell edits/s",
            rate,
            "edits/s",
            Target::at_least(TARGET_RATE),
        )
        .against("MariaDB's own rate, same UPDATEs", mariadb_rate, "edits/s"),
        Figure::new(
            "applied single-cell edits/s against MariaDB's own rate",
            rate,
            "edits/s",
            Target::at_least(TARGET_RATIO * mariadb_rate),
        )
        .against("MariaDB's own rate, same UPDATEs", mariadb_rate, "edits/s"),
        Figure::new("request latency p50", webhook.percentile(50.0), "ms", None).against(
            "MariaDB UPDATE p50",
            baseline.percentile(50.0),
            "ms",
        ),
        Figure::new(
            "request latency p99",
            webhook.percentile(99.0),
            "ms",
            Target::at_most(TARGET_P99_MS),
        )
        .against("MariaDB UPDATE p99", baseline.percentile(99.0), "ms"),
    ];
    let notes = vec![
        format!(
            "{} signed single-cell edit messages ({} more to warm up), {} in flight, each editing its own row of a {rows}-row InnoDB table (id INT PRIMARY KEY, v VARCHAR(32)) with its old value, so every compare-and-set runs and passes; all answered 200 `applied`; afterwards the table, `sheetsync.deliveries` and the echo marker were checked",
            profile.messages, WARM_UP, profile.concurrency
        ),
        "the webhook service runs in the runner's process, wired as `sheetsync run` wires it (apply::session::pool, MysqlApply, WebhookState, webhook::router::serve with TCP_NODELAY; no Sheets client), release build; the client is reqwest over HTTP/1.1 keep-alive on 127.0.0.1; bodies are built and signed before the clock starts".into(),
        format!(
            "group commit (apply::batch, {} workers): the messages queued while a transaction runs share the next one (at most {}; a lone message never waits) — one SELECT … FOR UPDATE NOWAIT of all their rows, one UPDATE per message, one echo-marker upsert, one multi-row delivery INSERT, COMMIT (prepared, on pooled connections that keep their session settings and statements); Com_commit per message below is 1 / the mean group size",
            sheetsync::apply::batch::WORKERS,
            sheetsync::apply::batch::MAX_BATCH
        ),
        format!(
            "baseline: `UPDATE direct SET v = ? WHERE id = ?` autocommit, prepared, through mysql_async with {} connections, on the same server (binlog on, innodb_flush_log_at_trx_commit=2, sync_binlog=0) in the same run: {:.0} UPDATEs/s, p50 {:.2} ms, p99 {:.2} ms",
            profile.concurrency,
            mariadb_rate,
            baseline.percentile(50.0),
            baseline.percentile(99.0)
        ),
        format!(
            "webhook: {:.0} edits/s over {:.2} s, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; ratio to MariaDB's rate {:.2} (target ≥ {TARGET_RATIO})",
            rate,
            webhook.seconds,
            webhook.percentile(50.0),
            webhook.percentile(99.0),
            webhook.percentile(100.0),
            rate / mariadb_rate
        ),
        format!(
            "server commands per message (SHOW GLOBAL STATUS, measured phase): {}",
            per_message.join(", ")
        ),
        format!(
            "CPU per 1,000 edits (ms): baseline — mariadbd {:.0}, runner (the client) {:.0}; webhook — mariadbd {:.0}, runner (client and service) {:.0}",
            baseline_cpu.server * 1e6 / profile.messages as f64,
            baseline_cpu.runner * 1e6 / profile.messages as f64,
            webhook_cpu.server * 1e6 / profile.messages as f64,
            webhook_cpu.runner * 1e6 / profile.messages as f64,
        ),
        "latency is the client's (request sent → whole answer read), so it includes the client's share of the machine's CPUs: an upper bound of the service time".into(),
    ];
    Ok(Measured {
        figures,
        notes: [diagnostic, notes].concat(),
    })
}

/// The service as `sheetsync run` starts it (src/service/webhook.rs); its address.
async fn start_service(
    root_url: &str,
    database: &str,
    stop: CancellationToken,
) -> anyhow::Result<String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Diagnostics: BENCH_WEBHOOK_POOL=plain gives the apply step a default `mysql_async` pool
    // (a reset and the session settings on every transaction, nothing kept prepared), to
    // measure what `apply::session::pool` saves.
    let pool = if std::env::var("BENCH_WEBHOOK_POOL").is_ok_and(|pool| pool == "plain") {
        mysql_async::Pool::new(root_url)
    } else {
        sheetsync::apply::session::pool(root_url)?
    };
    sheetsync::apply::schema::ensure(&pool)
        .await
        .context("create the sheetsync schema")?;
    let mappings = vec![MappingConfig {
        name: "edits".into(),
        table: format!("{database}.edits"),
        spreadsheet_id: SPREADSHEET.into(),
        sheet: SHEET.into(),
        columns: None,
        conflict: ConflictPolicy::LastWriteWins,
        column_conflict: Default::default(),
        deletes: false,
    }];
    // The writers' end of the write-backs: none are expected (no conflict, no refusal), but a
    // receiver keeps the channel open as the pipeline's does.
    let (write_back, mut write_backs) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move { while write_backs.recv().await.is_some() {} });
    let apply = MysqlApply::new(
        pool,
        &mappings,
        ApplyOptions {
            origin: ORIGIN.into(),
            write_back,
            structure: StructureNotifier::default(),
            row_clock: RowClock::new(1_000_000),
            sheets: None,
            cells: Default::default(),
        },
    )
    .await
    .context("MysqlApply::new")?;
    let apply: Arc<dyn Apply> = if answer_only() {
        Arc::new(AnswerOnly)
    } else {
        Arc::new(apply)
    };
    let state = WebhookState::new(Secret::new(SECRET.into()), &mappings, apply);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind")?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(error) = sheetsync::webhook::router::serve(listener, state, stop).await {
            eprintln!("webhook listener failed: {error}");
        }
    });
    Ok(url)
}

/// Diagnostics: BENCH_WEBHOOK_APPLY=answer-only puts [`AnswerOnly`] behind the router, to
/// measure what a message costs before the apply step.
fn answer_only() -> bool {
    std::env::var("BENCH_WEBHOOK_APPLY").is_ok_and(|apply| apply == "answer-only")
}

/// Answers every edited row `applied` without a database.
struct AnswerOnly;

impl Apply for AnswerOnly {
    fn apply(&self, request: ApplyRequest) -> ApplyFuture<'_> {
        Box::pin(async move {
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
            Ok(ApplyResponse { results })
        })
    }
}

/// A signed message (timestamp, signature, body) per row `first..first + count`.
fn signed_messages(first: usize, count: usize) -> Vec<(String, String, Vec<u8>)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let timestamp = now.to_string();
    let run = std::process::id();
    (first..first + count)
        .map(|id| {
            let body = json!({
                "version": 1, "delivery_id": format!("bench-{run}-{id}"), "kind": "edit",
                "spreadsheet_id": SPREADSHEET, "sheet": SHEET, "sheet_id": 0,
                "sent_at": "2026-01-01T00:00:00.000Z", "user": "editor@example.com",
                "edited_at": "2026-01-01T00:00:00.000Z", "header": ["id", "v"],
                "rows": [{"row": id + 1, "key": {"id": id}, "values": {"v": format!("w{id}")},
                          "old_values": {"v": "0"}}]
            })
            .to_string()
            .into_bytes();
            let signature = sign(SECRET.as_bytes(), &timestamp, &body);
            (timestamp.clone(), signature, body)
        })
        .collect()
}

async fn send_all(
    client: &reqwest::Client,
    url: &str,
    messages: Vec<(String, String, Vec<u8>)>,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let messages = Arc::new(std::sync::Mutex::new(messages.into_iter()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, messages) = (client.clone(), url.to_string(), messages.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = messages
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .next();
                let Some((timestamp, signature, body)) = next else {
                    return Ok::<_, anyhow::Error>(latencies);
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(TIMESTAMP_HEADER, timestamp)
                    .header(SIGNATURE_HEADER, signature)
                    .body(body)
                    .send()
                    .await
                    .context("POST /webhook")?;
                let status = response.status();
                let answer = response.bytes().await.context("read the answer")?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                let applied = serde_json::from_slice::<serde_json::Value>(&answer)
                    .ok()
                    .is_some_and(|answer| answer["results"][0]["status"] == "applied");
                if !status.is_success() || !applied {
                    bail!(
                        "expected 200 applied, got {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
            }
        });
    }
    collect(tasks, started).await
}

/// `UPDATE direct SET v = ? WHERE id = ?` for rows `first..first + count`, autocommit.
async fn direct_updates(
    pool: &mysql_async::Pool,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (pool, next) = (pool.clone(), next.clone());
        tasks.spawn(async move {
            let mut connection = pool.get_conn().await?;
            let mut latencies = Vec::new();
            loop {
                let id = next.fetch_add(1, Ordering::Relaxed);
                if id >= end {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let sent = Instant::now();
                connection
                    .exec_drop(
                        "UPDATE direct SET v = ? WHERE id = ?",
                        (format!("w{id}"), id),
                    )
                    .await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                if connection.affected_rows() != 1 {
                    bail!(
                        "UPDATE of id {id} changed {} rows",
                        connection.affected_rows()
                    );
                }
            }
        });
    }
    collect(tasks, started).await
}

async fn collect(
    mut tasks: tokio::task::JoinSet<anyhow::Result<Vec<f64>>>,
    started: Instant,
) -> anyhow::Result<Run> {
    let mut latencies_ms = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        latencies_ms.extend(joined.context("sender task")??);
    }
    Ok(Run {
        seconds: started.elapsed().as_secs_f64(),
        latencies_ms,
    })
}

/// Every row holds its new value on both tables, and every message left its delivery answer and
/// an echo marker.
async fn verify(url: &str, database: &str, rows: usize) -> anyhow::Result<()> {
    let mut connection = mysql_async::Conn::from_url(url).await?;
    for table in ["edits", "direct"] {
        let changed: Option<u64> = connection
            .query_first(format!(
                "SELECT COUNT(*) FROM {table} WHERE v = CONCAT('w', id)"
            ))
            .await?;
        if changed != Some(rows as u64) {
            bail!("{table}: {changed:?} of {rows} rows hold their new value");
        }
    }
    let deliveries: Option<u64> = connection
        .query_first("SELECT COUNT(*) FROM sheetsync.deliveries WHERE mapping = 'edits'")
        .await?;
    if deliveries != Some(rows as u64) {
        bail!("{deliveries:?} delivery answers stored for {rows} messages");
    }
    let markers: Option<u64> = connection
        .exec_first(
            "SELECT COUNT(*) FROM sheetsync.echo_marker WHERE origin = ? AND cells LIKE ?",
            (ORIGIN, format!("%{database}.edits%")),
        )
        .await?;
    if markers.unwrap_or(0) == 0 {
        bail!("no echo marker of origin {ORIGIN} names {database}.edits");
    }
    let _ = connection.disconnect().await;
    Ok(())
}

/// The server's command counters that say how many round trips an edit costs.
async fn server_counters(url: &str) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let mut connection = mysql_async::Conn::from_url(url).await?;
    let rows: Vec<(String, String)> = connection
        .query(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_prepare', \
             'Com_stmt_execute', 'Com_stmt_close', 'Com_begin', 'Com_commit', 'Com_rollback', \
             'Com_set_option')",
        )
        .await?;
    let _ = connection.disconnect().await;
    Ok(rows
        .into_iter()
        .map(|(name, value)| (name, value.parse().unwrap_or_default()))
        .collect())
}

/// CPU time (user + system) of mariadbd and of this runner, from /proc (USER_HZ = 100 ticks
/// per second on Linux).
struct CpuSeconds {
    server: f64,
    runner: f64,
}

impl CpuSeconds {
    fn of(server: u32) -> CpuSeconds {
        CpuSeconds {
            server: process_cpu_seconds(&server.to_string()),
            runner: process_cpu_seconds("self"),
        }
    }

    fn since(&self, before: &CpuSeconds) -> CpuSeconds {
        CpuSeconds {
            server: self.server - before.server,
            runner: self.runner - before.runner,
        }
    }
}

/// `utime + stime` of /proc/PID/stat in seconds; 0 when unreadable (the note then shows 0).
fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or_default()
    };
    (ticks(11) + ticks(12)) / 100.0
}
