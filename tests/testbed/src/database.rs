//! One database per test on a shared server.

use std::sync::atomic::{AtomicU32, Ordering};

use mysql_async::prelude::Queryable as _;

use crate::MariaDb;

static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// A database created for one test. It is left in place when dropped: the whole server is
/// throwaway, and keeping it helps to look at a failed test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// Unique in the server: `PREFIX_PID_N`.
    pub name: String,
    /// `mysql://root@127.0.0.1:PORT/NAME`.
    pub url: String,
    pub port: u16,
}

impl MariaDb {
    /// Create a database with a unique name starting with `prefix`.
    ///
    /// # Panics
    /// If the server refuses (tests panic rather than return errors, for the backtrace).
    pub async fn create_database(&self, prefix: &str) -> TestDatabase {
        let number = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        let cleaned: String = prefix
            .chars()
            .map(|character| {
                if character.is_ascii_alphanumeric() {
                    character
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("{cleaned}_{}_{number}", std::process::id());
        self.execute(&format!("CREATE DATABASE `{name}`")).await;
        TestDatabase {
            url: self.url(&name),
            name,
            port: self.port(),
        }
    }

    /// Run SQL statements as root (no result). Panics on error, with the statement.
    pub async fn execute(&self, sql: &str) {
        let mut connection = mysql_async::Conn::from_url(self.root_url())
            .await
            .unwrap_or_else(|error| panic!("connect to the test MariaDB: {error}"));
        connection
            .query_drop(sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        let _ = connection.disconnect().await;
    }
}
