//! `freshness-sparse` and `freshness-sustained`: commit-to-sheet latency of single-row commits
//! at Google's default quota (60 writes/min, enforced by the emulator too).
//!
//! Consumes a profile (commit period, count); produces p50/p99/max latency, the 429 count and
//! the write requests used. Latency is measured from the moment the `UPDATE` (autocommit)
//! returns to the moment the emulator's store shows the value, polled every millisecond on a
//! thread of its own (a read of a 21-row tab takes microseconds, so the poll adds ≤ 1 ms).
//! Commit k writes `v = k` to row `k mod 20`; it is visible once that cell holds a value ≥ k (a
//! later commit to the same row carries it).
//!
//! Baselines (derived from a figure measured in the same run: `w`, the median time the emulator
//! took to apply sheetsync's writes):
//! - sparse: a naive writer that flushes every `flush_interval_ms` (250 ms): a commit waits half
//!   an interval on average → p50 = 125 ms + w, p99 = 247.5 ms + w;
//! - sustained: the quota's floor, one request per second: p50 = 500 ms + w, p99 = 990 ms + w.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use mysql_async::prelude::Queryable as _;
use sheets_emulator::SharedState;
use sheetsync::config::SyncConfig;

use crate::bed::{Bed, TabShape};
use crate::outcome::{Figure, Target};
use crate::stats::{median, percentile};
use crate::Measured;

const ROWS: u64 = 20;
const TABLE: &str = "fresh";
const SHEET: &str = "Fresh";
/// A commit not visible after this is counted as lost, and the benchmark fails.
const GIVE_UP: Duration = Duration::from_secs(30);

pub struct Profile {
    pub period: Duration,
    pub commits: u64,
    pub p50_target_ms: f64,
    pub p99_target_ms: f64,
    pub sustained: bool,
}

pub fn sparse(quick: bool) -> Profile {
    Profile {
        period: Duration::from_secs(2),
        commits: if quick { 10 } else { 60 },
        p50_target_ms: 100.0,
        p99_target_ms: 250.0,
        sustained: false,
    }
}

pub fn sustained(quick: bool) -> Profile {
    Profile {
        period: Duration::from_millis(100),
        commits: if quick { 150 } else { 600 },
        p50_target_ms: 700.0,
        p99_target_ms: 1300.0,
        sustained: true,
    }
}

struct Commit {
    sequence: u64,
    row: usize,
    committed_at: Instant,
}

pub async fn run(profile: Profile) -> anyhow::Result<Measured> {
    let bed = Bed::start(
        if profile.sustained {
            "freshness_sustained"
        } else {
            "freshness_sparse"
        },
        &[TabShape {
            title: SHEET,
            columns: 2,
        }],
    )
    .await?;
    let values: Vec<String> = (1..=ROWS).map(|id| format!("({id}, 0)")).collect();
    bed.execute(&[
        "CREATE TABLE fresh (id INT PRIMARY KEY, v BIGINT NOT NULL)",
        &format!("INSERT INTO fresh VALUES {}", values.join(",")),
    ])
    .await?;
    let mut sheetsync = bed.start_sheetsync(&bed.config_text(&[(TABLE, SHEET)], ""))?;
    bed.wait_until_loaded(TABLE, Duration::from_secs(60), &mut sheetsync)
        .await?;
    let rows = row_of_each_id(&bed)?;
    // Warm-up: the load spent write tokens; sparse commits meet an idle quota.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let first_request = bed.last_request();
    let summary_before = bed.emulator.state.control.summary();
    let (sender, receiver) = mpsc::channel::<Commit>();
    let watcher = {
        let state = bed.emulator.state.clone();
        let spreadsheet_id = bed.spreadsheet_id.clone();
        std::thread::spawn(move || watch(state, spreadsheet_id, receiver))
    };
    let mut connection = bed.connect().await?;
    let mut ticks = tokio::time::interval(profile.period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for sequence in 1..=profile.commits {
        ticks.tick().await;
        let id = sequence % ROWS + 1;
        connection
            .query_drop(format!("UPDATE fresh SET v = {sequence} WHERE id = {id}"))
            .await
            .context("commit")?;
        let committed_at = Instant::now();
        let row = *rows.get(&id).context("row of id")?;
        if sender
            .send(Commit {
                sequence,
                row,
                committed_at,
            })
            .is_err()
        {
            bail!("the latency watcher stopped");
        }
        sheetsync.check_running()?;
    }
    let _ = connection.disconnect().await;
    drop(sender);
    let latencies = tokio::task::spawn_blocking(move || watcher.join())
        .await
        .context("join the watcher")?
        .map_err(|_| anyhow::anyhow!("the latency watcher panicked"))?;

    let writes = bed.writes_since(first_request);
    let summary_after = bed.emulator.state.control.summary();
    let quota_refusals = write_429s(&summary_after) - write_429s(&summary_before);
    let difference = bed.tab_difference(SHEET, TABLE, "id, v").await?;
    sheetsync.stop(Duration::from_secs(10));

    let lost = latencies.iter().filter(|latency| latency.is_none()).count();
    let samples: Vec<f64> = latencies.iter().flatten().copied().collect();
    if samples.is_empty() {
        bail!("no commit became visible in the sheet within {GIVE_UP:?}");
    }
    let write_ms = median(
        &writes
            .iter()
            .filter(|entry| entry.status == 200)
            .map(|entry| entry.duration_ms)
            .collect::<Vec<f64>>(),
    )
    .unwrap_or(0.0);
    let (baseline_name, baseline_p50, baseline_p99) = if profile.sustained {
        (
            "quota floor, 1 request/s",
            500.0 + write_ms,
            990.0 + write_ms,
        )
    } else {
        let interval = SyncConfig::default().flush_interval_ms as f64;
        (
            "naive flush every 250 ms",
            interval / 2.0 + write_ms,
            interval * 0.99 + write_ms,
        )
    };
    let p50 = percentile(&samples, 50.0).unwrap_or_default();
    let p99 = percentile(&samples, 99.0).unwrap_or_default();
    let max = percentile(&samples, 100.0).unwrap_or_default();
    let mut figures = vec![
        Figure::new(
            "latency p50",
            p50,
            "ms",
            Target::at_most(profile.p50_target_ms),
        )
        .against(baseline_name, baseline_p50, "ms"),
        Figure::new(
            "latency p99",
            p99,
            "ms",
            Target::at_most(profile.p99_target_ms),
        )
        .against(baseline_name, baseline_p99, "ms"),
        Figure::new("latency max", max, "ms", None),
        Figure::new(
            "commits lost (not visible in 30 s)",
            lost as f64,
            "",
            Target::at_most(0.0),
        ),
        Figure::new("write requests", writes.len() as f64, "", None).against(
            "one per commit",
            profile.commits as f64,
            "",
        ),
    ];
    if profile.sustained {
        figures.push(Figure::new(
            "429 responses",
            quota_refusals as f64,
            "",
            Target::at_most(0.0),
        ));
    }
    figures.push(Figure::new(
        "tab equals table at the end",
        f64::from(u8::from(difference.is_none())),
        "",
        Target::at_least(1.0),
    ));
    let mut notes = vec![
        format!(
            "{} commits, one every {} ms, each an autocommit UPDATE of one row of a {ROWS}-row table; sheetsync release build, default config (flush_interval_ms 250, 60 writes/min); emulator quota 60 writes/min",
            profile.commits,
            profile.period.as_millis()
        ),
        format!("w = median emulator time per sheetsync write in this run = {write_ms:.2} ms; baseline = {baseline_name} (p50 {baseline_p50:.1} ms, p99 {baseline_p99:.1} ms)"),
        format!("429 responses to writes during the run: {quota_refusals}"),
        format!("slowest commits (number: ms): {}", slowest(&latencies, 3)),
    ];
    if let Some(difference) = difference {
        notes.push(format!("tab differs from table: {difference}"));
    }
    Ok(Measured { figures, notes })
}

/// Which sheet row (0-based, header at 0) holds each id after the load.
fn row_of_each_id(bed: &Bed) -> anyhow::Result<HashMap<u64, usize>> {
    let values = bed
        .emulator
        .state
        .store
        .sheet_values(&bed.spreadsheet_id, SHEET)
        .context("the tab is missing after the load")?;
    let rows: HashMap<u64, usize> = values
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(index, row)| row.first()?.as_f64().map(|id| (id as u64, index)))
        .collect();
    if rows.len() != ROWS as usize {
        bail!(
            "after the load the tab holds {} ids, expected {ROWS}: {values:?}",
            rows.len()
        );
    }
    Ok(rows)
}

/// Polls the tab every millisecond until every commit received is visible or given up;
/// returns each commit's latency in ms (`None`: not visible within [`GIVE_UP`]), in order.
fn watch(
    state: SharedState,
    spreadsheet_id: String,
    commits: mpsc::Receiver<Commit>,
) -> Vec<Option<f64>> {
    let mut latencies: Vec<Option<f64>> = Vec::new();
    let mut outstanding: Vec<Commit> = Vec::new();
    let mut open = true;
    while open || !outstanding.is_empty() {
        loop {
            match commits.try_recv() {
                Ok(commit) => outstanding.push(commit),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if !outstanding.is_empty() {
            let values = state
                .store
                .sheet_values(&spreadsheet_id, SHEET)
                .unwrap_or_default();
            let now = Instant::now();
            outstanding.retain(|commit| {
                let shown = values
                    .get(commit.row)
                    .and_then(|row| row.get(1))
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(-1.0);
                let waited = now.duration_since(commit.committed_at);
                let result = if shown >= commit.sequence as f64 {
                    Some(Some(waited.as_secs_f64() * 1000.0))
                } else if waited > GIVE_UP {
                    Some(None)
                } else {
                    None
                };
                match result {
                    Some(latency) => {
                        let index = (commit.sequence - 1) as usize;
                        if latencies.len() <= index {
                            latencies.resize(index + 1, None);
                        }
                        latencies[index] = latency;
                        false
                    }
                    None => true,
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    latencies
}

fn write_429s(summary: &sheets_emulator::control::Summary) -> u64 {
    summary
        .by_class_and_status
        .get("write")
        .and_then(|statuses| statuses.get("429"))
        .copied()
        .unwrap_or(0)
}

/// The `count` slowest visible commits as `number: ms`, slowest first.
fn slowest(latencies: &[Option<f64>], count: usize) -> String {
    let mut numbered: Vec<(usize, f64)> = latencies
        .iter()
        .enumerate()
        .filter_map(|(index, latency)| latency.map(|ms| (index + 1, ms)))
        .collect();
    numbered.sort_by(|left, right| right.1.total_cmp(&left.1));
    numbered
        .iter()
        .take(count)
        .map(|(number, ms)| format!("{number}: {ms:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}
