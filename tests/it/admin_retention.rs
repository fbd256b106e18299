//! The binlog retention headroom end to end: the server's expiry read as a user with no
//! privileges, the headroom exported on `/metrics` by `admin::start`, and a taken admin port
//! reported by name.

use std::time::{Duration, SystemTime};

use sheetsync::admin::{retention::binlog_expiry, AdminError};
use sheetsync::config::DatabaseUrl;
use sheetsync::status::{ReadinessPolicy, Status};
use sheetsync_testbed::MariaDb;
use tokio_util::sync::CancellationToken;

use crate::admin_support::http_client;

#[tokio::test]
async fn the_headroom_follows_the_servers_expiry_and_the_lag() {
    let server = MariaDb::start().expect("own server: the test changes a global setting");
    server
        .execute("CREATE USER 'retention'@'%' IDENTIFIED BY 'pw'")
        .await;
    let url = DatabaseUrl::new(format!("mysql://retention:pw@127.0.0.1:{}", server.port()));
    server
        .execute("SET GLOBAL binlog_expire_logs_seconds = 0")
        .await;
    server.execute("SET GLOBAL expire_logs_days = 0").await;
    assert_eq!(binlog_expiry(&url).await.expect("read"), None);
    server
        .execute("SET GLOBAL binlog_expire_logs_seconds = 7200")
        .await;
    let expiry = binlog_expiry(&url).await.expect("read");
    assert_eq!(expiry, Some(Duration::from_secs(7200)));

    let status = Status::new(ReadinessPolicy::default());
    status.set_binlog_expiry(expiry);
    status.set_pending(
        "retention_orders",
        3,
        Some(SystemTime::now() - Duration::from_secs(200)),
    );
    let cancel = CancellationToken::new();
    let running = sheetsync::admin::start(([127, 0, 0, 1], 0).into(), status, cancel.clone())
        .await
        .expect("start");
    let text = http_client()
        .get(format!("http://{}/metrics", running.address))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    let line = text
        .lines()
        .find(|line| line.starts_with("sheetsync_binlog_retention_headroom_seconds "))
        .unwrap_or_else(|| panic!("no headroom in:\n{text}"));
    let headroom: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|value| value.parse().ok())
        .expect("a number");
    assert!((6990.0..=7000.0).contains(&headroom), "{line}");
    cancel.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), running.task)
        .await
        .expect("stops")
        .expect("task");
    assert!(stopped.is_ok(), "{stopped:?}");
}

#[tokio::test]
async fn a_taken_admin_port_is_reported_by_its_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address");
    let error = sheetsync::admin::start(
        address,
        Status::new(ReadinessPolicy::default()),
        CancellationToken::new(),
    )
    .await
    .expect_err("the port is taken");
    assert!(matches!(error, AdminError::Bind { .. }), "{error:?}");
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(
        message.contains("metrics.listen") && message.contains(&address.to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let error = binlog_expiry(&DatabaseUrl::new(format!("mysql://u:p@127.0.0.1:{port}")))
        .await
        .expect_err("nothing listens");
    assert!(error.is_transient(), "{error}");
}
