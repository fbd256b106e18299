//! The transaction frame every apply runs in: connection and session settings, the delivery
//! check at the start, and the bookkeeping rows at the end (conflicts, echo marker, delivery),
//! all inside the same transaction as the data.
//!
//! Guarantees: the session is strict (`STRICT_ALL_TABLES`: MySQL refuses a value it would
//! otherwise truncate, so a refused value is reported, never silently changed) and in UTC
//! (TIMESTAMP columns are written and read as UTC); a delivery whose answer is already stored
//! is answered from the store, not applied again; the echo marker is the transaction's last
//! write.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Transaction, TxOpts};

use super::edit::ConflictRecord;
use super::error::Failure;
use super::marker::Marker;
use super::response;
use crate::webhook::ApplyResponse;

/// How long to wait for a pooled or new connection before calling the database unavailable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One round trip (two statements): UTC, strict, and READ COMMITTED for the transactions on this connection
/// (row locks taken by SELECT … FOR UPDATE are what compare-and-set relies on; READ COMMITTED
/// avoids gap locks that would make concurrent inserts wait on each other).
const SESSION_SETUP: &str = "SET SESSION time_zone = '+00:00', SESSION sql_mode = \
     'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'; \
     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// Prepared statements kept per connection (the driver's default is 32): a group commit's
/// statements differ by their number of rows ([`super::batch`]), and one evicted from the cache
/// costs a prepare and a close the next time it runs.
const STATEMENT_CACHE_SIZE: usize = 256;

/// The pool the apply step should be given (`sheetsync run` builds it from `mysql.url`): every
/// connection gets the session settings once, when it is opened, and keeps them, with its
/// prepared statements, while it returns to the pool between transactions (no
/// `COM_RESET_CONNECTION`, whose cost was a round trip per transaction plus re-preparing every
/// statement). A rolled-back or unfinished transaction is still rolled back by the pool; code
/// that changes other session state must call [`reset_after_use`].
pub fn pool(url: &str) -> Result<mysql_async::Pool, Failure> {
    let options = mysql_async::Opts::from_url(url)
        .map_err(|error| Failure::Internal(format!("mysql.url is not a valid URL: {error}")))?;
    Ok(mysql_async::Pool::new(pool_options(options)))
}

/// `options` with the session settings run on each new (or reset) connection and no reset when
/// a connection returns to the pool; the URL's other pool settings are kept.
pub fn pool_options(options: mysql_async::Opts) -> mysql_async::OptsBuilder {
    let pool_options = options.pool_opts().clone().with_reset_connection(false);
    let statement_cache = options.stmt_cache_size().max(STATEMENT_CACHE_SIZE);
    mysql_async::OptsBuilder::from_opts(options)
        .setup(vec![SESSION_SETUP])
        .pool_opts(pool_options)
        .stmt_cache_size(statement_cache)
}

/// Whether the connection's pool ran the session settings on it ([`pool`]); any other pool's
/// connections get them with a round trip of their own, so every caller's pool works.
fn set_up_by_pool(connection: &mysql_async::Conn) -> bool {
    connection
        .opts()
        .setup()
        .iter()
        .any(|command| command == SESSION_SETUP)
}

/// A connection with sheetsync's session settings.
pub async fn connect(pool: &mysql_async::Pool) -> Result<mysql_async::Conn, Failure> {
    let mut connection = tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn())
        .await
        .map_err(|_| Failure::ConnectTimeout(CONNECT_TIMEOUT))??;
    if !set_up_by_pool(&connection) {
        connection.query_drop(SESSION_SETUP).await?;
    }
    Ok(connection)
}

/// For a connection whose session settings are changed (another isolation level): it is reset
/// when it returns to the pool, and the pool runs the session settings on it again.
pub fn reset_after_use(connection: &mut mysql_async::Conn) {
    connection.reset_connection(true);
}

pub async fn begin(connection: &mut mysql_async::Conn) -> Result<Transaction<'_>, Failure> {
    // The isolation level is the session's (see SESSION_SETUP), saving a round trip.
    Ok(connection.start_transaction(TxOpts::default()).await?)
}

/// The stored answer of a delivery already applied (before a restart, or a lost commit ack).
pub async fn stored_response(
    connection: &mut impl Queryable,
    delivery_id: &str,
) -> Result<Option<ApplyResponse>, Failure> {
    let stored: Option<String> = connection
        .exec_first(
            "SELECT response FROM sheetsync.deliveries WHERE delivery_id = ?",
            (delivery_id,),
        )
        .await?;
    Ok(stored.and_then(|text| response::from_json(&text)))
}

/// What the end of a transaction records besides the data.
pub struct Bookkeeping<'a> {
    pub origin: &'a str,
    pub delivery_id: &'a str,
    pub mapping: &'a str,
    pub table: &'a str,
    pub editor: Option<&'a str>,
    pub edited_at_milliseconds: i64,
    pub conflicts: &'a [ConflictRecord],
    pub marker: &'a Marker,
    pub response: &'a ApplyResponse,
}

/// What [`finish`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Everything recorded: commit.
    Recorded,
    /// The delivery was answered before (by another instance, or before a restart): roll
    /// back and answer with [`stored_response`].
    AlreadyAnswered,
}

/// Records conflicts, the echo marker and the delivery's answer. The delivery row goes last:
/// its primary key is what makes a delivery apply once, so the happy path needs no lookup
/// first; a repeat finds out here, and is rolled back and answered from the store.
pub async fn finish(
    transaction: &mut Transaction<'_>,
    bookkeeping: &Bookkeeping<'_>,
) -> Result<Finished, Failure> {
    record_conflicts(transaction, bookkeeping).await?;
    write_marker(
        transaction,
        bookkeeping.origin,
        bookkeeping.delivery_id,
        bookkeeping.marker,
    )
    .await?;
    record_deliveries(
        transaction,
        &[Delivery {
            delivery_id: bookkeeping.delivery_id,
            mapping: bookkeeping.mapping,
            response: bookkeeping.response,
        }],
    )
    .await
}

/// One row of `sheetsync.conflicts` per conflict of the message.
pub async fn record_conflicts(
    transaction: &mut Transaction<'_>,
    bookkeeping: &Bookkeeping<'_>,
) -> Result<(), Failure> {
    for conflict in bookkeeping.conflicts {
        transaction
            .exec_drop(
                "INSERT INTO sheetsync.conflicts (detected_at, origin, mapping, table_name, \
                 row_key, column_name, sheet_row, sheet_value, sheet_old_value, db_value, \
                 sheet_edited_at, db_committed_at, policy, winner, delivery_id, editor) \
                 VALUES (NOW(6), ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000), \
                 FROM_UNIXTIME(?), ?, ?, ?, ?)",
                vec![
                    bookkeeping.origin.into(),
                    bookkeeping.mapping.into(),
                    bookkeeping.table.into(),
                    conflict.key.as_str().into(),
                    conflict.column.as_str().into(),
                    conflict.sheet_row.into(),
                    conflict.sheet_value.clone().into(),
                    conflict.sheet_old_value.clone().into(),
                    conflict.database_value.clone().into(),
                    bookkeeping.edited_at_milliseconds.into(),
                    conflict.database_committed_at.into(),
                    conflict.policy.into(),
                    conflict.winner.label().into(),
                    bookkeeping.delivery_id.into(),
                    bookkeeping.editor.map(str::to_string).into(),
                ] as Vec<mysql_async::Value>,
            )
            .await?;
    }
    Ok(())
}

/// Upserts this origin's marker row for the transaction's connection with every row the
/// transaction wrote (nothing when it wrote none). `delivery_id` names the transaction's
/// (first) message, for people reading the table.
pub async fn write_marker(
    transaction: &mut Transaction<'_>,
    origin: &str,
    delivery_id: &str,
    marker: &Marker,
) -> Result<(), Failure> {
    if marker.is_empty() {
        return Ok(());
    }
    write_marker_json(transaction, origin, delivery_id, marker.to_json()).await
}

/// [`write_marker`] for a marker already serialised (a group commit's, `marker::joined_json`).
pub async fn write_marker_json(
    transaction: &mut Transaction<'_>,
    origin: &str,
    delivery_id: &str,
    json: String,
) -> Result<(), Failure> {
    transaction
        .exec_drop(
            "INSERT INTO sheetsync.echo_marker (origin, connection_id, delivery_id, \
             written_at, cells) VALUES (?, CONNECTION_ID(), ?, NOW(6), ?) \
             ON DUPLICATE KEY UPDATE delivery_id = VALUES(delivery_id), \
             written_at = VALUES(written_at), cells = VALUES(cells)",
            (origin, delivery_id, json),
        )
        .await?;
    Ok(())
}

/// A delivery's answer, for `sheetsync.deliveries`.
pub struct Delivery<'a> {
    pub delivery_id: &'a str,
    pub mapping: &'a str,
    pub response: &'a ApplyResponse,
}

/// The deliveries' answers in one statement. `AlreadyAnswered` when any of them is stored
/// already (the statement then wrote nothing): which one is left to the caller, who rolls back.
pub async fn record_deliveries(
    transaction: &mut Transaction<'_>,
    deliveries: &[Delivery<'_>],
) -> Result<Finished, Failure> {
    if deliveries.is_empty() {
        return Ok(Finished::Recorded);
    }
    let statement = format!(
        "INSERT INTO sheetsync.deliveries (delivery_id, mapping, received_at, response) \
         VALUES {}",
        vec!["(?, ?, NOW(6), ?)"; deliveries.len()].join(", ")
    );
    let parameters: Vec<mysql_async::Value> = deliveries
        .iter()
        .flat_map(|delivery| {
            [
                delivery.delivery_id.into(),
                delivery.mapping.into(),
                response::to_json(delivery.response).into(),
            ]
        })
        .collect();
    let recorded = transaction.exec_drop(statement, parameters).await;
    match recorded.map_err(Failure::from) {
        Ok(()) => Ok(Finished::Recorded),
        Err(failure) if failure.server_code() == Some(DUPLICATE_ENTRY) => {
            Ok(Finished::AlreadyAnswered)
        }
        Err(failure) => Err(failure),
    }
}

/// MySQL's "Duplicate entry" error.
const DUPLICATE_ENTRY: u16 = 1062;

/// Forget delivery answers and markers older than a day (run now and then, outside any
/// transaction of an edit). Failures only delay the pruning.
pub async fn prune(pool: &mysql_async::Pool, origin: &str) {
    let result = async {
        let mut connection = connect(pool).await?;
        connection
            .query_drop(
                "DELETE FROM sheetsync.deliveries \
                 WHERE received_at < NOW(6) - INTERVAL 1 DAY LIMIT 10000",
            )
            .await?;
        connection
            .exec_drop(
                "DELETE FROM sheetsync.echo_marker \
                 WHERE origin = ? AND written_at < NOW(6) - INTERVAL 1 DAY",
                (origin,),
            )
            .await?;
        Ok::<(), Failure>(())
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%error, "pruning sheetsync's bookkeeping tables failed; retried later");
    }
}
