//! Sheets → MySQL: the webhook's [`Apply`] on a real database (DESIGN §3.3–3.6), and the echo
//! filter the binlog router runs (§3.4).
//!
//! ```text
//! ApplyRequest::Edit ─► group commit ([`batch`]: messages queued while a transaction runs
//!   share the next one; anything it cannot decide comes back to be applied alone)
//! alone: plan (convert cells) ─► one transaction per attempt:
//!     rows (SELECT … FOR UPDATE, compare-and-set, an INSERT each; the UPDATEs of rows that
//!     assign the same columns as one statement) ─► conflicts rows
//!     ─► echo marker ─► delivery answer (already there? roll back, answer from the store)
//!     ─► COMMIT
//!   ─► after commit: write-backs to the writer, recent inserts, metrics
//! ApplyRequest::Structure ─► mark stale ─► (REMOVE_ROW, deletes = true) key-column diff ─► DELETE
//! ```
//! Guarantees: each message is all or nothing, alone or in a group (a group is one transaction
//! whose messages' answers equal applying them one by one; any failure rolls the group back and
//! its messages are applied alone); deadlocks, lock waits and lost connections retry the whole
//! transaction a bounded number of times, then answer 503 so the script retries (and a retry of
//! a delivery already committed gets its stored answer); a cell that cannot be stored is
//! reported and set back in the sheet while the rest applies.
//!
//! Files: [`columns`] (today's table types, quoting), [`convert`] and [`convert_time`]
//! (cell → value), [`typed`] and [`calendar`], [`plan`], [`edit`], [`held`], [`insert`] and [`statements`] (rows),
//! [`structure`], [`reconcile`], [`session`] (transaction frame), [`committed`] (after commit), [`contest`], [`policy`] and [`clock`]
//! (conflicts), [`batch`] (group commit), [`recent`] (row locks, recent inserts, known keys), [`marker`] and [`echo`]
//! (echo marker and filter), [`cells`] (the few sheet cells written from here), [`schema`],
//! [`response`], [`error`].

pub mod batch;
pub mod calendar;
pub mod cells;
pub mod clock;
pub mod columns;
pub mod committed;
pub mod contest;
pub mod convert;
pub mod convert_time;
pub mod echo;
pub mod edit;
pub mod error;
pub mod held;
pub mod insert;
pub mod marker;
pub mod plan;
pub mod policy;
pub mod recent;
pub mod reconcile;
pub mod reconcile_read;
pub mod reconcile_repair;
pub mod reconcile_report;
pub mod response;
pub mod schema;
pub mod seed;
pub mod session;
pub mod statements;
pub mod structure;
pub mod typed;

pub use clock::RowClock;
pub use echo::{filter_echo, EchoFiltered, InsertedRow};
pub use error::{Failure, FailureClass};

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use self::columns::TableInfo;
use self::edit::{EditContext, EditOutcome};
use self::plan::{iso_milliseconds, plan_row};
use self::recent::{KnownKeys, RecentInserts, RowLocks};
use self::session::Bookkeeping;
use crate::config::MappingConfig;
use crate::sync::{StructureNotifier, WriteBack};
use crate::webhook::apply::ValidatedEdit;
use crate::webhook::{Apply, ApplyError, ApplyFuture, ApplyRequest, ApplyResponse};

/// Table types are re-read at least this often (and at once after a schema error).
const TABLE_INFO_TTL: Duration = Duration::from_secs(60);
/// How long a keyless sheet row keeps the key of the row inserted for it.
const RECENT_INSERT_TTL: Duration = Duration::from_secs(10 * 60);
const RECENT_INSERT_CAPACITY: usize = 100_000;
/// A write-back the writer cannot take within this long is dropped (and counted): the edit is
/// committed; only the sheet's display waits for the next reconcile.
const WRITE_BACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Bookkeeping tables are pruned once per this many applied messages.
const PRUNE_EVERY: u64 = 1_000;

pub struct ApplyOptions {
    /// Names this process in echo markers, e.g. `sheetsync-7001`; unique per deployment.
    pub origin: String,
    /// Cells the writer must put back in the sheet (refused edits, conflicts the DB won).
    pub write_back: mpsc::Sender<WriteBack>,
    pub structure: StructureNotifier,
    pub row_clock: RowClock,
    /// For reading a tab's key column when rows were removed; `None`: the script's snapshot only.
    pub sheets: Option<Arc<crate::sheets::SheetsClient>>,
    /// The writer's cell options (`CellOptions::from_config(&config.sync)`): write-backs look
    /// like the writer's cells, and TIMESTAMP edits are read in `sync.time_zone`.
    pub cells: crate::cell::CellOptions,
}

/// The MySQL side of the webhook. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct MysqlApply {
    inner: Arc<Inner>,
    /// The group commit's queue; its workers stop when the last clone is dropped.
    batcher: Arc<batch::Batcher>,
}

/// How the write-backs of a committed message reach the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteBackWait {
    /// The caller waits while the writer's queue is full (up to [`WRITE_BACK_TIMEOUT`]).
    Wait,
    /// A group commit worker must not wait: what the queue cannot take now is sent by a task.
    Detached,
}

pub(crate) struct Inner {
    pool: mysql_async::Pool,
    options: ApplyOptions,
    display: cells::SheetDisplay,
    tables: Mutex<HashMap<String, (Arc<TableInfo>, Instant)>>,
    row_locks: RowLocks,
    recent: RecentInserts,
    known: KnownKeys,
    applied: AtomicU64,
}

enum Attempt {
    Applied(EditOutcome, ApplyResponse),
    Replayed(ApplyResponse),
}

impl MysqlApply {
    /// Reads every mapping's table types (so a missing table or key is an error at start).
    pub async fn new(
        pool: mysql_async::Pool,
        mappings: &[MappingConfig],
        options: ApplyOptions,
    ) -> Result<Self, ApplyError> {
        let origin = &options.origin;
        if origin.is_empty() || origin.len() > 64 || !origin.is_ascii() {
            return Err(ApplyError::Failed(format!(
                "origin {origin:?} must be 1 to 64 ASCII characters (it is stored in echo markers)"
            )));
        }
        if mappings.iter().any(|mapping| mapping.deletes) {
            // Removed rows are found by the keys the tab held: also those the writer appended.
            options.structure.track_written_keys();
        }
        let inner = Arc::new(Inner {
            pool,
            display: cells::SheetDisplay::from_options(&options.cells),
            options,
            tables: Mutex::new(HashMap::new()),
            row_locks: RowLocks::default(),
            recent: RecentInserts::new(RECENT_INSERT_TTL, RECENT_INSERT_CAPACITY),
            known: KnownKeys::default(),
            applied: AtomicU64::new(0),
        });
        let apply = MysqlApply {
            batcher: Arc::new(batch::Batcher::start(inner.clone(), batch::WORKERS)),
            inner,
        };
        for mapping in mappings {
            apply
                .inner
                .table(mapping, true)
                .await
                .map_err(Failure::into_apply_error)?;
        }
        if apply.inner.options.sheets.is_some() {
            let inner = apply.inner.clone();
            let mappings: Vec<MappingConfig> =
                mappings.iter().filter(|m| m.deletes).cloned().collect();
            tokio::spawn(async move {
                for mapping in mappings {
                    seed::seed_known_keys(&inner, &mapping).await;
                }
            });
        }
        Ok(apply)
    }

    /// The binlog saw DDL on `database.table`: read its types again before the next edit.
    pub fn schema_changed(&self, table: &str) {
        let mut tables = self.inner.lock_tables();
        tables.retain(|_, (info, _)| info.display_name() != table);
    }

    /// One message: with others queued at the same time when it can ([`batch`]), else alone.
    async fn apply_edit(&self, edit: ValidatedEdit) -> Result<ApplyResponse, ApplyError> {
        if !batch::groupable(&edit) {
            return self.apply_edit_alone(edit).await;
        }
        match self.batcher.submit(edit).await? {
            batch::Answer::Applied(response) => Ok(response),
            batch::Answer::Alone(edit) => self.apply_edit_alone(*edit).await,
        }
    }

    /// `edits` in one transaction per mapping where they can share it, as the group commit
    /// applies what is queued together; one answer per edit, in order. Those that cannot share
    /// it are applied alone afterwards, one after the other.
    pub async fn apply_edits_together(
        &self,
        edits: Vec<ValidatedEdit>,
    ) -> Vec<Result<ApplyResponse, ApplyError>> {
        let answers = batch::apply_together(&self.inner, edits, WriteBackWait::Wait).await;
        let mut responses = Vec::with_capacity(answers.len());
        for answer in answers {
            responses.push(match answer {
                batch::Answer::Applied(response) => Ok(response),
                batch::Answer::Alone(edit) => self.apply_edit_alone(*edit).await,
            });
        }
        responses
    }

    /// One message in a transaction of its own (no group commit), retried as the module says.
    pub async fn apply_edit_alone(&self, edit: ValidatedEdit) -> Result<ApplyResponse, ApplyError> {
        let inner = &self.inner;
        let mapping = &edit.mapping;
        let new_rows: BTreeSet<u32> = edit
            .message
            .rows
            .iter()
            .filter(|row| row.is_new())
            .map(|row| row.row)
            .collect();
        // Messages about the same keyless row wait for each other: one INSERT, not many.
        let _row_guards = inner.row_locks.lock_rows(&mapping.name, &new_rows).await;
        let edited_at = iso_milliseconds(&edit.message.edited_at);
        let mut failures = 0;
        let mut reload = false;
        let mut reloaded = false;
        loop {
            let attempt = async {
                let mut table = inner.table(mapping, reload).await?;
                if !reloaded && names_unknown_column(&edit, &table) {
                    // A column added since the types were read (ADD COLUMN): read them again.
                    reloaded = true;
                    table = inner.table(mapping, true).await?;
                }
                let plan: Vec<plan::PlannedRow> = edit
                    .message
                    .rows
                    .iter()
                    .map(|row| plan_row(row, &table))
                    .collect();
                let attempt = inner.edit_attempt(&edit, &table, &plan, edited_at).await?;
                Ok::<_, Failure>((attempt, table, plan))
            }
            .await;
            match attempt {
                Ok((Attempt::Replayed(response), _, _)) => return Ok(response),
                Ok((Attempt::Applied(outcome, response), table, plan)) => {
                    inner
                        .after_commit(mapping, &table, &plan, outcome, WriteBackWait::Wait)
                        .await;
                    return Ok(response);
                }
                Err(failure) => match failure.class() {
                    FailureClass::SchemaChanged if !reloaded => {
                        reload = true;
                        reloaded = true;
                    }
                    // A refusal outside the rows (the bookkeeping rows) is not the editor's:
                    // retry, then 503.
                    FailureClass::Transient | FailureClass::RowRejected => {
                        failures += 1;
                        reload = false;
                        metrics::counter!("sheetsync_apply_retries_total").increment(1);
                        match error::retry_delay(failures) {
                            Some(delay) => tokio::time::sleep(delay).await,
                            None => return Err(ApplyError::Unavailable(failure.to_string())),
                        }
                    }
                    _ => return Err(failure.into_apply_error()),
                },
            }
        }
    }
}

fn names_unknown_column(edit: &ValidatedEdit, table: &TableInfo) -> bool {
    edit.message
        .rows
        .iter()
        .flat_map(|row| row.values.keys())
        .any(|name| table.column_index(name).is_none())
}

impl Inner {
    fn lock_tables(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<TableInfo>, Instant)>> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The mapping's table types, read again when stale or when `reload`.
    async fn table(
        &self,
        mapping: &MappingConfig,
        reload: bool,
    ) -> Result<Arc<TableInfo>, Failure> {
        if !reload {
            if let Some((info, loaded)) = self.lock_tables().get(&mapping.name) {
                if loaded.elapsed() < TABLE_INFO_TTL {
                    return Ok(info.clone());
                }
            }
        }
        let mut connection = session::connect(&self.pool).await?;
        let info = Arc::new(columns::load(&mut connection, mapping, &self.display).await?);
        self.lock_tables()
            .insert(mapping.name.clone(), (info.clone(), Instant::now()));
        Ok(info)
    }

    async fn edit_attempt(
        &self,
        edit: &ValidatedEdit,
        table: &TableInfo,
        plan: &[plan::PlannedRow],
        edited_at_milliseconds: i64,
    ) -> Result<Attempt, Failure> {
        let envelope = &edit.message.envelope;
        let mut connection = session::connect(&self.pool).await?;
        let mut transaction = session::begin(&mut connection).await?;
        let context = EditContext {
            mapping: &edit.mapping,
            table,
            edited_at_milliseconds,
            clock: &self.options.row_clock,
            recent: &self.recent,
        };
        let mut outcome = edit::apply_rows(&mut transaction, &context, plan).await?;
        let response = outcome.take_response();
        let table_name = table.display_name();
        let finished = session::finish(
            &mut transaction,
            &Bookkeeping {
                origin: &self.options.origin,
                delivery_id: &envelope.delivery_id,
                mapping: &edit.mapping.name,
                table: &table_name,
                editor: envelope.user.as_deref(),
                edited_at_milliseconds,
                conflicts: &outcome.conflicts,
                marker: &outcome.marker,
                response: &response,
            },
        )
        .await?;
        if finished == session::Finished::AlreadyAnswered {
            transaction.rollback().await?;
            return match session::stored_response(&mut connection, &envelope.delivery_id).await? {
                Some(stored) => Ok(Attempt::Replayed(stored)),
                None => Err(Failure::Internal(format!(
                    "delivery {} is recorded but its answer cannot be read",
                    envelope.delivery_id
                ))),
            };
        }
        transaction.commit().await?;
        Ok(Attempt::Applied(outcome, response))
    }
}

impl Apply for MysqlApply {
    fn apply(&self, request: ApplyRequest) -> ApplyFuture<'_> {
        Box::pin(async move {
            match request {
                ApplyRequest::Edit(edit) => self.apply_edit(edit).await,
                ApplyRequest::Structure(report) => {
                    structure::apply_structure(&self.inner, report).await
                }
            }
        })
    }
}
