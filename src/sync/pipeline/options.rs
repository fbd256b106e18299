//! What a pipeline run is given besides the config: run options (forced snapshots, load only,
//! shutdown bound, heartbeat) and the hooks the webhook side plugs in.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::binlog::Transaction;
use crate::sheets::SheetsClient;
use crate::status::Status;
use crate::sync::{KeyPlaced, RowKey, StructureNotifier, WriteBack};

/// Drops (parts of) transactions sheetsync itself wrote.
pub type EchoFilter = Box<dyn Fn(Transaction) -> Transaction + Send + Sync>;
/// Told the commit time of every routed row change: (mapping, key, unix seconds).
pub type RowClockHook = Box<dyn Fn(&str, &RowKey, u32) + Send + Sync>;

/// Told when a mapping's tab starts and finishes being rewritten wholesale from a database
/// read (initial load, re-snapshot): (mapping, `None` at the start, the unix ms at the end).
pub type TabRewriteHook = Box<dyn Fn(&str, Option<i64>) + Send + Sync>;

/// Hooks the webhook side plugs in (echo filter, row clock, write-backs, structure changes).
#[derive(Default)]
pub struct Extensions {
    pub notifier: StructureNotifier,
    pub write_back: Option<mpsc::Receiver<WriteBack>>,
    pub key_placed: Option<mpsc::Receiver<KeyPlaced>>,
    /// Identity when None.
    pub echo_filter: Option<EchoFilter>,
    /// The origin sheetsync's own MySQL writes carry in their echo marker: transactions marked
    /// with it are filtered ([`crate::apply::echo::filter_echo`]). None: no filtering.
    pub echo_origin: Option<String>,
    /// A Sheets client to share (one quota for the webhook side and the writers).
    pub client: Option<Arc<SheetsClient>>,
    pub row_clock: Option<RowClockHook>,
    pub tab_rewrite: Option<TabRewriteHook>,
    /// The status page's state; None in tests that do not look at it.
    pub status: Option<Status>,
}

pub struct RunOptions {
    /// Mappings to load again from a snapshot even though they have a checkpoint.
    pub snapshot: Vec<String>,
    /// Stop after the initial loads instead of streaming (`sheetsync snapshot`).
    pub load_only: bool,
    /// How long a graceful shutdown may spend flushing.
    pub shutdown_timeout: Duration,
    /// Binlog reader heartbeat (a dead connection is noticed within about twice this).
    pub heartbeat: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            snapshot: Vec::new(),
            load_only: false,
            shutdown_timeout: Duration::from_secs(20),
            heartbeat: Duration::from_secs(5),
        }
    }
}
