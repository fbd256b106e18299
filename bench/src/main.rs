//! `sheetsync-bench`: the benchmark runner of issue 3's targets (and issue 4's webhook
//! throughput), separate from the tests.
//!
//! ```text
//! ./bench/run.sh [--quick] [NAME…]    run benchmarks (all by default), append JSON lines to
//!                                     target/bench/results.jsonl, print a table
//! ./bench/run.sh --report             write docs/BENCHMARKS.md from target/bench/results.jsonl
//! ```
//! Every benchmark prints its figures, the issue's target, pass/fail and the ratio to a baseline
//! measured in the same run. Each runs on its own test bed (MariaDB, in-process Sheets
//! emulator, the release `sheetsync run` as a child process) under a time limit; a benchmark
//! that fails or times out is recorded as such and the others still run. Exit status: 0 when
//! every target was met, 1 when one was missed or a benchmark did not finish, 2 on bad usage.

mod bed;
mod burst;
mod clock;
mod decode;
mod freshness;
mod memory;
mod outcome;
mod process;
mod python_baseline;
mod report;
mod stats;
mod webhook;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use outcome::{BenchResult, Figure, Machine};

/// What one benchmark measured.
pub struct Measured {
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

const BENCHMARKS: &[&str] = &[
    "freshness-sparse",
    "freshness-sustained",
    "burst-statement",
    "burst-transactions",
    "decode",
    "memory",
    "memory-transaction",
    "webhook",
];

#[derive(Parser)]
#[command(
    name = "sheetsync-bench",
    about = "sheetsync's benchmarks (use ./bench/run.sh)"
)]
struct Cli {
    /// Shorter runs: fewer commits, smaller bursts (each benchmark says its sizes).
    #[arg(long)]
    quick: bool,
    /// Write the report from the results file instead of running benchmarks.
    #[arg(long)]
    report: bool,
    #[arg(long, default_value = "target/bench/results.jsonl")]
    results: PathBuf,
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    report_file: PathBuf,
    /// The Python with mysql-replication installed (the decode baseline).
    #[arg(long, env = "BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// The command line to record with the results (run.sh passes its own).
    #[arg(long, env = "BENCH_COMMAND")]
    command: Option<String>,
    /// Benchmarks to run (default: all): freshness-sparse, freshness-sustained,
    /// burst-statement, burst-transactions, decode, memory, memory-transaction, webhook.
    names: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.report {
        return write_report(&cli);
    }
    let unknown: Vec<&String> = cli
        .names
        .iter()
        .filter(|name| !BENCHMARKS.contains(&name.as_str()))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "sheetsync-bench: unknown benchmark(s) {unknown:?}; known: {}",
            BENCHMARKS.join(", ")
        );
        return ExitCode::from(2);
    }
    // The allocator as `sheetsync run` sets it (src/main.rs): the webhook benchmark runs the
    // service in this process.
    sheetsync::memory::limit_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sheetsync-bench: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let results = runtime.block_on(run_all(&cli));
    println!();
    outcome::print_table(&results);
    println!("\nresults appended to {}", cli.results.display());
    if results.iter().all(BenchResult::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn run_all(cli: &Cli) -> Vec<BenchResult> {
    let names: Vec<&str> = if cli.names.is_empty() {
        BENCHMARKS.to_vec()
    } else {
        BENCHMARKS
            .iter()
            .copied()
            .filter(|name| cli.names.iter().any(|wanted| wanted == name))
            .collect()
    };
    let command = cli.command.clone().unwrap_or_else(|| {
        let arguments: Vec<String> = std::env::args().skip(1).collect();
        format!("sheetsync-bench {}", arguments.join(" "))
    });
    if let Some(directory) = cli.results.parent() {
        let _ = bed::LOG_DIRECTORY.set(directory.join("logs"));
    }
    let machine = machine();
    let git_commit = git_commit();
    let mut results = Vec::new();
    for name in names {
        println!("== {name} ({})", profile_name(cli.quick));
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        let started = Instant::now();
        let load_before = load_average();
        let cpu_before = cpu_times();
        let limit = time_limit(name, cli.quick);
        let outcome = tokio::time::timeout(limit, run_one(name, cli)).await;
        let (figures, mut notes, mut error) = match outcome {
            Ok(Ok(measured)) => (measured.figures, measured.notes, None),
            Ok(Err(error)) => (Vec::new(), Vec::new(), Some(format!("{error:#}"))),
            Err(_) => (
                Vec::new(),
                Vec::new(),
                Some(format!("timed out after {limit:?}")),
            ),
        };
        // Other work on the machine moves timings: say how busy it was.
        notes.push(format!(
            "machine load average (1 min) at start {load_before}, at end {}",
            load_average()
        ));
        // On a virtual machine the host may run other guests on our CPUs ("steal"): a run with
        // much steal measured a slower machine than the figures' targets assume.
        if let (Some(before), Some(after)) = (cpu_before, cpu_times()) {
            notes.push(format!(
                "CPU time stolen by the hypervisor during the run: {:.1}%",
                steal_percent(before, after)
            ));
        }
        if let Ok(prefix) = std::env::var("BENCH_SHEETSYNC_PREFIX") {
            // A profiler around sheetsync changes its speed and hides its memory.
            error.get_or_insert(format!(
                "diagnostic run under BENCH_SHEETSYNC_PREFIX={prefix:?}: the figures describe the wrapper, not sheetsync"
            ));
        }
        let result = BenchResult {
            benchmark: name.into(),
            profile: profile_name(cli.quick).into(),
            started_unix,
            duration_s: started.elapsed().as_secs_f64(),
            command: command.clone(),
            git_commit: git_commit.clone(),
            machine: machine.clone(),
            figures,
            notes,
            error,
        };
        outcome::print_table(std::slice::from_ref(&result));
        for note in &result.notes {
            println!("  - {note}");
        }
        if let Some(error) = &result.error {
            println!("  ! {error}");
        }
        if let Err(error) = outcome::append_line(&cli.results, &result) {
            eprintln!(
                "sheetsync-bench: cannot write {}: {error}",
                cli.results.display()
            );
        }
        results.push(result);
    }
    results
}

async fn run_one(name: &str, cli: &Cli) -> anyhow::Result<Measured> {
    let quick = cli.quick;
    match name {
        "freshness-sparse" => freshness::run(freshness::sparse(quick)).await,
        "freshness-sustained" => freshness::run(freshness::sustained(quick)).await,
        "burst-statement" => burst::run(burst::Shape::Statement).await,
        "burst-transactions" => burst::run(burst::Shape::Transactions).await,
        "decode" => decode::run(decode::rows(quick), cli.python.as_deref()).await,
        "memory" => memory::run(memory::burst_rows(quick), memory::Commits::PerStatement).await,
        "memory-transaction" => memory::run(memory::burst_rows(quick), memory::Commits::One).await,
        "webhook" => webhook::run(webhook::profile(quick)).await,
        other => anyhow::bail!("unknown benchmark {other}"),
    }
}

/// Generous bounds: a benchmark past them is stuck, not slow.
fn time_limit(name: &str, quick: bool) -> Duration {
    let minutes = match (name, quick) {
        ("freshness-sparse", true) | ("freshness-sustained", true) => 3,
        ("freshness-sparse", false) | ("freshness-sustained", false) => 6,
        ("memory", false) | ("memory-transaction", false) => 20,
        ("decode", false) => 15,
        _ => 10,
    };
    Duration::from_secs(minutes * 60)
}

fn profile_name(quick: bool) -> &'static str {
    if quick {
        "quick"
    } else {
        "full"
    }
}

fn write_report(cli: &Cli) -> ExitCode {
    let results = match outcome::read_lines(&cli.results) {
        Ok(results) if !results.is_empty() => results,
        Ok(_) => {
            eprintln!(
                "sheetsync-bench: {} holds no results; run ./bench/run.sh first",
                cli.results.display()
            );
            return ExitCode::from(1);
        }
        Err(error) => {
            eprintln!("sheetsync-bench: {error}; run ./bench/run.sh first");
            return ExitCode::from(1);
        }
    };
    let text = report::render(&results, BENCHMARKS);
    if let Err(error) = std::fs::write(&cli.report_file, text) {
        eprintln!(
            "sheetsync-bench: cannot write {}: {error}",
            cli.report_file.display()
        );
        return ExitCode::from(1);
    }
    println!("wrote {}", cli.report_file.display());
    ExitCode::SUCCESS
}

/// CPU model and count from /proc/cpuinfo, memory from `free`, kernel from /proc.
fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map(|model| model.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    let memory = std::process::Command::new("free")
        .arg("-h")
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find(|line| line.starts_with("Mem:"))
                .and_then(|line| line.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_default();
    Machine {
        cpu,
        cores,
        memory,
        kernel,
    }
}

/// (steal, total) jiffies of all CPUs from /proc/stat's `cpu` line.
fn cpu_times() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    let steal = *fields.get(7)?;
    let total = fields.iter().take(8).sum();
    Some((steal, total))
}

/// Steal as a share of all CPU time between two `cpu_times` samples.
fn steal_percent(before: (u64, u64), after: (u64, u64)) -> f64 {
    let steal = after.0.saturating_sub(before.0) as f64;
    let total = after.1.saturating_sub(before.1) as f64;
    if total > 0.0 {
        100.0 * steal / total
    } else {
        0.0
    }
}

/// The 1-minute load average from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn git_commit() -> String {
    let run = |arguments: &[&str]| {
        std::process::Command::new("git")
            .args(arguments)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    if dirty {
        format!("{commit}+changes")
    } else {
        commit
    }
}

#[cfg(test)]
mod tests {
    use super::steal_percent;

    #[test]
    fn steal_is_a_share_of_the_cpu_time_between_samples() {
        assert_eq!(steal_percent((10, 1_000), (30, 1_200)), 10.0);
        assert_eq!(steal_percent((10, 1_000), (10, 1_000)), 0.0);
        // A counter that went backwards (a new boot between samples) is not a negative share.
        assert_eq!(steal_percent((50, 1_000), (10, 900)), 0.0);
    }
}
