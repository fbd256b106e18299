//! An in-memory emulator of the Google Sheets API v4, for sheetsync's tests, benchmarks and demo.
//!
//! It speaks Google's REST wire format (paths, query parameters, JSON field names, the
//! `google.rpc.Status` error envelope) closely enough that Google's own client libraries
//! (`google-api-python-client`, `gspread`) work against it unchanged; `tests/real-clients/`
//! proves that. When a real client and the emulator disagree, the emulator is wrong.
//!
//! # Layout
//! ```text
//!   request ──► control (request log, latency, auth, quota, faults) ──► api (Sheets v4 handlers) ──► store
//!                 │                                                      │
//!                 └── /token (service-account JWT grant)                 └── one Mutex<Store>: every call is
//!                 └── /_emulator/* (admin: quota, faults, log)               atomic, batches apply all-or-nothing
//!                 └── /_emulator/person/*, /_emulator/grid/* (a person editing, with the Apps Script installed)
//! ```
//! - `api/` owns the spreadsheets, their grids and developer metadata, and Google's semantics.
//! - `auth` verifies service-account JWTs (RS256) and issues and checks bearer tokens.
//! - `control/` wraps every API call: request log, latency, authentication, per-token quota,
//!   injected faults (before and after applying), and the admin API under `/_emulator/`.
//! - `person/` plays a person in the Sheets UI: edits, pastes, new rows, row inserts, deletes
//!   and sorts, each followed by the signed webhook message the Apps Script sends; and the
//!   live grid page of the demo.

pub mod api;
pub mod auth;
pub mod control;
pub mod error;
pub mod person;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

/// Everything one emulator instance holds. Shared by all handlers behind an `Arc`.
pub struct EmulatorState {
    /// The spreadsheets: one lock for the whole store, so each API call is atomic.
    pub store: api::Store,
    /// Trusted service-account keys and the access tokens issued so far.
    pub auth: auth::Auth,
    /// Quota, fault switches, latency and the request log.
    pub control: control::Control,
}

pub type SharedState = Arc<EmulatorState>;

/// How to start an emulator.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Service-account key files whose keys are trusted. Empty: generate a key and write a
    /// ready-to-use key file (its `token_uri` pointing at this emulator).
    pub service_account_files: Vec<PathBuf>,
    /// Where to write the generated key file (default: a file in the system temp directory).
    pub generated_key_path: Option<PathBuf>,
}

/// The full router: control layer around the Sheets API, plus `/token` and `/_emulator/*`.
pub fn router(state: SharedState) -> Router {
    let api = api::routes();
    let api = control::wrap(api, state.clone());
    api.merge(auth::routes())
        .merge(control::admin_routes())
        .merge(person::routes())
        .with_state(state)
}

/// A running emulator. Dropping it does not stop it; call [`RunningEmulator::shutdown`] or let
/// the process end.
pub struct RunningEmulator {
    pub address: SocketAddr,
    /// `http://127.0.0.1:PORT`, the value for sheetsync's `google.api_base`.
    pub base_url: String,
    /// A service-account key file whose `token_uri` points at this emulator, ready for
    /// yup-oauth2 or Google's client libraries. Set when the key was generated.
    pub key_file: Option<PathBuf>,
    pub state: SharedState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Bind `listen` (use port 0 for a free port) and serve until shut down.
pub async fn start(listen: SocketAddr, config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let base_url = format!("http://{address}");
    let (auth, key_file) = auth::Auth::from_config(&config, &base_url)?;
    let state = Arc::new(EmulatorState {
        store: api::Store::default(),
        auth,
        control: control::Control::default(),
    });
    let app = router(state.clone());
    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = shutdown_rx.await;
            })
            .await;
    });
    Ok(RunningEmulator {
        address,
        base_url,
        key_file,
        state,
        shutdown,
        task,
    })
}
