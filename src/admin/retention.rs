//! How long the server keeps binlogs, for the retention headroom metric.
//!
//! Consumes the MySQL URL; produces the server's binlog expiry (`None`: never purged by age).
//! MySQL 8 and MariaDB 10.6+ have `binlog_expire_logs_seconds`; MariaDB 10.5 only
//! `expire_logs_days`. When both are set, the server honours the non-zero one (MySQL refuses
//! both non-zero at start; MariaDB keeps them in step), so the seconds value wins if non-zero.

use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts};

use super::AdminError;
use crate::config::DatabaseUrl;

/// MySQL/MariaDB "unknown system variable".
const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

/// Read the server's binlog expiry on a short-lived connection.
pub async fn binlog_expiry(url: &DatabaseUrl) -> Result<Option<Duration>, AdminError> {
    let options = Opts::from_url(url.expose()).map_err(|_| AdminError::InvalidUrl)?;
    let mut connection = Conn::new(options).await?;
    let seconds = match connection
        .query_first::<Option<f64>, _>("SELECT @@GLOBAL.binlog_expire_logs_seconds")
        .await
    {
        Ok(value) => value.flatten().unwrap_or(0.0),
        Err(mysql_async::Error::Server(error)) if error.code == ER_UNKNOWN_SYSTEM_VARIABLE => 0.0,
        Err(error) => return Err(error.into()),
    };
    let days: Option<Option<f64>> = connection
        .query_first("SELECT @@GLOBAL.expire_logs_days")
        .await
        .or_else(|error| match error {
            mysql_async::Error::Server(server) if server.code == ER_UNKNOWN_SYSTEM_VARIABLE => {
                Ok(None)
            }
            other => Err(other),
        })?;
    let _ = connection.disconnect().await;
    Ok(expiry_from(seconds, days.flatten().unwrap_or(0.0)))
}

/// The expiry the server applies, from its two settings (0 means "never" for each).
pub fn expiry_from(seconds: f64, days: f64) -> Option<Duration> {
    let chosen = if seconds > 0.0 {
        seconds
    } else {
        days * 86_400.0
    };
    (chosen > 0.0).then(|| Duration::from_secs_f64(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_non_zero_setting_wins_and_zero_means_never() {
        assert_eq!(expiry_from(3600.0, 0.0), Some(Duration::from_secs(3600)));
        assert_eq!(expiry_from(0.0, 7.0), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(expiry_from(0.0, 0.5), Some(Duration::from_secs(43_200)));
        assert_eq!(expiry_from(600.0, 7.0), Some(Duration::from_secs(600)));
        assert_eq!(expiry_from(0.0, 0.0), None);
    }

    #[test]
    fn errors_are_classified() {
        let denied = AdminError::Database(mysql_async::Error::Server(mysql_async::ServerError {
            code: 1045,
            message: "denied".into(),
            state: "28000".into(),
        }));
        assert!(!denied.is_transient());
        let gone = AdminError::Database(mysql_async::Error::Server(mysql_async::ServerError {
            code: 2013,
            message: "lost".into(),
            state: "HY000".into(),
        }));
        assert!(gone.is_transient());
        assert!(!AdminError::InvalidUrl.is_transient());
    }
}
