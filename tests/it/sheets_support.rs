//! Helpers for the Sheets client scenarios: an emulator, a client pointed at it with fast
//! retry settings, and readers of the emulator's request log.

use std::path::PathBuf;
use std::time::Duration;

use sheets_emulator::control::LoggedRequest;
use sheets_emulator::{EmulatorConfig, RunningEmulator};
use sheetsync::config::GoogleConfig;
use sheetsync::sheets::{ClientOptions, QuotaSettings, RetryPolicy, SheetsClient};

pub async fn start_emulator() -> RunningEmulator {
    sheets_emulator::start(
        "127.0.0.1:0".parse().expect("address"),
        EmulatorConfig::default(),
    )
    .await
    .expect("start emulator")
}

pub fn google_config(emulator: &RunningEmulator) -> GoogleConfig {
    GoogleConfig {
        credentials_file: Some(key_file(emulator)),
        api_base: emulator.base_url.clone(),
    }
}

pub fn key_file(emulator: &RunningEmulator) -> PathBuf {
    emulator.key_file.clone().expect("generated key file")
}

/// Retries in tens of milliseconds, so a scenario with several retries takes well under 5 s.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(400),
        jitter_max: Duration::from_millis(10),
        minimum_after_quota: Duration::from_millis(200),
        max_retries: Some(10),
    }
}

/// Options with fast retries and a budget large enough never to wait.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        quota: QuotaSettings {
            read_requests_per_window: 10_000,
            write_requests_per_window: 10_000,
            window: Duration::from_secs(60),
            burst: None,
        },
        retry: fast_retry(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(20),
    }
}

pub async fn client_with(emulator: &RunningEmulator, options: ClientOptions) -> SheetsClient {
    SheetsClient::new(&google_config(emulator), options)
        .await
        .expect("sheets client")
}

pub async fn client(emulator: &RunningEmulator) -> SheetsClient {
    client_with(emulator, fast_options()).await
}

/// Logged write calls after `since`.
pub fn writes_since(emulator: &RunningEmulator, since: u64) -> Vec<LoggedRequest> {
    emulator
        .state
        .control
        .requests(Some(since))
        .into_iter()
        .filter(|entry| entry.method != "GET" && !entry.path.ends_with(":search"))
        .collect()
}

pub fn statuses(entries: &[LoggedRequest]) -> Vec<u16> {
    entries.iter().map(|entry| entry.status).collect()
}
