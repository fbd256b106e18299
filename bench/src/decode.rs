//! `decode`: rows per second through sheetsync's decode + coalesce on a recorded binlog,
//! against python-mysql-replication streaming the same binlog file from the same server in
//! the same run (target ≥ 12×).
//!
//! Consumes a row count; produces rates per CPU second (the target's measure: other load on a
//! shared machine barely moves it) and per wall-clock second. The binlog is made here: a fresh binlog file
//! holding N row changes (half INSERTs, half UPDATEs with before and after images, 1,000 rows
//! per statement) to a table of typical columns (utf8mb4 text with an emoji, DECIMAL,
//! DATETIME(6), TEXT, JSON). Then:
//! - recorded: `sheetsync::binlog::file::read_events` → `TransactionAssembler` (typed decode) →
//!   `Router` (cells and keys) → `Coalescer` (taken at 2 MB, as a flush would), timed from
//!   opening the file; the median of five runs;
//! - live: the same chain from `BinlogSource` streaming the file from the server (what
//!   `sheetsync run` does), for a like-for-like comparison with the Python client, which can
//!   only stream;
//! - baseline: python-mysql-replication (`bench/decode_python.py`, in the venv run.sh makes)
//!   decoding every row of the same file from the same server; the median of three runs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use mysql_async::prelude::Queryable as _;
use sheetsync::binlog::file::read_events;
use sheetsync::binlog::{
    BinlogSource, SourceOptions, TableName, Transaction, TransactionAssembler,
};
use sheetsync::cell::CellOptions;
use sheetsync::config::SyncConfig;
use sheetsync::position::BinlogPosition;
use sheetsync::sync::coalesce::Coalescer;
use sheetsync::sync::router::{Route, Router, WriterMessage};
use sheetsync_testbed::MariaDb;

use crate::outcome::{Figure, Target};
use crate::python_baseline::{python_stream, python_version};
use crate::stats::median;
use crate::Measured;

const STATEMENT_ROWS: u64 = 1_000;
const FLUSH_BYTES: usize = 2_000_000;
const TARGET_RATIO: f64 = 12.0;
const RECORDED_RUNS: usize = 5;
const PYTHON_RUNS: usize = 3;

pub fn rows(quick: bool) -> u64 {
    if quick {
        50_000
    } else {
        200_000
    }
}

pub async fn run(rows: u64, python: Option<&Path>) -> anyhow::Result<Measured> {
    let python = python.context(
        "no Python for the baseline: run through ./bench/run.sh (it makes bench/.venv) or pass --python",
    )?;
    let server = tokio::task::block_in_place(MariaDb::start).context("start MariaDB")?;
    let database = server.create_database("decode").await;
    let file = record_binlog(&database.url, rows).await?;
    let path = server.directory().join("data").join(&file);

    // Several runs each, medians: the machine may be busy with other work, and one slow run
    // should not decide the ratio either way. The target is judged on rows per CPU second
    // (this thread's for sheetsync, the Python process's own), which other load on a shared
    // machine barely moves; wall-clock rates are reported beside it.
    let mut recorded_wall = Vec::new();
    let mut recorded_cpu = Vec::new();
    let mut stages = Vec::new();
    for _ in 0..RECORDED_RUNS {
        let path = path.clone();
        let (database, file) = (database.name.clone(), file.clone());
        let run = tokio::task::spawn_blocking(move || decode_file(&path, &file, &database, rows))
            .await
            .context("decode task")??;
        recorded_wall.push(rows as f64 / run.total());
        recorded_cpu.push(rows as f64 / run.cpu_s);
        stages.push(run);
    }
    let live = decode_stream(&server, &file, &database.name, rows).await?;
    let mut python_wall = Vec::new();
    let mut python_cpu = Vec::new();
    let mut python_starts = Vec::new();
    for _ in 0..PYTHON_RUNS {
        let (rates, first_row_s) = python_stream(python, &server, &file, &database.name, rows)?;
        python_wall.push(rates.wall);
        python_cpu.push(rates.cpu);
        python_starts.push(first_row_s);
    }
    let middle = |rates: &[f64]| median(rates).unwrap_or_default();
    let stage = |pick: fn(&FileRun) -> f64| middle(&stages.iter().map(pick).collect::<Vec<f64>>());
    let (read_s, decode_s, coalesce_s) = (
        stage(|run| run.read_s),
        stage(|run| run.decode_s),
        stage(|run| run.coalesce_s),
    );
    let python_cpu_rate = middle(&python_cpu);
    let python_wall_rate = middle(&python_wall);

    let binlog_bytes = std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(0);
    let figures = vec![
        Figure::new(
            "decode + coalesce, recorded binlog, per CPU second",
            middle(&recorded_cpu),
            "rows/s",
            Target::at_least(TARGET_RATIO * python_cpu_rate),
        )
        .against(
            "python-mysql-replication per CPU second",
            python_cpu_rate,
            "rows/s",
        ),
        Figure::new(
            "decode + coalesce, recorded binlog, wall clock",
            middle(&recorded_wall),
            "rows/s",
            None,
        )
        .against(
            "python-mysql-replication wall clock",
            python_wall_rate,
            "rows/s",
        ),
        Figure::new(
            "decode + coalesce, live replication stream, per CPU second",
            live.cpu,
            "rows/s",
            None,
        )
        .against(
            "python-mysql-replication per CPU second",
            python_cpu_rate,
            "rows/s",
        ),
        Figure::new(
            "decode + coalesce, live replication stream, wall clock",
            live.wall,
            "rows/s",
            None,
        )
        .against(
            "python-mysql-replication wall clock",
            python_wall_rate,
            "rows/s",
        ),
    ];
    let notes = vec![
        format!("{rows} row changes ({} INSERTed, {} UPDATEd, {STATEMENT_ROWS} per statement) in {file} ({:.1} MB), 7 columns incl. utf8mb4, DECIMAL, DATETIME(6), TEXT, JSON", rows / 2, rows - rows / 2, binlog_bytes as f64 / 1e6),
        format!("sheetsync recorded-binlog runs (rows/s): wall {}, per CPU second {}", rates_text(&recorded_wall), rates_text(&recorded_cpu)),
        format!("python-mysql-replication runs (rows/s): wall {}, per CPU second {}; first row after {} s", rates_text(&python_wall), rates_text(&python_cpu), python_starts.iter().map(|seconds| format!("{seconds:.2}")).collect::<Vec<_>>().join(", ")),
        format!("where the recorded-binlog time goes (medians, wall): reading and parsing the file {read_s:.3} s, typed decode into transactions {decode_s:.3} s, routing to cells + coalescing {coalesce_s:.3} s"),
        format!("target: ≥ {TARGET_RATIO}× python-mysql-replication (mysql-replication 1.0.17, CPython {}) measured in this run, judged per CPU second (robust to other load on the machine)", python_version(python)),
    ];
    Ok(Measured { figures, notes })
}

/// Writes `rows` row changes into a binlog file of their own; returns its name.
async fn record_binlog(url: &str, rows: u64) -> anyhow::Result<String> {
    let mut connection = mysql_async::Conn::from_url(url).await?;
    connection
        .query_drop("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4, score INT, amount DECIMAL(10,2), created DATETIME(6), note TEXT, doc JSON)")
        .await?;
    connection.query_drop("FLUSH BINARY LOGS").await?;
    let status: mysql_async::Row = connection
        .query_first("SHOW MASTER STATUS")
        .await?
        .context("SHOW MASTER STATUS answered nothing: is log_bin on?")?;
    let file: String = status.get(0).context("SHOW MASTER STATUS has no file")?;
    let inserts = rows / 2;
    let mut next = 0;
    while next < inserts {
        let end = (next + STATEMENT_ROWS).min(inserts);
        let values: Vec<String> = (next..end)
            .map(|id| format!("({id}, 'name {id} 😀', {id}, {id}.25, '2024-05-06 07:08:09.123456', 'a note', '{{\"id\": {id}}}')"))
            .collect();
        connection
            .query_drop(format!("INSERT INTO people VALUES {}", values.join(",")))
            .await?;
        next = end;
    }
    let mut updated = 0;
    while updated < rows - inserts {
        let count = STATEMENT_ROWS.min(rows - inserts - updated);
        let low = updated % inserts.max(1);
        connection
            .query_drop(format!("UPDATE people SET score = score + 1, note = 'updated {updated}' WHERE id >= {low} AND id < {}", low + count))
            .await?;
        updated += count;
    }
    connection.query_drop("FLUSH BINARY LOGS").await?;
    let _ = connection.disconnect().await;
    Ok(file)
}

/// The writer side of sheetsync for one table: router and coalescer.
struct Sink {
    router: Router,
    coalescer: Coalescer,
    database: String,
    rows: u64,
}

impl Sink {
    fn new(database: &str) -> anyhow::Result<Sink> {
        let route = Route {
            mapping: "people".into(),
            table: TableName {
                database: database.into(),
                name: "people".into(),
            },
            writer: 0,
            tab: 0,
            columns: None,
            key_columns: vec![Arc::from("id")],
            deletes: true,
        };
        let options = CellOptions::from_config(&SyncConfig::default())?;
        Ok(Sink {
            router: Router::new(vec![route], 1, options),
            coalescer: Coalescer::new(),
            database: database.into(),
            rows: 0,
        })
    }

    fn absorb(&mut self, transaction: &Transaction) {
        self.rows += transaction
            .changes
            .iter()
            .filter(|change| change.table.database == self.database)
            .count() as u64;
        let now = Instant::now();
        let (messages, _) = self.router.route(transaction);
        for message in messages {
            if let WriterMessage::Transaction {
                changes, position, ..
            } = message
            {
                for change in changes {
                    self.coalescer
                        .add(change.tab, change.key, change.update, now);
                }
                self.coalescer.set_position(position);
            }
        }
        if self.coalescer.estimated_bytes() >= FLUSH_BYTES {
            drop(self.coalescer.take());
        }
    }
}

/// Seconds spent in each stage of one run over the recorded file.
struct FileRun {
    read_s: f64,
    decode_s: f64,
    coalesce_s: f64,
    /// CPU time of the decoding thread over the whole run.
    cpu_s: f64,
}

impl FileRun {
    fn total(&self) -> f64 {
        self.read_s + self.decode_s + self.coalesce_s
    }
}

/// From opening the file to the last row coalesced, by stage.
fn decode_file(path: &Path, file: &str, database: &str, rows: u64) -> anyhow::Result<FileRun> {
    let started = Instant::now();
    let cpu_started = cpu_seconds(libc::CLOCK_THREAD_CPUTIME_ID);
    let events = read_events(path).with_context(|| format!("read {}", path.display()))?;
    let read_s = started.elapsed().as_secs_f64();
    let start = BinlogPosition::File {
        file: file.into(),
        offset: 4,
    };
    let mut assembler = TransactionAssembler::new(start, false);
    let mut sink = Sink::new(database)?;
    let (mut decode_s, mut coalesce_s) = (0.0, 0.0);
    let mut mark = Instant::now();
    for event in &events {
        if let Some(transaction) = assembler.handle(event)? {
            let decoded = Instant::now();
            decode_s += decoded.duration_since(mark).as_secs_f64();
            sink.absorb(&transaction);
            mark = Instant::now();
            coalesce_s += mark.duration_since(decoded).as_secs_f64();
        }
    }
    decode_s += mark.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds(libc::CLOCK_THREAD_CPUTIME_ID) - cpu_started;
    if sink.rows != rows {
        bail!(
            "decoded {} rows of {database} from {file}, expected {rows}",
            sink.rows
        );
    }
    Ok(FileRun {
        read_s,
        decode_s,
        coalesce_s,
        cpu_s,
    })
}

fn rates_text(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|rate| format!("{rate:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows/s from connecting to the last row coalesced, streaming the file from the server.
async fn decode_stream(
    server: &MariaDb,
    file: &str,
    database: &str,
    rows: u64,
) -> anyhow::Result<Rates> {
    let mut options =
        SourceOptions::new(server.root_url(), 6_000_000 + std::process::id() % 100_000);
    options.start = Some(BinlogPosition::File {
        file: file.into(),
        offset: 4,
    });
    let started = Instant::now();
    let cpu_started = cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID);
    let mut source = BinlogSource::start(options).await?;
    let mut sink = Sink::new(database)?;
    while sink.rows < rows {
        let transaction = tokio::time::timeout(Duration::from_secs(60), source.next())
            .await
            .context("the live stream stalled for 60 s")?
            .context("the live stream ended")??;
        sink.absorb(&transaction);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu_started;
    source.stop().await;
    Ok(Rates {
        wall: rows as f64 / elapsed,
        cpu: rows as f64 / cpu,
    })
}

/// Rows per wall-clock second and per CPU second.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub wall: f64,
    pub cpu: f64,
}

/// CPU seconds of this thread or process (`clock` is a `CLOCK_*_CPUTIME_ID`).
fn cpu_seconds(clock: libc::clockid_t) -> f64 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    let status = unsafe { libc::clock_gettime(clock, &mut time) };
    if status != 0 {
        return f64::NAN;
    }
    time.tv_sec as f64 + time.tv_nsec as f64 / 1e9
}
