//! The `sheetsync` command line. Thin: parse, set up logging, call the library, map to an exit
//! code. Exit codes: 0 success, 1 a check failed (for `reconcile --dry-run`: drift found), 2 the
//! configuration is unusable; `reconcile` adds 3 (another process holds the lease) and 4 (a
//! mapping could not be reconciled).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sheetsync::config::Config;
use sheetsync::sync::pipeline::RunOptions;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "sheetsync",
    version,
    about = "Two-way, real-time sync between MySQL/MariaDB tables and Google Sheets tabs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Preflight: check the database and the Google side of every mapping; print each problem with its fix.
    Check {
        /// The TOML config file (keys overridable by SHEETSYNC_… environment variables).
        #[arg(
            long,
            short,
            env = "SHEETSYNC_CONFIG",
            default_value = "sheetsync.toml"
        )]
        config: PathBuf,
    },
    /// Stream MySQL changes into the sheets (and serve the webhook) until SIGTERM or Ctrl-C.
    Run {
        #[arg(
            long,
            short,
            env = "SHEETSYNC_CONFIG",
            default_value = "sheetsync.toml"
        )]
        config: PathBuf,
    },
    /// Load one mapping's tab again from a consistent snapshot of its table, then exit.
    Snapshot {
        #[arg(
            long,
            short,
            env = "SHEETSYNC_CONFIG",
            default_value = "sheetsync.toml"
        )]
        config: PathBuf,
        /// The mapping's name (default: its table name).
        #[arg(long)]
        mapping: String,
    },
    /// Compare each tab with its table and repair the drift by the mapping's conflict policy.
    ///
    /// Prints, per mapping, the rows only in the tab, the rows only in the table and every
    /// differing cell with both values. `db-wins` and `last-write-wins` send the table's values
    /// to the sheet (and append rows the tab lacks); `sheet-wins` writes the tab's values and
    /// rows to the table; rows only in the tab are never deleted.
    ///
    /// A repair writes the sheets only as the lease holder: it takes the lease, runs the sync
    /// for the duration, repairs through its writer, flushes and releases the lease. When a
    /// running `sheetsync run` holds the lease the repair is refused (exit 3): set
    /// `sync.reconcile_interval_seconds` to let that process repair. `--dry-run` only reads and
    /// works at any time.
    ///
    /// Exit codes: 0 no drift (dry run) or repair done; 1 drift found (dry run); 2 the
    /// configuration is unusable; 3 another sheetsync process holds the lease (no repair);
    /// 4 a mapping could not be read or repaired.
    Reconcile {
        #[arg(
            long,
            short,
            env = "SHEETSYNC_CONFIG",
            default_value = "sheetsync.toml"
        )]
        config: PathBuf,
        /// Only this mapping (default: all).
        #[arg(long)]
        mapping: Option<String>,
        /// List the drift; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> ExitCode {
    sheetsync::memory::limit_arenas();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sheetsync: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check { config } => {
            // `check` prints its findings; logs stay plain text on standard error.
            sheetsync::logging::init(sheetsync::config::LogFormat::Text);
            runtime.block_on(check(config))
        }
        Command::Run { config } => runtime.block_on(run(config, None)),
        Command::Snapshot { config, mapping } => runtime.block_on(run(config, Some(mapping))),
        Command::Reconcile {
            config,
            mapping,
            dry_run,
        } => runtime.block_on(reconcile(config, mapping, dry_run)),
    }
}

async fn reconcile(path: PathBuf, mapping: Option<String>, dry_run: bool) -> ExitCode {
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sheetsync reconcile: {error}");
            return ExitCode::from(2);
        }
    };
    sheetsync::logging::init(config.logging.format);
    let mappings: Vec<_> = match &mapping {
        None => config.mappings.clone(),
        Some(name) => config
            .mappings
            .iter()
            .filter(|candidate| &candidate.name == name)
            .cloned()
            .collect(),
    };
    if mappings.is_empty() {
        let names: Vec<&str> = config
            .mappings
            .iter()
            .map(|mapping| mapping.name.as_str())
            .collect();
        eprintln!(
            "sheetsync reconcile: no mapping named `{}` (the config has: {})",
            mapping.unwrap_or_default(),
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let mut report = std::io::stdout();
    match sheetsync::service::reconcile::command(&config, &mappings, dry_run, &mut report, shutdown)
        .await
    {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            tracing::error!(%error, "reconcile stopped");
            eprintln!("sheetsync reconcile: {error}");
            // 2 when the configuration cannot work (credentials, a port), else 4.
            ExitCode::from(if error.exit_code() == 2 { 2 } else { 4 })
        }
    }
}

/// `run`, or with `snapshot_mapping` the one-off load of that mapping.
async fn run(path: PathBuf, snapshot_mapping: Option<String>) -> ExitCode {
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sheetsync: {error}");
            return ExitCode::from(2);
        }
    };
    sheetsync::logging::init(config.logging.format);
    let mut options = RunOptions::default();
    if let Some(mapping) = snapshot_mapping {
        if !config
            .mappings
            .iter()
            .any(|candidate| candidate.name == mapping)
        {
            let names: Vec<&str> = config
                .mappings
                .iter()
                .map(|mapping| mapping.name.as_str())
                .collect();
            eprintln!(
                "sheetsync snapshot: no mapping named `{mapping}` (the config has: {})",
                names.join(", ")
            );
            return ExitCode::from(2);
        }
        options.snapshot = vec![mapping];
        options.load_only = true;
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match sheetsync::service::run(config, options, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "sheetsync stopped");
            eprintln!("sheetsync: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// SIGTERM (what Kubernetes and docker send) or Ctrl-C starts the graceful shutdown.
async fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
                shutdown.cancel();
                return;
            }
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping: flushing what is pending");
    shutdown.cancel();
}

async fn check(path: PathBuf) -> ExitCode {
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sheetsync check: {error}");
            return ExitCode::from(2);
        }
    };
    let mut findings = sheetsync::preflight::check_mysql(&config).await;
    findings.extend(sheetsync::preflight::check_sheets(&config).await);
    print!("{}", sheetsync::preflight::render(&findings));
    if findings.iter().all(|finding| finding.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
