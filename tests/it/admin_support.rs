//! Helpers for the admin-listener and deploy scenarios: starting the admin server on a free
//! port, fetching from it, and finding the external tools (Chromium, promtool) they drive.

use std::path::PathBuf;

use sheetsync::status::Status;
use tokio_util::sync::CancellationToken;

/// A running admin server; stops when dropped.
pub struct AdminServer {
    pub base: String,
    cancel: CancellationToken,
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Serve `router` (from `sheetsync::admin::router`, possibly with test layers) on 127.0.0.1.
pub async fn start_admin(router: axum::Router) -> AdminServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let cancel = CancellationToken::new();
    tokio::spawn(sheetsync::admin::serve(listener, router, cancel.clone()));
    AdminServer {
        base: format!("http://{address}"),
        cancel,
    }
}

/// The admin router over `status` with the process-wide Prometheus recorder.
pub fn admin_router(status: &Status) -> axum::Router {
    let handle = sheetsync::metrics::install().expect("install the recorder");
    sheetsync::admin::router(status.clone(), handle)
}

/// An HTTP client (reqwest is built without a default TLS provider; tests share ring's).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// An external program the scenario needs. Missing: a failure under CI (`CI=true`), otherwise
/// `None` after a loud message, so a developer without it still runs everything else.
pub fn required_tool(name: &str, debian_package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|directory| directory.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = format!(
            "`{name}` is not installed (Debian package `{debian_package}`; tests/run.sh installs it)"
        );
        assert!(
            std::env::var("CI")
                .map(|value| value != "true")
                .unwrap_or(true),
            "{message}: required under CI"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    }
    found
}

/// Where a copy of the status-page screenshot goes for people to look at.
pub fn target_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}
