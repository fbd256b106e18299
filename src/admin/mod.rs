//! The admin listener (`metrics.listen`): Prometheus metrics, probes, and the status page.
//!
//! Consumes the shared [`Status`] and the Prometheus recorder's handle; produces an axum
//! [`Router`] with:
//! - `GET /metrics`: Prometheus text format (time-dependent gauges refreshed first);
//! - `GET /healthz`: 200 while the process serves HTTP at all (liveness);
//! - `GET /readyz`: 200 or 503 with `{"ready":…,"role":…,"reasons":[…]}` (see
//!   [`Status::readiness`]; the rules are in `docs/operations.md`);
//! - `GET /status.json`: the [`crate::status::StatusSnapshot`];
//! - `GET /`: the status page, one self-contained HTML file that polls `/status.json` every second.
//!
//! Guarantees: no handler blocks on the pipeline (each takes the status lock for microseconds);
//! nothing here writes anywhere; [`serve`] returns once `cancel` fires and open requests finish.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::MetricsError;
use crate::status::Status;

/// The status page (`/`), compiled in so the binary is all a deployment needs.
pub const STATUS_PAGE: &str = include_str!("status_page.html");

/// The routes served, for probes and tests that check a manifest against them.
pub const ROUTES: &[&str] = &["/", "/healthz", "/readyz", "/status.json", "/metrics"];

pub mod retention;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Definite: the address is taken or not ours (fix `metrics.listen`).
    #[error("cannot listen on {address} (metrics.listen): {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    /// Definite: the listener failed (the process should exit and be restarted).
    #[error("admin listener failed: {0}")]
    Serve(#[from] std::io::Error),
    /// Definite: another metrics recorder is installed in this process.
    #[error("{0}")]
    Metrics(#[from] MetricsError),
    /// Reading a server setting failed; transient unless access was denied.
    #[error("reading the binlog retention setting failed: {0}")]
    Database(#[from] mysql_async::Error),
    #[error("mysql.url is not a usable MySQL URL")]
    InvalidUrl,
}

impl AdminError {
    pub fn is_transient(&self) -> bool {
        match self {
            AdminError::Database(mysql_async::Error::Server(server)) => {
                !matches!(server.code, 1044 | 1045 | 1049 | 1142 | 1227 | 1698)
            }
            AdminError::Database(mysql_async::Error::Url(_)) => false,
            AdminError::Database(_) => true,
            AdminError::Bind { .. }
            | AdminError::Serve(_)
            | AdminError::Metrics(_)
            | AdminError::InvalidUrl => false,
        }
    }
}

/// The running admin listener: where it listens, and its task (ends after `cancel`).
#[derive(Debug)]
pub struct Running {
    pub address: SocketAddr,
    pub task: JoinHandle<Result<(), AdminError>>,
}

/// Everything `sheetsync run` needs in one call: install the metrics recorder, bind `listen`,
/// serve the admin routes over `status`, and keep the recorder's histograms bounded, until
/// `cancel`. Binding happens before this returns, so a taken port is reported at start.
pub async fn start(
    listen: SocketAddr,
    status: Status,
    cancel: CancellationToken,
) -> Result<Running, AdminError> {
    let metrics = crate::metrics::install()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| AdminError::Bind {
            address: listen,
            source,
        })?;
    let address = listener.local_addr()?;
    tokio::spawn(crate::metrics::run_upkeep(metrics.clone(), cancel.clone()));
    let task = tokio::spawn(serve(listener, router(status, metrics), cancel));
    tracing::info!(%address, "admin listener: /metrics /healthz /readyz /status.json and the status page at /");
    Ok(Running { address, task })
}

#[derive(Clone)]
struct AdminState {
    status: Status,
    metrics: PrometheusHandle,
}

pub fn router(status: Status, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status.json", get(status_json))
        .route("/metrics", get(prometheus_metrics))
        .with_state(AdminState { status, metrics })
}

/// Serve `router` on `listener` until `cancel` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    cancel: CancellationToken,
) -> Result<(), AdminError> {
    axum::serve(listener, router)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await?;
    Ok(())
}

const NO_STORE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

async fn status_page() -> Response {
    ([NO_STORE], Html(STATUS_PAGE)).into_response()
}

async fn healthz() -> Response {
    ([NO_STORE], "ok\n").into_response()
}

async fn readyz(State(state): State<AdminState>) -> Response {
    let readiness = state.status.readiness();
    let code = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, [NO_STORE], Json(readiness)).into_response()
}

async fn status_json(State(state): State<AdminState>) -> Response {
    ([NO_STORE], Json(state.status.snapshot())).into_response()
}

async fn prometheus_metrics(State(state): State<AdminState>) -> Response {
    state.status.export_time_gauges();
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            NO_STORE,
        ],
        state.metrics.render(),
    )
        .into_response()
}
