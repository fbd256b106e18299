//! `memory`: the resident memory of the `sheetsync run` process, idle with its tab loaded, and
//! at its peak during a 1,000,000-row burst (quick: 200,000).
//!
//! Consumes the burst size; produces idle RSS (`VmRSS` after the load and 5 s of nothing) and
//! peak RSS (`VmHWM`, the kernel's high-water mark, read once the burst is in the sheet).
//! The burst: new rows INSERTed 5,000 per statement as fast as the server takes them, into a
//! table of the burst benchmark's shape (key + five columns) holding 10,000 rows at start;
//! each statement its own transaction (`memory`), or all of them one transaction
//! (`memory-transaction`, which sheetsync cannot hold whole and hands on in parts).
//!
//! Baselines, measured in the same run: for the peak, the bytes of the changed data (the new
//! rows' values as text, `SUM(LENGTH(CONCAT_WS(',', …)))`) — a ratio below 1 means sheetsync
//! never held the burst whole; for idle, the RSS of the idle `mariadbd` serving the table.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use mysql_async::prelude::Queryable as _;

use crate::bed::{Bed, TabShape};
use crate::burst::{create_table, fill, fill_with, wait_for_quiet};
use crate::outcome::{Figure, Target};
use crate::process::{memory_of, ChildProcess};
use crate::Measured;

const TABLE: &str = "mem";
const SHEET: &str = "Mem";
const INITIAL_ROWS: u64 = 10_000;
const MB: f64 = 1024.0 * 1024.0;

pub fn burst_rows(quick: bool) -> u64 {
    if quick {
        200_000
    } else {
        1_000_000
    }
}

/// How the burst's rows are committed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    /// 5,000 rows per transaction.
    PerStatement,
    /// The whole burst in one transaction.
    One,
}

pub async fn run(burst: u64, commits: Commits) -> anyhow::Result<Measured> {
    let bed = Bed::start(
        "memory",
        &[TabShape {
            title: SHEET,
            columns: 6,
        }],
    )
    .await?;
    bed.execute(&[&create_table(TABLE)]).await?;
    fill(&bed, TABLE, 1, INITIAL_ROWS).await?;
    let mut sheetsync = bed.start_sheetsync(&bed.config_text(&[(TABLE, SHEET)], ""))?;
    bed.wait_until_loaded(TABLE, Duration::from_secs(120), &mut sheetsync)
        .await?;
    wait_for_quiet(&bed, Duration::from_secs(5), Duration::from_secs(60)).await?;
    let idle = memory_of(sheetsync.pid())?;
    let server_idle = memory_of(bed.server_pid()?)?;

    let sampler = Sampler::start(sheetsync.pid());
    let started = Instant::now();
    let one_transaction = commits == Commits::One;
    fill_with(
        &bed,
        TABLE,
        INITIAL_ROWS + 1,
        INITIAL_ROWS + burst,
        one_transaction,
    )
    .await?;
    let committed = started.elapsed();
    let target = bed.committed_sequence().await?;
    let limit = Duration::from_secs(120 + burst / 2_000);
    let done = bed
        .wait_for_checkpoint(
            TABLE,
            target,
            limit,
            Duration::from_millis(20),
            &mut sheetsync,
        )
        .await?;
    let peak = memory_of(sheetsync.pid())?;
    let timeline = sampler.finish();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = memory_of(sheetsync.pid())?;
    let difference = bed
        .tab_difference(SHEET, TABLE, "id, a, b, c, d, e")
        .await?;
    let data_bytes = changed_data_bytes(&bed).await?;
    sheetsync.check_running()?;
    stop(sheetsync);

    let mut notes = vec![
        format!("idle: the tab loaded with {INITIAL_ROWS} rows (key + 5 columns), 5 s without requests; baseline: idle mariadbd RSS; idle RSS = {:.1} MB anonymous (heap, stacks) + {:.1} MB file-backed (binary, libraries)", idle.anonymous as f64 / MB, idle.file as f64 / MB),
        format!("burst: {burst} new rows INSERTed 5,000 per statement, {} in {:.1} s; in the sheet {:.1} s after the burst began; baseline: the new rows' values as text", if one_transaction { "all in one transaction" } else { "each statement its own transaction" }, committed.as_secs_f64(), done.duration_since(started).as_secs_f64()),
        format!("RSS after the burst (3 s later): {:.1} MB ({:.1} MB anonymous)", after.rss as f64 / MB, after.anonymous as f64 / MB),
        format!("RSS during the burst (s: MB): {}", timeline.iter().map(|(at, rss)| format!("{at:.0}: {:.0}", *rss as f64 / MB)).collect::<Vec<_>>().join(", ")),
    ];
    if let Some(difference) = &difference {
        notes.push(format!("tab differs from table: {difference}"));
    }
    let figures = vec![
        Figure::new(
            "peak RSS during the burst",
            peak.peak_rss as f64 / MB,
            "MB",
            Target::at_most(256.0),
        )
        .against("changed data", data_bytes as f64 / MB, "MB"),
        Figure::new(
            "idle RSS",
            idle.rss as f64 / MB,
            "MB",
            Target::at_most(30.0),
        )
        .against("idle mariadbd RSS", server_idle.rss as f64 / MB, "MB"),
        Figure::new(
            "tab equals table",
            f64::from(u8::from(difference.is_none())),
            "",
            Target::at_least(1.0),
        ),
    ];
    Ok(Measured { figures, notes })
}

fn stop(sheetsync: ChildProcess) {
    sheetsync.stop(Duration::from_secs(10));
}

async fn changed_data_bytes(bed: &Bed) -> anyhow::Result<u64> {
    let mut connection = bed.connect().await?;
    let bytes: Option<u64> = connection
        .query_first(format!(
            "SELECT CAST(SUM(LENGTH(CONCAT_WS(',', id, a, b, c, d, e))) AS UNSIGNED) FROM {TABLE} WHERE id > {INITIAL_ROWS}"
        ))
        .await?;
    let _ = connection.disconnect().await;
    bytes.context("no rows were inserted")
}

/// RSS every 250 ms on a thread of its own, kept as the maximum of each 5 s for the notes.
struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(f64, u64)>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples: Vec<(f64, u64)> = Vec::new();
            let mut second_max = 0;
            let mut second = 0;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(memory) = memory_of(pid) else { break };
                let at = started.elapsed().as_secs() / 5 * 5;
                if at != second {
                    samples.push((second as f64, second_max));
                    second = at;
                    second_max = 0;
                }
                second_max = second_max.max(memory.rss);
                std::thread::sleep(Duration::from_millis(250));
            }
            samples.push((second as f64, second_max));
            samples
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> Vec<(f64, u64)> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
