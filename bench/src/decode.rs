//! `decode`: rows per second through sheetsync's decode + coalesce on a recorded binlog,
//! against python-mysql-replication streaming the same binlog file from the same server in
//! the same run (target ≥ 12×).
//!
//! Consumes a row count; produces three rates. The binlog is made here: a fresh binlog file
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

use std::path::{Path, PathBuf};
use std::process::Command;
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
use crate::process::ChildProcess;
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
    // should not decide the ratio either way.
    let mut recorded = Vec::new();
    let mut stages = Vec::new();
    for _ in 0..RECORDED_RUNS {
        let path = path.clone();
        let (database, file) = (database.name.clone(), file.clone());
        let run = tokio::task::spawn_blocking(move || decode_file(&path, &file, &database, rows))
            .await
            .context("decode task")??;
        recorded.push(rows as f64 / run.total());
        stages.push(run);
    }
    let recorded_rate = median(&recorded).unwrap_or_default();
    let live_rate = decode_stream(&server, &file, &database.name, rows).await?;
    let mut python_rates = Vec::new();
    let mut python_starts = Vec::new();
    for _ in 0..PYTHON_RUNS {
        let (rate, first_row_s) = python_stream(python, &server, &file, &database.name, rows)?;
        python_rates.push(rate);
        python_starts.push(first_row_s);
    }
    let python_rate = median(&python_rates).unwrap_or_default();
    let stage = |pick: fn(&FileRun) -> f64| {
        median(&stages.iter().map(pick).collect::<Vec<f64>>()).unwrap_or_default()
    };
    let (read_s, decode_s, coalesce_s) = (
        stage(|run| run.read_s),
        stage(|run| run.decode_s),
        stage(|run| run.coalesce_s),
    );

    let binlog_bytes = std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(0);
    let figures = vec![
        Figure::new(
            "decode + coalesce, recorded binlog",
            recorded_rate,
            "rows/s",
            Target::at_least(TARGET_RATIO * python_rate),
        )
        .against("python-mysql-replication", python_rate, "rows/s"),
        Figure::new(
            "decode + coalesce, live replication stream",
            live_rate,
            "rows/s",
            None,
        )
        .against("python-mysql-replication", python_rate, "rows/s"),
        Figure::new(
            "python-mysql-replication stream",
            python_rate,
            "rows/s",
            None,
        ),
    ];
    let notes = vec![
        format!("{rows} row changes ({} INSERTed, {} UPDATEd, {STATEMENT_ROWS} per statement) in {file} ({:.1} MB), 7 columns incl. utf8mb4, DECIMAL, DATETIME(6), TEXT, JSON", rows / 2, rows - rows / 2, binlog_bytes as f64 / 1e6),
        format!("recorded-binlog runs (rows/s): {}; python runs (rows/s): {} (first row after {} s)", rates_text(&recorded), rates_text(&python_rates), python_starts.iter().map(|seconds| format!("{seconds:.2}")).collect::<Vec<_>>().join(", ")),
        format!("where the recorded-binlog time goes (medians): reading and parsing the file {read_s:.3} s, typed decode into transactions {decode_s:.3} s, routing to cells + coalescing {coalesce_s:.3} s"),
        format!("target: ≥ {TARGET_RATIO}× python-mysql-replication (mysql-replication 1.0.17, CPython {}) measured in this run", python_version(python)),
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
}

impl FileRun {
    fn total(&self) -> f64 {
        self.read_s + self.decode_s + self.coalesce_s
    }
}

/// From opening the file to the last row coalesced, by stage.
fn decode_file(path: &Path, file: &str, database: &str, rows: u64) -> anyhow::Result<FileRun> {
    let started = Instant::now();
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
) -> anyhow::Result<f64> {
    let mut options =
        SourceOptions::new(server.root_url(), 6_000_000 + std::process::id() % 100_000);
    options.start = Some(BinlogPosition::File {
        file: file.into(),
        offset: 4,
    });
    let started = Instant::now();
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
    source.stop().await;
    Ok(rows as f64 / elapsed)
}

/// Rows/s of python-mysql-replication streaming the same file, and when its first row came.
fn python_stream(
    python: &Path,
    server: &MariaDb,
    file: &str,
    database: &str,
    rows: u64,
) -> anyhow::Result<(f64, f64)> {
    let directory = tempfile::tempdir()?;
    let log = directory.path().join("python.log");
    let mut command = Command::new(python);
    command
        .arg(script())
        .args(["--port", &server.port().to_string()])
        .args([
            "--server-id",
            &(7_000_000 + std::process::id() % 100_000).to_string(),
        ])
        .args([
            "--file",
            file,
            "--schema",
            database,
            "--rows",
            &rows.to_string(),
        ]);
    let child = ChildProcess::spawn("python-mysql-replication", command, &log)?;
    let status = child.wait(Duration::from_secs(900))?;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .with_context(|| {
            format!("python-mysql-replication printed no result ({status}):\n{output}")
        })?;
    let result: serde_json::Value = serde_json::from_str(line)?;
    let (seen, seconds) = (
        result["rows"].as_u64().unwrap_or(0),
        result["seconds"].as_f64().unwrap_or(0.0),
    );
    if !status.success() || seen != rows || seconds <= 0.0 {
        bail!("python-mysql-replication decoded {seen} of {rows} rows ({status}):\n{output}");
    }
    Ok((
        rows as f64 / seconds,
        result["first_row_seconds"].as_f64().unwrap_or(0.0),
    ))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("decode_python.py")
}

fn python_version(python: &Path) -> String {
    Command::new(python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}
