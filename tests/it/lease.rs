//! The HA lease against a real MariaDB, as a user with no privileges at all (`GET_LOCK` needs
//! none): a second acquirer waits as standby; when the first releases, is dropped, or has its
//! connection killed, the second takes over within seconds; the two never write at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable as _;
use sheetsync::config::DatabaseUrl;
use sheetsync::lease::{acquire, LeaseError, LeaseGuard};
use sheetsync::status::{ReadinessPolicy, Role, Status};
use sheetsync_testbed::MariaDb;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A user with no privileges and a lease name of its own on the shared server.
async fn unprivileged(label: &str) -> (DatabaseUrl, String) {
    let server = MariaDb::shared();
    let user = format!("lease_{label}_{}", std::process::id());
    server
        .execute(&format!(
            "CREATE OR REPLACE USER '{user}'@'%' IDENTIFIED BY 'lease-pw'"
        ))
        .await;
    let url = format!("mysql://{user}:lease-pw@127.0.0.1:{}", server.port());
    (DatabaseUrl::new(url), format!("sheetsync:test-{user}"))
}

async fn holder_of(name: &str) -> Option<u64> {
    let mut root = mysql_async::Conn::from_url(MariaDb::shared().root_url().as_str())
        .await
        .expect("root connection");
    let holder: Option<Option<u64>> = root
        .exec_first("SELECT IS_USED_LOCK(?)", (name,))
        .await
        .expect("IS_USED_LOCK");
    holder.flatten()
}

fn spawn_acquire(
    url: &DatabaseUrl,
    name: &str,
    cancel: &CancellationToken,
    status: &Status,
) -> JoinHandle<Result<LeaseGuard, LeaseError>> {
    let (url, name, cancel, status) = (
        url.clone(),
        name.to_string(),
        cancel.clone(),
        status.clone(),
    );
    tokio::spawn(async move { acquire(&url, &name, &cancel, &status).await })
}

async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn first_holder(url: &DatabaseUrl, name: &str) -> (LeaseGuard, Status) {
    let status = Status::new(ReadinessPolicy::default());
    let guard = acquire(url, name, &CancellationToken::new(), &status)
        .await
        .expect("first acquire");
    assert_eq!(status.role(), Role::Leader);
    assert_eq!(
        holder_of(name).await,
        Some(u64::from(guard.connection_id()))
    );
    (guard, status)
}

/// Start a standby and wait until it reports waiting.
async fn standby(
    url: &DatabaseUrl,
    name: &str,
) -> (JoinHandle<Result<LeaseGuard, LeaseError>>, Status) {
    let status = Status::new(ReadinessPolicy::default());
    let task = spawn_acquire(url, name, &CancellationToken::new(), &status);
    let watched = status.clone();
    wait_until(
        "the second process stands by",
        Duration::from_secs(10),
        || watched.role() == Role::Standby,
    )
    .await;
    assert!(
        !task.is_finished(),
        "the second must wait while the first holds"
    );
    (task, status)
}

async fn takeover(task: JoinHandle<Result<LeaseGuard, LeaseError>>) -> (LeaseGuard, Duration) {
    let started = Instant::now();
    let guard = tokio::time::timeout(Duration::from_secs(8), task)
        .await
        .expect("takeover within 8 s")
        .expect("task")
        .expect("acquired");
    (guard, started.elapsed())
}

#[tokio::test]
async fn a_released_lease_passes_to_the_standby() {
    let (url, name) = unprivileged("release").await;
    let (first, _) = first_holder(&url, &name).await;
    let (second, second_status) = standby(&url, &name).await;
    first.release().await;
    let (guard, elapsed) = takeover(second).await;
    assert_eq!(second_status.role(), Role::Leader);
    assert_eq!(
        holder_of(&name).await,
        Some(u64::from(guard.connection_id()))
    );
    eprintln!("takeover after release: {elapsed:?}");
}

#[tokio::test]
async fn a_dropped_guard_frees_the_lease() {
    let (url, name) = unprivileged("drop").await;
    let (first, _) = first_holder(&url, &name).await;
    let (second, _) = standby(&url, &name).await;
    drop(first);
    let (guard, _) = takeover(second).await;
    assert_eq!(
        holder_of(&name).await,
        Some(u64::from(guard.connection_id()))
    );
}

#[tokio::test]
async fn a_killed_holder_stops_writing_before_the_standby_starts() {
    let (url, name) = unprivileged("kill").await;
    let (first, first_status) = first_holder(&url, &name).await;
    let first_writing = first.writing();
    let (second, _) = standby(&url, &name).await;

    // Sample continuously: the first still writing while the second already holds = violation.
    let second_active = Arc::new(AtomicBool::new(false));
    let overlap = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (second_active, overlap, first_writing) = (
            second_active.clone(),
            overlap.clone(),
            first_writing.clone(),
        );
        tokio::spawn(async move {
            loop {
                if second_active.load(Ordering::SeqCst) && !first_writing.is_cancelled() {
                    overlap.store(true, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    MariaDb::shared()
        .execute(&format!("KILL {}", first.connection_id()))
        .await;
    let killed_at = Instant::now();
    let (guard, _) = takeover(second).await;
    second_active.store(true, Ordering::SeqCst);
    let takeover_after = killed_at.elapsed();

    assert!(first.lost().is_cancelled(), "the killed holder knows");
    assert!(first_writing.is_cancelled());
    assert_eq!(first_status.role(), Role::Starting);
    assert_eq!(
        holder_of(&name).await,
        Some(u64::from(guard.connection_id()))
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    sampler.abort();
    assert!(!overlap.load(Ordering::SeqCst), "two writers at once");
    assert!(
        takeover_after < Duration::from_secs(6),
        "{takeover_after:?}"
    );
    eprintln!("takeover after KILL: {takeover_after:?}");
}

#[tokio::test]
async fn shutdown_while_waiting_returns_cancelled() {
    let (url, name) = unprivileged("cancel").await;
    let (_first, _) = first_holder(&url, &name).await;
    let cancel = CancellationToken::new();
    let status = Status::new(ReadinessPolicy::default());
    let waiting = spawn_acquire(&url, &name, &cancel, &status);
    wait_until("standing by", Duration::from_secs(10), || {
        status.role() == Role::Standby
    })
    .await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("returns at once")
        .expect("task");
    assert!(matches!(result, Err(LeaseError::Cancelled)), "{result:?}");
}

#[tokio::test]
async fn wrong_credentials_are_a_definite_error_not_an_endless_retry() {
    let (url, name) = unprivileged("denied").await;
    let wrong = DatabaseUrl::new(url.expose().replace("lease-pw", "wrong"));
    let status = Status::new(ReadinessPolicy::default());
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        acquire(&wrong, &name, &CancellationToken::new(), &status),
    )
    .await
    .expect("returns");
    let error = result.expect_err("access denied");
    assert!(!error.is_transient(), "{error}");
    assert!(
        !error.to_string().contains("wrong"),
        "no password in: {error}"
    );
}
