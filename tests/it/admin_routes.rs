//! The admin listener's routes over HTTP: probes, `/status.json`, `/metrics` (valid for
//! `promtool check metrics`), and shutdown on cancel.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use sheetsync::metrics::QuotaKind;
use sheetsync::status::{MappingState, ReadinessPolicy, Role, Status};
use tokio_util::sync::CancellationToken;

use crate::admin_support::{admin_router, http_client, required_tool, start_admin};

fn status() -> Status {
    let status = Status::new(ReadinessPolicy::default());
    status.add_mapping("routes_orders", "shop.orders", "sheet-1", "Orders");
    status
}

#[tokio::test]
async fn healthz_answers_while_readyz_lists_why_not_ready() {
    let status = status();
    let server = start_admin(admin_router(&status)).await;
    let client = http_client();

    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    status.set_role(Role::Leader);
    let not_ready = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(not_ready.status(), 503);
    let body: serde_json::Value = not_ready.json().await.expect("json body");
    assert_eq!(body["ready"], false);
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("binlog not connected"), "{reasons}");
    assert!(reasons.contains("access token"), "{reasons}");

    status.set_binlog_connected(true);
    status.set_sheets_ready(true);
    status.set_state("routes_orders", MappingState::Streaming);
    let ready = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json body");
    assert_eq!(body["ready"], true);
    assert_eq!(body["role"], "leader");
}

#[tokio::test]
async fn status_json_and_the_page_are_served() {
    let status = status();
    status.set_pending("routes_orders", 17, Some(SystemTime::now()));
    let server = start_admin(admin_router(&status)).await;
    let client = http_client();
    let json: serde_json::Value = client
        .get(format!("{}/status.json", server.base))
        .send()
        .await
        .expect("status.json")
        .json()
        .await
        .expect("json");
    assert_eq!(json["mappings"][0]["name"], "routes_orders");
    assert_eq!(json["mappings"][0]["pending_cells"], 17);

    let page = client
        .get(format!("{}/", server.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("status.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must load nothing from elsewhere"
    );
}

#[tokio::test]
async fn metrics_are_valid_prometheus_text() {
    let status = status();
    status.set_lag("routes_orders", 0.5);
    status.set_quota(QuotaKind::Write, 59, 60);
    status.record_checkpoint("0-1-5", SystemTime::now() - Duration::from_secs(3));
    sheetsync::metrics::record_flush(sheetsync::metrics::FlushReason::Linger, 12);
    let server = start_admin(admin_router(&status)).await;
    let response = http_client()
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.expect("text");
    assert!(
        text.contains("sheetsync_replication_lag_seconds{mapping=\"routes_orders\"} 0.5"),
        "{text}"
    );
    let age_line = text
        .lines()
        .find(|line| line.starts_with("sheetsync_checkpoint_position_age_seconds "))
        .expect("checkpoint age exported at scrape time");
    let age: f64 = age_line
        .rsplit(' ')
        .next()
        .and_then(|value| value.parse().ok())
        .expect("a number");
    assert!((3.0..30.0).contains(&age), "{age_line}");

    let Some(promtool) = required_tool("promtool", "prometheus") else {
        return;
    };
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write metrics");
    let output = child.wait_with_output().expect("promtool output");
    assert!(
        output.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn serve_returns_when_cancelled() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cancel = CancellationToken::new();
    let task = tokio::spawn(sheetsync::admin::serve(
        listener,
        admin_router(&status()),
        cancel.clone(),
    ));
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("serve stops within 5 s")
        .expect("task");
    assert!(result.is_ok(), "{result:?}");
}
