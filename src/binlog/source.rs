//! The replication connection: MySQL/MariaDB binlog → committed transactions.
//!
//! Consumes a server URL, a unique replica `server_id` and a start position; produces
//! `Result<Transaction, BinlogError>` on a bounded channel (the receiver's pace is the
//! backpressure). Guarantees:
//! - The server's settings are checked before streaming (`InvalidSystemSetting`).
//! - Every transient failure (disconnect, `None` from the stream, read timeout of 2× the
//!   heartbeat, a panic in the reader task) reconnects with capped jittered backoff and resumes
//!   from the position after the last transaction *sent*: nothing is lost or sent twice by
//!   the source itself, except the parts of a transaction too large to hold
//!   ([`Transaction::partial`]) when the connection drops inside it: they come again, which
//!   is harmless as row images are keyed by primary key (delivery to sheets is at-least-once
//!   after a process crash anyway).
//! - A definite error is sent once and ends the stream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::channel;
use futures_util::StreamExt;
use mysql_async::binlog::events::{Event, TransactionPayloadEvent};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::backoff::{BackoffPolicy, ReconnectDecision};
use super::error::{BinlogError, EventLocation};
use super::event_kinds::TRANSACTION_PAYLOAD_EVENT;
use super::server::{check_position_kind, current_position, inspect_server, mysql_sids};
use super::settings::ServerFlavor;
use super::transaction::{Transaction, TransactionAssembler};
use crate::position::BinlogPosition;

/// How to connect and where to start.
#[derive(Clone)]
pub struct SourceOptions {
    /// `mysql://user:password@host:port`.
    pub url: String,
    /// Unique among the server's replicas: a duplicate disconnects the other one.
    pub server_id: u32,
    /// The server sends a heartbeat after this much silence; twice it is the read timeout.
    pub heartbeat: Duration,
    /// Where to resume; `None` starts at the server's current position (new changes only).
    pub start: Option<BinlogPosition>,
    pub backoff: BackoffPolicy,
    /// Transactions buffered between the reader and its consumer.
    pub channel_capacity: usize,
    /// Decoded bytes buffered between the reader and its consumer: the reader waits (and the
    /// binlog stays on the server) once the queued transactions weigh this much.
    pub channel_bytes: usize,
    /// Decoded bytes of one transaction held before it is handed on in parts.
    pub part_bytes: usize,
}

impl std::fmt::Debug for SourceOptions {
    /// The URL may hold a password: only its host part is shown.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.url.rsplit('@').next().unwrap_or_default();
        formatter
            .debug_struct("SourceOptions")
            .field("url", &format_args!("mysql://…@{host}"))
            .field("server_id", &self.server_id)
            .field("heartbeat", &self.heartbeat)
            .field("start", &self.start.as_ref().map(ToString::to_string))
            .field("backoff", &self.backoff)
            .field("channel_capacity", &self.channel_capacity)
            .field("channel_bytes", &self.channel_bytes)
            .field("part_bytes", &self.part_bytes)
            .finish()
    }
}

impl SourceOptions {
    pub fn new(url: impl Into<String>, server_id: u32) -> Self {
        SourceOptions {
            url: url.into(),
            server_id,
            heartbeat: Duration::from_secs(5),
            start: None,
            backoff: BackoffPolicy::default(),
            channel_capacity: 64,
            channel_bytes: 16 * 1024 * 1024,
            part_bytes: super::transaction::PART_BYTES,
        }
    }
}

/// A running binlog reader. Dropping it stops the reader.
pub struct BinlogSource {
    receiver: channel::Receiver<Result<Transaction, BinlogError>>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
    /// The position the stream started from (resolved when `start` was `None`).
    start_position: BinlogPosition,
    /// Completed reconnects, for tests and metrics.
    reconnects: Arc<Mutex<u64>>,
}

/// Progress shared between a session task and its supervisor; survives a session's panic.
#[derive(Debug)]
struct Progress {
    /// Position after the last transaction handed to the consumer.
    committed: BinlogPosition,
    /// The session reached the streaming state (resets the backoff).
    streamed: bool,
}

impl BinlogSource {
    /// Connects once to check the server and resolve the start position (so configuration
    /// errors surface here, not later on the channel), then starts the reader task.
    pub async fn start(options: SourceOptions) -> Result<Self, BinlogError> {
        let mut conn = Conn::from_url(&options.url).await?;
        let server = inspect_server(&mut conn).await?;
        let start_position = match &options.start {
            Some(position) => position.clone(),
            None => current_position(&mut conn, server.flavor).await?,
        };
        check_position_kind(&start_position, server.flavor)?;
        // Closing politely keeps the server's connection count tidy; failure here is harmless.
        let _ = conn.disconnect().await;

        let (sender, receiver) = channel::channel(options.channel_capacity, options.channel_bytes);
        let cancel = CancellationToken::new();
        let reconnects = Arc::new(Mutex::new(0));
        let task = tokio::spawn(supervise(
            options,
            start_position.clone(),
            sender,
            cancel.clone(),
            reconnects.clone(),
        ));
        Ok(BinlogSource {
            receiver,
            cancel,
            task: Some(task),
            start_position,
            reconnects,
        })
    }

    /// The next committed transaction; after an `Err` (definite) the stream ends with `None`.
    pub async fn next(&mut self) -> Option<Result<Transaction, BinlogError>> {
        self.receiver
            .recv()
            .await
            .map(channel::Budgeted::into_inner)
    }

    pub fn start_position(&self) -> &BinlogPosition {
        &self.start_position
    }

    /// How many times the reader reconnected after a transient failure.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
            .lock()
            .map(|count| *count)
            .unwrap_or_default()
    }

    /// Stops the reader and waits for it to finish.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BinlogSource {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Runs sessions until cancelled or a definite error; each session is its own task so that a
/// panic while parsing becomes an error here instead of taking the process down.
async fn supervise(
    options: SourceOptions,
    start: BinlogPosition,
    sender: channel::Sender<Result<Transaction, BinlogError>>,
    cancel: CancellationToken,
    reconnects: Arc<Mutex<u64>>,
) {
    let progress = Arc::new(Mutex::new(Progress {
        committed: start,
        streamed: false,
    }));
    let mut attempt: u32 = 0;
    loop {
        let session = run_isolated(run_session(
            options.clone(),
            progress.clone(),
            sender.clone(),
            cancel.clone(),
        ));
        let error = match session.await {
            Ok(()) => return,
            Err(error) => error,
        };
        if cancel.is_cancelled() {
            return;
        }
        let (position, streamed) = match progress.lock() {
            Ok(mut progress) => (
                progress.committed.to_string(),
                std::mem::take(&mut progress.streamed),
            ),
            Err(_) => (String::from("(unknown)"), false),
        };
        if streamed {
            attempt = 0;
        }
        match options.backoff.decide(&error, attempt, fastrand::f64()) {
            ReconnectDecision::Stop => {
                tracing::error!(%position, %error, "binlog reader stopped");
                let _ = sender.send(Err(error), 0).await;
                return;
            }
            ReconnectDecision::Reconnect { delay } => {
                tracing::warn!(%position, %error, delay_ms = delay.as_millis() as u64, attempt, "binlog reader reconnecting");
                attempt = attempt.saturating_add(1);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                if let Ok(mut count) = reconnects.lock() {
                    *count += 1;
                }
            }
        }
    }
}

/// Runs `session` in its own task: a panic inside (mysql_common indexes and unwraps on some
/// malformed input) becomes the transient [`BinlogError::ReaderPanicked`], not a crash.
async fn run_isolated<F>(session: F) -> Result<(), BinlogError>
where
    F: std::future::Future<Output = Result<(), BinlogError>> + Send + 'static,
{
    match tokio::spawn(session).await {
        Ok(result) => result,
        Err(join_error) => Err(BinlogError::ReaderPanicked(join_error.to_string())),
    }
}

/// One connection: set up, request the binlog from the committed position, stream until error.
async fn run_session(
    options: SourceOptions,
    progress: Arc<Mutex<Progress>>,
    sender: channel::Sender<Result<Transaction, BinlogError>>,
    cancel: CancellationToken,
) -> Result<(), BinlogError> {
    let position = progress
        .lock()
        .map(|progress| progress.committed.clone())
        .map_err(|_| BinlogError::ReaderPanicked("progress lock poisoned".into()))?;
    let position_text = position.to_string();
    let mut conn = Conn::from_url(&options.url).await?;
    let server = inspect_server(&mut conn).await?;
    check_position_kind(&position, server.flavor)?;
    let heartbeat_nanoseconds = options.heartbeat.as_nanos().min(u128::from(u64::MAX)) as u64;
    conn.query_drop(format!(
        "SET @master_heartbeat_period = {heartbeat_nanoseconds}"
    ))
    .await?;

    let file_name;
    let sids;
    let mut request = BinlogStreamRequest::new(options.server_id);
    if server.flavor == ServerFlavor::MariaDb {
        // Without capability 4 the server replaces GTID events with BEGIN queries.
        conn.query_drop("SET @mariadb_slave_capability = 4").await?;
    }
    match &position {
        BinlogPosition::MariaDbGtids(_) => {
            // Position text is digits, '-' and ',' only (validated by FromStr): safe to quote.
            conn.query_drop(format!(
                "SET @slave_connect_state = '{position_text}', @slave_gtid_strict_mode = 0, \
                 @slave_gtid_ignore_duplicates = 0"
            ))
            .await?;
            request = request.with_filename(b"").with_pos(4);
        }
        BinlogPosition::MySqlGtidSet(set) => {
            sids = mysql_sids(set)?;
            request = request.with_gtid().with_gtid_set(sids.iter().cloned());
        }
        BinlogPosition::File { file, offset } => {
            file_name = file.clone().into_bytes();
            request = request.with_filename(&file_name).with_pos(*offset);
        }
    }
    let mut stream = conn
        .get_binlog_stream(request)
        .await
        .map_err(|error| BinlogError::from_stream_error(error, &position_text))?;
    let mut assembler =
        TransactionAssembler::new(position, server.checksum).with_part_bytes(options.part_bytes);
    let read_timeout = options
        .heartbeat
        .saturating_mul(2)
        .max(Duration::from_secs(1));

    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            next = tokio::time::timeout(read_timeout, stream.next()) => next,
        };
        let event = match next {
            Err(_) => {
                return Err(BinlogError::ReadTimeout {
                    seconds: read_timeout.as_secs(),
                })
            }
            Ok(None) => return Err(BinlogError::StreamClosed),
            Ok(Some(Err(error))) => {
                return Err(BinlogError::from_stream_error(
                    error,
                    &assembler.committed().to_string(),
                ))
            }
            Ok(Some(Ok(event))) => event,
        };
        if let Ok(mut progress) = progress.lock() {
            progress.streamed = true;
        }
        check_payload(&event, &assembler)?;
        let Some(transaction) = assembler.handle(&event)? else {
            continue;
        };
        // A part's position is not a place to resume from: a reconnect re-reads the whole
        // transaction and sends its parts again.
        let committed = (!transaction.partial).then(|| transaction.position_after.clone());
        let bytes = transaction.memory_bytes();
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            sent = sender.send(Ok(transaction), bytes) => {
                if sent.is_err() {
                    // Nobody listens any more.
                    return Ok(());
                }
            }
        }
        if let (Some(committed), Ok(mut progress)) = (committed, progress.lock()) {
            progress.committed = committed;
        }
    }
}

/// mysql_async expands MySQL compressed payloads itself, but drops a payload it cannot
/// decompress without a word; check it here so a damaged payload is an error, not lost rows.
fn check_payload(event: &Event, assembler: &TransactionAssembler) -> Result<(), BinlogError> {
    if event.header().event_type_raw() != TRANSACTION_PAYLOAD_EVENT {
        return Ok(());
    }
    let failed = |_: std::io::Error| BinlogError::CompressedEvents {
        event_type: TRANSACTION_PAYLOAD_EVENT,
        location: EventLocation {
            table: None,
            position: Some(assembler.committed().clone()),
            event: None,
        },
    };
    let payload = event
        .read_event::<TransactionPayloadEvent<'_>>()
        .map_err(failed)?;
    let mut reader = payload.decompressed().map_err(failed)?;
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_reader_becomes_a_transient_error() {
        let result = run_isolated(async { panic!("index out of bounds") }).await;
        let error = result.expect_err("the panic must surface as an error");
        assert!(matches!(error, BinlogError::ReaderPanicked(_)), "{error}");
        assert!(error.is_transient());
        assert!(run_isolated(async { Ok(()) }).await.is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let options = SourceOptions::new("mysql://replica:s3cret@db.example:3306", 7001);
        let text = format!("{options:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("db.example:3306"), "{text}");
    }
}
