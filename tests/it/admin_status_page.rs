//! The status page in a real browser (Debian's headless Chromium): it shows each mapping's
//! figures, refreshes itself (a figure changed after the page loaded appears), escapes what
//! users typed, and a screenshot is saved (the test's temp dir and `target/status-page.png`).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::Request;
use axum::middleware::{self, Next};
use sheetsync::config::ConflictPolicy;
use sheetsync::metrics::{DefiniteErrorKind, QuotaKind};
use sheetsync::status::{ConflictRecord, MappingState, ReadinessPolicy, Role, Side, Status};

use crate::admin_support::{admin_router, required_tool, start_admin, target_directory};

/// The `/status.json` request after which the pending figure changes.
const CHANGE_AFTER_REQUEST: usize = 2;

fn sample_status() -> Status {
    let status = Status::new(ReadinessPolicy::default());
    status.add_mapping("orders", "shop.orders", "1AbCsheet", "Orders");
    status.add_mapping("customers", "shop.customers", "1AbCsheet", "Customers");
    status.set_role(Role::Leader);
    status.set_binlog_connected(true);
    status.set_sheets_ready(true);
    status.set_position("0-1-4242");
    status.record_checkpoint("0-1-4240", SystemTime::now() - Duration::from_secs(2));
    status.set_binlog_expiry(Some(Duration::from_secs(7 * 86_400)));
    status.set_quota(QuotaKind::Write, 48, 60);
    status.set_quota(QuotaKind::Read, 59, 60);
    status.set_state("orders", MappingState::Streaming);
    status.set_lag("orders", 0.42);
    status.record_flush("orders", 250, SystemTime::now() - Duration::from_secs(3));
    // No oldest commit: the lag shown is the flush lag, a figure the test can predict.
    status.set_pending("orders", 1234, None);
    for _ in 0..12 {
        status.record_request("orders", QuotaKind::Write, SystemTime::now());
    }
    status.record_conflict(
        "orders",
        ConflictRecord {
            key: "1017".into(),
            column: "total".into(),
            policy: ConflictPolicy::LastWriteWins,
            winner: Side::Sheet,
            sheet_value: "99.50".into(),
            database_value: "98.00".into(),
            at: SystemTime::now() - Duration::from_secs(40),
        },
    );
    status.record_error(
        "orders",
        DefiniteErrorKind::Apply,
        "row 7: \"abc\" is not an INT for column qty <b>not bold</b>",
    );
    status.set_state(
        "customers",
        MappingState::Stalled {
            reason: "table shop.customers was dropped".into(),
        },
    );
    status
}

async fn run_chromium(chromium: &Path, arguments: &[String]) -> std::process::Output {
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .args(arguments)
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("run chromium")
}

#[tokio::test]
async fn the_status_page_shows_and_refreshes_the_figures() {
    let Some(chromium) = required_tool("chromium", "chromium") else {
        return;
    };
    let status = sample_status();
    let requests = Arc::new(AtomicUsize::new(0));
    let changing = {
        let status = status.clone();
        let requests = requests.clone();
        middleware::from_fn(move |request: Request, next: Next| {
            let status = status.clone();
            let requests = requests.clone();
            async move {
                if request.uri().path() == "/status.json"
                    && requests.fetch_add(1, Ordering::SeqCst) == CHANGE_AFTER_REQUEST
                {
                    // The page has rendered the old figure at least once by now.
                    status.set_pending("orders", 98_765, None);
                }
                next.run(request).await
            }
        })
    };
    let server = start_admin(admin_router(&status).layer(changing)).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let profile = |name: &str| {
        format!(
            "--user-data-dir={}",
            directory.path().join(name).to_string_lossy()
        )
    };

    let dom = run_chromium(
        &chromium,
        &[
            profile("dump"),
            "--virtual-time-budget=8000".into(),
            "--dump-dom".into(),
            format!("{}/", server.base),
        ],
    )
    .await;
    let html = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.status.success() && html.contains("data-mapping=\"orders\""),
        "chromium failed or the page rendered no mapping:\n{}\n{html}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let served = requests.load(Ordering::SeqCst);
    assert!(
        served > CHANGE_AFTER_REQUEST,
        "the page fetched /status.json only {served} times"
    );
    assert!(
        html.contains("98,765"),
        "the page did not pick up the change:\n{html}"
    );
    assert!(!html.contains("1,234"), "old figure still shown:\n{html}");
    for expected in [
        "0.42 s",
        "250 cells",
        "12 / 60",
        "48 of 60 left",
        "168.0 h",
        "0-1-4242",
        "1017",
        "99.50",
        "last-write-wins",
        "stalled: table shop.customers was dropped",
        "shop.orders ⇄ Orders",
    ] {
        assert!(html.contains(expected), "missing {expected:?} in:\n{html}");
    }
    assert!(
        html.contains("&lt;b&gt;not bold&lt;/b&gt;") && !html.contains("<b>not bold</b>"),
        "user text must be shown as text, not HTML:\n{html}"
    );

    let screenshot = directory.path().join("status-page.png");
    let shot = run_chromium(
        &chromium,
        &[
            profile("shot"),
            "--window-size=1280,900".into(),
            "--virtual-time-budget=3000".into(),
            format!("--screenshot={}", screenshot.to_string_lossy()),
            format!("{}/", server.base),
        ],
    )
    .await;
    let image = std::fs::read(&screenshot).unwrap_or_else(|error| {
        panic!(
            "no screenshot ({error}):\n{}",
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        image.len() > 20_000,
        "suspiciously small: {} bytes",
        image.len()
    );
    let copy = target_directory().join("status-page.png");
    std::fs::create_dir_all(target_directory()).expect("target dir");
    std::fs::copy(&screenshot, &copy).expect("copy the screenshot");
    eprintln!("status page screenshot: {}", copy.display());
}
