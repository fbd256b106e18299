//! Helpers shared by the live binlog scenarios: start a reader, wait for transactions of one
//! database with a bounded wait.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use sheetsync::binlog::{BinlogError, BinlogSource, SourceOptions, Transaction};
use sheetsync::position::BinlogPosition;

/// Replica ids unique within this process and apart from the test servers' own ids.
pub fn replica_server_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    4_000_000 + (std::process::id() % 100_000) * 16 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Starts a reader with a short heartbeat so dead connections are noticed within seconds.
pub async fn start_source(url: &str, start: Option<BinlogPosition>) -> BinlogSource {
    let mut options = SourceOptions::new(url, replica_server_id());
    options.heartbeat = Duration::from_secs(1);
    options.start = start;
    BinlogSource::start(options)
        .await
        .expect("start binlog source")
}

/// True when the transaction touched `database` (rows or statements).
pub fn touches(transaction: &Transaction, database: &str) -> bool {
    transaction
        .changes
        .iter()
        .any(|change| change.table.database == database)
        || transaction
            .statements
            .iter()
            .any(|statement| statement.database == database)
}

/// The next transaction with row changes in `database`, waiting at most `limit`.
pub async fn next_in(source: &mut BinlogSource, database: &str, limit: Duration) -> Transaction {
    next_matching(source, database, limit, |transaction| {
        !transaction.changes.is_empty()
    })
    .await
}

/// The next transaction touching `database` (rows or statements), waiting at most `limit`.
pub async fn next_touching(
    source: &mut BinlogSource,
    database: &str,
    limit: Duration,
) -> Transaction {
    next_matching(source, database, limit, |_| true).await
}

async fn next_matching(
    source: &mut BinlogSource,
    database: &str,
    limit: Duration,
    accept: impl Fn(&Transaction) -> bool,
) -> Transaction {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let item = tokio::time::timeout_at(deadline, source.next())
            .await
            .unwrap_or_else(|_| panic!("no transaction for {database} within {limit:?}"));
        let transaction = item
            .expect("binlog source ended")
            .expect("binlog source error");
        if touches(&transaction, database) && accept(&transaction) {
            return transaction;
        }
    }
}

/// The next error from the source, waiting at most `limit` (transactions are skipped).
pub async fn next_error(source: &mut BinlogSource, limit: Duration) -> BinlogError {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let item = tokio::time::timeout_at(deadline, source.next())
            .await
            .unwrap_or_else(|_| panic!("no error within {limit:?}"));
        match item.expect("binlog source ended without an error") {
            Ok(_) => continue,
            Err(error) => return error,
        }
    }
}

/// Runs statements on one connection, in order.
pub async fn execute(url: &str, statements: &[&str]) {
    let mut connection = mysql_async::Conn::from_url(url).await.expect("connect");
    for statement in statements {
        connection
            .query_drop(*statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    let _ = connection.disconnect().await;
}
