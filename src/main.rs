//! The `sheetsync` command line. Thin: parse, set up logging, call the library, map to an exit
//! code. Exit codes: 0 success, 1 a check failed, 2 the configuration is unusable.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sheetsync::config::Config;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sheetsync: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check { config } => runtime.block_on(check(config)),
    }
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
