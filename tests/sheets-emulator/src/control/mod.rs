//! The control plane: what happens to every Sheets API call around the handler, and the admin
//! API that steers it.
//!
//! # Per call, in this order ([`wrap`])
//! 1. **log** — the call is recorded once it has an answer: method, path, query, body, status,
//!    duration, class (`read`/`write`), the token's service account, and the injected fault.
//! 2. **latency** — the configured delay for the call's class.
//! 3. **authentication** — `Authorization: Bearer <token from /token>`; missing, unknown or
//!    expired → 401 `UNAUTHENTICATED` with Google's message. A read-only scope on a write → 403.
//! 4. **quota** — per service account, per class, per rolling window (60 s unless changed):
//!    over the limit → 429 `RESOURCE_EXHAUSTED` with Google's exact body. Unlimited by default.
//! 5. **faults before applying** → 500/503, nothing applied.
//! 6. **the API handler**.
//! 7. **faults after applying** → the handler's success is replaced by 500/503: the write
//!    happened, the client does not know.
//!
//! Reads are GETs plus the POSTs `developerMetadata:search`, `values:batchGetByDataFilter` and
//! `:getByDataFilter`; every other call is a write.
//!
//! # Admin API (no authentication; JSON in and out)
//! | call | body / answer |
//! |---|---|
//! | `GET /_emulator/quota` | `{"read_requests_per_minute":null,"write_requests_per_minute":null,"window_ms":60000}` (`null` = unlimited) |
//! | `PUT /_emulator/quota` | the same shape; absent limits are unlimited, absent `window_ms` is 60000. Starts fresh windows. Answers the new settings |
//! | `GET /_emulator/faults` | `{"faults":[{"id":1,"status":503,"stage":"before","class":"write","count":2,"probability":null,"seed":0,"fired":0}]}` |
//! | `POST /_emulator/faults` | `{"status":503,"stage":"before"\|"after","class":"read"\|"write"\|"all","count":N}` or `…"probability":0.3,"seed":7}`; defaults: 503, before, all. Answers the fault with its `id`; 400 if invalid. A count fault disappears once used up |
//! | `DELETE /_emulator/faults` | remove all faults |
//! | `DELETE /_emulator/faults/{id}` | remove one (404 if unknown) |
//! | `GET /_emulator/latency` | `{"ms":0,"read_ms":null,"write_ms":null}`: `read_ms`/`write_ms` override `ms` for their class |
//! | `PUT /_emulator/latency` | the same shape; answers the new settings |
//! | `GET /_emulator/requests?since=SEQ&class=write&status=429` | `{"requests":[LoggedRequest…],"last_seq":N}`; each entry: `seq, method, path, query, body, body_bytes, body_truncated, status, duration_ms, class, client_email, fault` |
//! | `DELETE /_emulator/requests` | clear the log and the summary |
//! | `GET /_emulator/summary` | `{"total":N,"by_status":{"200":N},"by_class":{"write":N},"by_class_and_status":{"write":{"429":N}},"faults":N}` |
//! | `POST /_emulator/reset` | unlimited quota, no faults, no latency, empty log (tokens and data stay) |
//! | `POST /_emulator/tokens/expire`, `DELETE /_emulator/tokens` | expire / forget all issued tokens (see `auth`) |
//!
//! Every knob is also a method of [`Control`], reachable from Rust tests as
//! `running_emulator.state.control`.

mod admin;
pub mod faults;
pub mod google_errors;
mod layer;
pub mod quota;
pub mod request_class;
pub mod request_log;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::SharedState;
pub use faults::{Fault, FaultSpec, FaultStage};
pub use quota::QuotaSettings;
pub use request_class::{ClassFilter, RequestClass};
pub use request_log::{LoggedRequest, Summary};

/// Added latency per call, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySettings {
    #[serde(default)]
    pub ms: u64,
    /// Overrides `ms` for reads.
    #[serde(default)]
    pub read_ms: Option<u64>,
    /// Overrides `ms` for writes.
    #[serde(default)]
    pub write_ms: Option<u64>,
}

impl LatencySettings {
    pub fn for_class(&self, class: RequestClass) -> Duration {
        let ms = match class {
            RequestClass::Read => self.read_ms,
            RequestClass::Write => self.write_ms,
        };
        Duration::from_millis(ms.unwrap_or(self.ms))
    }
}

#[derive(Default)]
struct ControlState {
    quota: quota::Quota,
    faults: faults::Faults,
    latency: LatencySettings,
    log: request_log::RequestLog,
    /// `None`: [`request_log::MAX_LOGGED_BODY_BYTES`].
    logged_body_limit: Option<usize>,
}

/// Quota, faults, latency and the request log of one emulator.
#[derive(Default)]
pub struct Control {
    // A std mutex: it is never held across an await, and every critical section is short.
    state: Mutex<ControlState>,
    /// The person's webhook settings and delivery queue (`crate::person`; reach it through
    /// `EmulatorState::person()`). Kept here so `EmulatorState` keeps its fields.
    pub(crate) person: crate::person::PersonState,
}

impl Control {
    pub fn quota(&self) -> QuotaSettings {
        self.lock().quota.settings
    }

    /// Replace the quota settings; usage windows start fresh.
    pub fn set_quota(&self, settings: QuotaSettings) {
        self.lock().quota.set(settings);
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.lock().faults.list()
    }

    /// Add a fault; `Err` says why the spec is invalid.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<Fault, String> {
        self.lock().faults.add(spec)
    }

    pub fn remove_fault(&self, id: u64) -> bool {
        self.lock().faults.remove(id)
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn latency(&self) -> LatencySettings {
        self.lock().latency
    }

    pub fn set_latency(&self, settings: LatencySettings) {
        self.lock().latency = settings;
    }

    /// Logged calls with `seq > since` (all when `None`), oldest first.
    pub fn requests(&self, since: Option<u64>) -> Vec<LoggedRequest> {
        self.lock().log.since(since)
    }

    /// The `seq` of the latest logged call (0 before any): pass it as `since` later to see
    /// only the calls made in between.
    pub fn last_seq(&self) -> u64 {
        self.lock().log.last_seq()
    }

    /// Bodies longer than this many bytes are cut in the request log.
    pub fn logged_body_limit(&self) -> usize {
        self.lock()
            .logged_body_limit
            .unwrap_or(request_log::MAX_LOGGED_BODY_BYTES)
    }

    /// Keep bodies up to `bytes` whole in the log, for a test that reads every row a large
    /// flush wrote. The log keeps up to `MAX_ENTRIES` entries, so raise it only in short tests.
    pub fn set_logged_body_limit(&self, bytes: usize) {
        self.lock().logged_body_limit = Some(bytes);
    }

    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    pub fn summary(&self) -> Summary {
        self.lock().log.summary()
    }

    /// Back to the defaults: unlimited quota, no faults, no latency, empty log.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.quota.set(QuotaSettings::default());
        state.faults.clear();
        state.latency = LatencySettings::default();
        state.log.clear();
    }

    fn admit(&self, account: &str, class: RequestClass) -> bool {
        self.lock().quota.admit(account, class, Instant::now())
    }

    fn strike(&self, class: RequestClass, stage: FaultStage) -> Option<u16> {
        self.lock().faults.strike(class, stage)
    }

    fn record(&self, entry: LoggedRequest) {
        self.lock().log.record(entry);
    }

    /// Every update under this lock is a few field assignments, so state behind a poisoned
    /// lock is still consistent and the emulator keeps serving.
    fn lock(&self) -> MutexGuard<'_, ControlState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Put the control layer around every route and the fallback of the API router.
///
/// The layered API becomes the *fallback service* of the returned router: `/token` and
/// `/_emulator/*`, merged in beside it, match first, and every other request, including paths
/// the API does not know (404), passes through the control layer. (Layering the API router
/// itself would lose its layered fallback when `lib.rs` merges the other routers into it.)
pub fn wrap(api: Router<SharedState>, state: SharedState) -> Router<SharedState> {
    let layered = api
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layer::control_layer,
        ))
        .with_state(state);
    Router::new().fallback_service(layered)
}

/// The admin API under `/_emulator/` (see the module documentation).
pub fn admin_routes() -> Router<SharedState> {
    admin::routes()
}
