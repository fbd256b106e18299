//! `sheets-emulator`: run the Google Sheets API v4 emulator as a process (for the demo and for
//! clients in other languages, e.g. `tests/real-clients/`).
//!
//! On start it prints, and flushes, two lines that scripts parse:
//! ```text
//! sheets-emulator listening on http://127.0.0.1:PORT
//! service-account key file: PATH
//! ```
//! With `--webhook-url` and `--webhook-secret-file`, person edits (the admin calls under
//! `/_emulator/person/` and the grid page at `/_emulator/grid/{spreadsheetId}`) are sent to that
//! webhook as the Apps Script sends them.
//!
//! It stops on ctrl-c, SIGTERM, or after `--exit-after-secs` (so a server a test started can
//! never outlive the test by long).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use sheets_emulator::person::WebhookTarget;
use sheets_emulator::EmulatorConfig;

#[derive(Parser)]
#[command(
    name = "sheets-emulator",
    about = "In-memory Google Sheets API v4 emulator"
)]
struct Arguments {
    /// Address to listen on; port 0 picks a free port (the printed URL has the real one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// A service-account JSON key file whose key to trust (repeatable). Without any, a key is
    /// generated and its key file written.
    #[arg(long = "service-account", value_name = "FILE")]
    service_accounts: Vec<PathBuf>,
    /// Where to write the generated key file (default: a file in the temp directory).
    #[arg(long, value_name = "PATH")]
    key_out: Option<PathBuf>,
    /// Stop by itself after this many seconds.
    #[arg(long, value_name = "N")]
    exit_after_secs: Option<u64>,
    /// Where person edits (`/_emulator/person/*`, the grid page) send their signed messages,
    /// as the Apps Script would: sheetsync's `POST /webhook` URL.
    #[arg(long, value_name = "URL", requires = "webhook_secret_file")]
    webhook_url: Option<String>,
    /// A file holding the webhook secret (trailing newlines ignored).
    #[arg(long, value_name = "PATH", requires = "webhook_url")]
    webhook_secret_file: Option<PathBuf>,
    /// The key columns' header names (the script's KEY_COLUMNS).
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        default_value = "id"
    )]
    webhook_key_columns: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let arguments = Arguments::parse();
    let config = EmulatorConfig {
        service_account_files: arguments.service_accounts.clone(),
        generated_key_path: arguments.key_out.clone(),
    };
    let emulator = sheets_emulator::start(arguments.listen, config).await?;
    if let (Some(url), Some(secret_file)) = (&arguments.webhook_url, &arguments.webhook_secret_file)
    {
        let secret = std::fs::read_to_string(secret_file).map_err(|error| {
            anyhow::anyhow!(
                "cannot read --webhook-secret-file {}: {error}",
                secret_file.display()
            )
        })?;
        let mut target = WebhookTarget::new(url, secret.trim_end_matches(['\r', '\n']));
        target.key_columns = arguments.webhook_key_columns.clone();
        emulator.state.person().configure_webhook(target)?;
    }
    let key_file = match &emulator.key_file {
        Some(path) => path.clone(),
        None => arguments
            .service_accounts
            .first()
            .cloned()
            .unwrap_or_default(),
    };
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "sheets-emulator listening on {}", emulator.base_url)?;
        writeln!(stdout, "service-account key file: {}", key_file.display())?;
        stdout.flush()?;
    }
    let reason = wait_for_stop(arguments.exit_after_secs).await;
    tracing::info!("stopping: {reason}");
    emulator.shutdown().await;
    Ok(())
}

/// Resolve when the process should stop, saying why.
async fn wait_for_stop(exit_after_secs: Option<u64>) -> &'static str {
    let deadline = async {
        match exit_after_secs {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = terminated() => "terminated",
        _ = deadline => "--exit-after-secs elapsed",
    }
}

#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            terminate.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}
