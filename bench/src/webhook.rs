//! `webhook`: Sheets → MySQL throughput and latency — signed single-cell edit messages applied
//! by the real webhook service, beside MariaDB's own rate for the same `UPDATE`s in the same run.
//!
//! Consumes a profile (messages, levels of concurrency); produces, at each level, applied
//! edits/s and the p50/p99 request latency beside the baseline's, and judges the best level
//! of each side against the other's best (a level too high for MariaDB's own connections
//! must not flatter the ratio). The service runs in this process, wired as `sheetsync
//! run` wires it: the pool of `apply::session::pool(mysql.url)`, the `sheetsync` schema,
//! `MysqlApply`, `WebhookState` and `webhook::router::serve` on 127.0.0.1 (only the Sheets
//! client is left out: single-cell edits of existing rows never read the sheet). A client sends
//! each message over HTTP/1.1 (keep-alive) exactly as docs/webhook-protocol.md says, signed
//! with `webhook::signature::sign`, from a fixed number of tasks; every answer must be 200 with
//! `applied`, and afterwards the table, the deliveries and the echo marker are checked.
//!
//! Each message edits its own row (`v` from `'0'` to `'w<id>'`, old value `'0'`), so every
//! compare-and-set runs and passes. Baseline: `UPDATE direct SET v = ? WHERE id = ?`
//! (autocommit, prepared, the same values) on a twin table through `mysql_async` with as many
//! connections as messages in flight, on the same server with the same settings (the test bed's: binlog on,
//! `innodb_flush_log_at_trx_commit=2`, `sync_binlog=0`). Latency is measured by the client
//! (send → whole answer read), so it includes the client's share of the 2 CPUs: an upper bound
//! of the service time.

use std::sync::Arc;

use anyhow::Context as _;
use mysql_async::prelude::Queryable as _;
use sheetsync::apply::{ApplyOptions, MysqlApply, RowClock};
use sheetsync::config::{ConflictPolicy, MappingConfig, Secret};
use sheetsync::sync::StructureNotifier;
use sheetsync::webhook::{
    Apply, ApplyFuture, ApplyRequest, ApplyResponse, RowResult, RowStatus, WebhookState,
};
use sheetsync_testbed::MariaDb;
use tokio_util::sync::CancellationToken;

use crate::outcome::{Figure, Target};
use crate::Measured;
use load::{verify, CpuSeconds, Run};
use round::{measure_level, Setup, ROUNDS};

mod http;
mod load;
mod round;

const SECRET: &str = "webhook-benchmark-secret";
const SPREADSHEET: &str = "webhook-benchmark";
const SHEET: &str = "Edits";
const ORIGIN: &str = "sheetsync-bench";
/// Messages (and baseline UPDATEs) before the measured ones: connections, prepared statements
/// and the table's pages are warm for both sides.
pub(crate) const WARM_UP: usize = 500;
const TARGET_RATE: f64 = 2_000.0;
const TARGET_P99_MS: f64 = 50.0;
const TARGET_RATIO: f64 = 0.5;

pub struct Profile {
    pub messages: usize,
    /// Messages in flight (and baseline connections), one measured level each.
    pub levels: Vec<usize>,
}

/// The highest level measured: as many messages in flight as the group-commit workers can take
/// into their transactions at once (each at most `MAX_BATCH`). Below it groups are smaller than
/// they may be; above it messages only wait in the queue, so the rate stops rising and latency
/// grows with the level.
const TOP_LEVEL: usize = sheetsync::apply::batch::WORKERS * sheetsync::apply::batch::MAX_BATCH;

/// `BENCH_WEBHOOK_CONCURRENCY=8,64` measures only those levels.
pub fn profile(quick: bool) -> Profile {
    let levels = std::env::var("BENCH_WEBHOOK_CONCURRENCY")
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|level| level.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|levels| !levels.is_empty())
        .unwrap_or_else(|| vec![8, 32, 64, TOP_LEVEL]);
    Profile {
        messages: if quick { 4_000 } else { 20_000 },
        levels,
    }
}

/// Both sides measured at one number of messages in flight.
struct Level {
    concurrency: usize,
    baseline: Run,
    webhook: Run,
    baseline_cpu: CpuSeconds,
    webhook_cpu: CpuSeconds,
    per_message: Vec<String>,
}

pub async fn run(profile: Profile) -> anyhow::Result<Measured> {
    let server = tokio::task::block_in_place(MariaDb::start)
        .context("start MariaDB (is mariadb-server installed? ./tests/run.sh installs it)")?;
    let database = server.create_database("webhook").await;
    // Each round of each level edits rows of its own: WARM_UP, then the measured messages.
    let block = WARM_UP + profile.messages;
    let rows = block * profile.levels.len() * ROUNDS;
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
    let mariadbd = crate::process::pid_from_file(&server.directory().join("mariadbd.pid"))?;
    let mut levels = Vec::new();
    for (index, &concurrency) in profile.levels.iter().enumerate() {
        let setup = Setup {
            concurrency,
            messages: profile.messages,
            webhook_url: url.clone(),
            database_url: database.url.clone(),
            mariadbd,
        };
        let first_row = |round: usize| (index * ROUNDS + round) * block + 1;
        let (baseline, webhook) = measure_level(&setup, first_row).await?;
        levels.push(Level {
            concurrency,
            baseline: baseline.run,
            webhook: webhook.run,
            baseline_cpu: baseline.cpu,
            webhook_cpu: webhook.cpu,
            per_message: webhook.per_message,
        });
    }
    stop.cancel();

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
    let best = |rate: fn(&Level) -> f64| {
        levels
            .iter()
            .max_by(|left, right| rate(left).total_cmp(&rate(right)))
            .context("no level measured")
    };
    let webhook_best = best(|level| level.webhook.rate())?;
    let baseline_best = best(|level| level.baseline.rate())?;
    let (rate, mariadb_rate) = (webhook_best.webhook.rate(), baseline_best.baseline.rate());
    let worst_p99 = levels
        .iter()
        .map(|level| level.webhook.percentile(99.0))
        .fold(0.0, f64::max);
    let mut figures = vec![
        Figure::new(
            "applied single-cell edits/s (best level)",
            rate,
            "edits/s",
            Target::at_least(TARGET_RATE),
        )
        .against("MariaDB's best rate, same UPDATEs", mariadb_rate, "edits/s"),
        Figure::new(
            "applied single-cell edits/s against MariaDB's own rate, best against best",
            rate,
            "edits/s",
            Target::at_least(TARGET_RATIO * mariadb_rate),
        )
        .against("MariaDB's best rate, same UPDATEs", mariadb_rate, "edits/s"),
        Figure::new(
            "request latency p50 (best level)",
            webhook_best.webhook.percentile(50.0),
            "ms",
            None,
        )
        .against(
            "MariaDB UPDATE p50, same level",
            webhook_best.baseline.percentile(50.0),
            "ms",
        ),
        Figure::new(
            "request latency p99 (worst level)",
            worst_p99,
            "ms",
            Target::at_most(TARGET_P99_MS),
        ),
    ];
    for level in &levels {
        figures.push(
            Figure::new(
                &format!("edits/s, {} in flight", level.concurrency),
                level.webhook.rate(),
                "edits/s",
                None,
            )
            .against(
                &format!("MariaDB, {} connections", level.concurrency),
                level.baseline.rate(),
                "edits/s",
            ),
        );
    }
    let mut notes = vec![
        format!(
            "{} signed single-cell edit messages ({} more to warm up) per round, {ROUNDS} rounds per level alternating with the baseline's (each side's round of median rate is reported; MariaDB idle before every measured round), at {} messages in flight, each editing its own row of a {rows}-row InnoDB table (id INT PRIMARY KEY, v VARCHAR(32)) with its old value, so every compare-and-set runs and passes; all answered 200 `applied`; afterwards the table, `sheetsync.deliveries` and the echo marker were checked",
            profile.messages,
            WARM_UP,
            profile.levels.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
        "the webhook service runs in the runner's process, wired as `sheetsync run` wires it (apply::session::pool, MysqlApply, WebhookState, webhook::router::serve with TCP_NODELAY; no Sheets client), release build; the client is a minimal HTTP/1.1 load generator in the way of wrk (bench/src/webhook/load.rs: one keep-alive connection per message in flight on 127.0.0.1, each request written whole with one write, answers parsed with httparse — hyper's parser — and read to their Content-Length; it costs about what the baseline's mysql_async client costs), on a thread of its own with a single-threaded runtime (as is the baseline's mysql_async client), so its CPU is told apart from the service's (the runner's CPU but that thread's); bodies are built and signed before the clock starts".into(),
        format!(
            "group commit (apply::batch, {} workers): the messages queued while a transaction runs share the next one (at most {}; a lone message never waits; the top level, {TOP_LEVEL} in flight, is what both workers can take at once) — one SELECT … FOR UPDATE NOWAIT of all their rows, one UPDATE of all their rows (apply::held: SET v = CASE WHEN id = ? THEN ? … END WHERE id IN (…)), one echo-marker upsert, one multi-row delivery INSERT, COMMIT (prepared, on pooled connections that keep their session settings and statements); Com_commit per message below is 1 / the mean group size",
            sheetsync::apply::batch::WORKERS,
            sheetsync::apply::batch::MAX_BATCH
        ),
        format!(
            "baseline: `UPDATE direct SET v = ? WHERE id = ?` autocommit, prepared, through mysql_async with as many connections as messages in flight, on the same server (binlog on, innodb_flush_log_at_trx_commit=2, sync_binlog=0) in the same run; the target compares each side's best level (webhook at {} in flight, MariaDB at {} connections): ratio {:.2} (target ≥ {TARGET_RATIO})",
            webhook_best.concurrency, baseline_best.concurrency, rate / mariadb_rate
        ),
    ];
    for level in &levels {
        let per_thousand = |seconds: f64| seconds * 1e6 / profile.messages as f64;
        notes.push(format!(
            "{} in flight: webhook {:.0} edits/s (p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms), MariaDB {:.0} UPDATEs/s (p50 {:.2} ms, p99 {:.2} ms), ratio {:.2}; CPU per 1,000 edits (ms): baseline — mariadbd {:.0}, client {:.0}; webhook — mariadbd {:.0}, service {:.0}, client {:.0}; server commands per message: {}",
            level.concurrency,
            level.webhook.rate(),
            level.webhook.percentile(50.0),
            level.webhook.percentile(99.0),
            level.webhook.percentile(100.0),
            level.baseline.rate(),
            level.baseline.percentile(50.0),
            level.baseline.percentile(99.0),
            level.webhook.rate() / level.baseline.rate(),
            per_thousand(level.baseline_cpu.server),
            per_thousand(level.baseline_cpu.client),
            per_thousand(level.webhook_cpu.server),
            per_thousand(level.webhook_cpu.service()),
            per_thousand(level.webhook_cpu.client),
            level.per_message.join(", ")
        ));
    }
    notes.push("latency is the client's (request sent → whole answer read), so it includes the client's share of the machine's CPUs: an upper bound of the service time".into());
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
