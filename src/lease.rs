//! High availability: of several sheetsync processes with the same config, only the holder of
//! a lease writes; the others wait and take over when it dies.
//!
//! Consumes the MySQL URL, a lease name ([`lease_name`]) and the shutdown token; produces a
//! [`LeaseGuard`] once this process holds the lease. The lease is MySQL's named lock
//! (`GET_LOCK`) on a dedicated connection: the server frees it the moment that connection ends,
//! however the holder dies. Guarantees:
//! - at most one process holds the lock (the server's guarantee);
//! - the holder checks every [`CHECK_INTERVAL`] that the lock is still its own
//!   (`IS_USED_LOCK(name) = CONNECTION_ID()`, bounded by [`CHECK_TIMEOUT`]); a failed, slow or
//!   wrong answer cancels [`LeaseGuard::lost`] at once, and the holder must stop writing;
//! - the holder's session has a short `wait_timeout`, so the server also drops a holder that
//!   went silent (network partition) instead of keeping the lock for hours;
//! - a new holder waits [`TAKEOVER_GRACE`] after getting the lock before it is returned: by
//!   then a previous holder that lost its connection has failed a check and stopped, so two
//!   writers never overlap.

use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DatabaseUrl};
use crate::status::{Role, Status};

pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// Longer than a lost holder needs to notice: one interval, one timed-out check, and slack.
pub const TAKEOVER_GRACE: Duration = Duration::from_millis(2_500);
/// `GET_LOCK`'s own wait per attempt: short, so cancellation and status stay responsive.
const WAIT_PER_ATTEMPT_SECONDS: u32 = 1;
/// The server ends a holder's session silent for this long (it checks every second).
const HOLDER_WAIT_TIMEOUT_SECONDS: u32 = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAXIMUM_RECONNECT_DELAY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease: mysql.url is not a usable MySQL URL")]
    InvalidUrl,
    #[error("lease: MySQL refused or failed the lease connection: {0}")]
    Database(#[from] mysql_async::Error),
    #[error("lease: no answer from MySQL within {0:?}")]
    Timeout(Duration),
    #[error("lease: GET_LOCK({name:?}) failed on the server")]
    LockFailed { name: String },
    #[error("lease: shut down while waiting for the lease")]
    Cancelled,
}

impl LeaseError {
    /// Transient errors are retried inside [`acquire`]; definite ones end it.
    pub fn is_transient(&self) -> bool {
        match self {
            LeaseError::Database(error) => is_transient_mysql(error),
            LeaseError::Timeout(_) | LeaseError::LockFailed { .. } => true,
            LeaseError::InvalidUrl | LeaseError::Cancelled => false,
        }
    }
}

fn is_transient_mysql(error: &mysql_async::Error) -> bool {
    match error {
        // Access denied (user, database, privilege) and unknown database: retrying cannot help.
        mysql_async::Error::Server(server) => {
            !matches!(server.code, 1044 | 1045 | 1049 | 1142 | 1227 | 1698)
        }
        mysql_async::Error::Url(_) => false,
        _ => true,
    }
}

/// The lease every process with this config competes for: one per replica identity, since two
/// readers with one `server_id` would also knock each other off the binlog.
pub fn lease_name(config: &Config) -> String {
    format!("sheetsync:{}", config.mysql.server_id)
}

/// The held lease. Dropping it releases the lock (in the background); [`LeaseGuard::release`]
/// releases it and waits, so a standby can take over at once on a graceful shutdown.
#[derive(Debug)]
pub struct LeaseGuard {
    name: String,
    connection_id: u32,
    lost: CancellationToken,
    writing: CancellationToken,
    release: CancellationToken,
    monitor: Option<JoinHandle<()>>,
}

impl LeaseGuard {
    /// Cancelled when the lease is lost (connection dead, check failed or too slow).
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// Cancelled when the lease is lost *or* the shutdown token given to [`acquire`] fires:
    /// the token the writing pipeline should run under.
    pub fn writing(&self) -> CancellationToken {
        self.writing.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server-side id of the lease connection (`KILL` it to test a takeover).
    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    /// Release the lock and close the lease connection, waiting until done (bounded).
    pub async fn release(mut self) {
        self.release.cancel();
        if let Some(monitor) = self.monitor.take() {
            let _ = tokio::time::timeout(CHECK_TIMEOUT * 4, monitor).await;
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.release.cancel();
        self.writing.cancel();
    }
}

/// Wait until this process holds the lease `name`, retrying transient failures with capped
/// backoff. `status` shows `standby` while another process holds it and `leader` once held.
/// Returns [`LeaseError::Cancelled`] when `cancel` fires first, and definite errors at once.
pub async fn acquire(
    url: &DatabaseUrl,
    name: &str,
    cancel: &CancellationToken,
    status: &Status,
) -> Result<LeaseGuard, LeaseError> {
    let options = Opts::from_url(url.expose()).map_err(|_| LeaseError::InvalidUrl)?;
    let mut failures: u32 = 0;
    loop {
        let attempt = tokio::select! {
            _ = cancel.cancelled() => return Err(LeaseError::Cancelled),
            attempt = wait_for_lock(options.clone(), name, status) => attempt,
        };
        match attempt {
            Ok(connection) => {
                let guard = hold(connection, name, cancel, status).await;
                if cancel.is_cancelled() {
                    guard.release().await;
                    return Err(LeaseError::Cancelled);
                }
                if !guard.lost.is_cancelled() {
                    return Ok(guard);
                }
                // Lost within the grace (the connection died at once): compete again.
                failures = 0;
            }
            Err(error) if error.is_transient() => {
                failures = failures.saturating_add(1);
                let delay = reconnect_delay(failures);
                tracing::warn!(%error, ?delay, "lease connection failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return Err(LeaseError::Cancelled),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// 0.5 s, 1 s, 2 s, … capped at [`MAXIMUM_RECONNECT_DELAY`].
fn reconnect_delay(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(8);
    (Duration::from_millis(500) * 2u32.pow(exponent)).min(MAXIMUM_RECONNECT_DELAY)
}

/// Connect and block in `GET_LOCK` until the lock is ours. Dropping this future (on shutdown)
/// drops the connection, which frees the lock if the server granted it in that instant.
async fn wait_for_lock(options: Opts, name: &str, status: &Status) -> Result<Conn, LeaseError> {
    let mut connection = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(options))
        .await
        .map_err(|_| LeaseError::Timeout(CONNECT_TIMEOUT))??;
    loop {
        let granted: Option<Option<i64>> = connection
            .exec_first("SELECT GET_LOCK(?, ?)", (name, WAIT_PER_ATTEMPT_SECONDS))
            .await?;
        match granted.flatten() {
            Some(1) => break,
            Some(_) => {
                if status.role() != Role::Standby {
                    tracing::info!(lease = name, "another process holds the lease; standing by");
                    status.set_role(Role::Standby);
                }
            }
            None => {
                return Err(LeaseError::LockFailed {
                    name: name.to_string(),
                })
            }
        }
    }
    // Once held, a silent session must not keep the lock for the default 8 hours.
    connection
        .query_drop(format!(
            "SET SESSION wait_timeout = {HOLDER_WAIT_TIMEOUT_SECONDS}"
        ))
        .await?;
    Ok(connection)
}

async fn hold(
    connection: Conn,
    name: &str,
    cancel: &CancellationToken,
    status: &Status,
) -> LeaseGuard {
    let connection_id = connection.id();
    let lost = CancellationToken::new();
    let writing = cancel.child_token();
    let release = CancellationToken::new();
    let monitor = tokio::spawn(monitor(
        connection,
        name.to_string(),
        lost.clone(),
        writing.clone(),
        release.clone(),
        status.clone(),
    ));
    tracing::info!(lease = name, connection_id, grace = ?TAKEOVER_GRACE, "lease acquired");
    // A holder that just lost its connection stops within the grace; the monitor runs meanwhile.
    tokio::select! {
        _ = lost.cancelled() => {}
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(TAKEOVER_GRACE) => status.set_role(Role::Leader),
    }
    LeaseGuard {
        name: name.to_string(),
        connection_id,
        lost,
        writing,
        release,
        monitor: Some(monitor),
    }
}

async fn monitor(
    mut connection: Conn,
    name: String,
    lost: CancellationToken,
    writing: CancellationToken,
    release: CancellationToken,
    status: Status,
) {
    let own_id = u64::from(connection.id());
    loop {
        tokio::select! {
            _ = release.cancelled() => {
                let _ = tokio::time::timeout(
                    CHECK_TIMEOUT,
                    connection.exec_drop("DO RELEASE_LOCK(?)", (name.as_str(),)),
                )
                .await;
                let _ = tokio::time::timeout(CHECK_TIMEOUT, connection.disconnect()).await;
                status.set_role(Role::Starting);
                tracing::info!(lease = %name, "lease released");
                return;
            }
            _ = tokio::time::sleep(CHECK_INTERVAL) => {}
        }
        let check = tokio::time::timeout(
            CHECK_TIMEOUT,
            connection.exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name.as_str(),)),
        )
        .await;
        let problem = match check {
            Ok(Ok(Some(Some(holder)))) if holder == own_id => continue,
            Ok(Ok(Some(Some(holder)))) => format!("the lock is held by connection {holder}"),
            Ok(Ok(_)) => "the lock is free: the server released it".to_string(),
            Ok(Err(error)) => format!("the lease connection failed: {error}"),
            Err(_) => format!("no answer within {CHECK_TIMEOUT:?}"),
        };
        lost.cancel();
        writing.cancel();
        status.set_role(Role::Starting);
        tracing::error!(lease = %name, %problem, "lease lost: stopping all writes");
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> LeaseError {
        LeaseError::Database(mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "message".into(),
            state: "HY000".into(),
        }))
    }

    #[test]
    fn classification() {
        assert!(!server_error(1045).is_transient(), "access denied");
        assert!(!server_error(1049).is_transient(), "unknown database");
        assert!(server_error(1927).is_transient(), "connection killed");
        assert!(server_error(2013).is_transient(), "lost connection");
        assert!(LeaseError::Timeout(CHECK_TIMEOUT).is_transient());
        assert!(LeaseError::LockFailed { name: "x".into() }.is_transient());
        assert!(!LeaseError::InvalidUrl.is_transient());
        assert!(!LeaseError::Cancelled.is_transient());
    }

    #[test]
    fn reconnect_delays_grow_and_are_capped() {
        assert_eq!(reconnect_delay(1), Duration::from_millis(500));
        assert_eq!(reconnect_delay(2), Duration::from_secs(1));
        assert_eq!(reconnect_delay(4), Duration::from_secs(4));
        assert_eq!(reconnect_delay(50), MAXIMUM_RECONNECT_DELAY);
    }

    #[test]
    fn the_lease_is_named_after_the_replica_identity() {
        let config = Config::from_toml("[mysql]\nurl = \"mysql://u:p@h:1\"\nserver_id = 7001\n")
            .expect("valid");
        assert_eq!(lease_name(&config), "sheetsync:7001");
    }

    #[test]
    fn the_grace_outlasts_a_lost_holders_detection() {
        assert!(TAKEOVER_GRACE > CHECK_INTERVAL + CHECK_TIMEOUT);
    }
}
