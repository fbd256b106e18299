//! Group commit: edit messages that arrive while a transaction is in progress are applied
//! together, in one transaction, by a few workers in front of the apply step.
//!
//! Consumes [`ValidatedEdit`]s (through [`Batcher::submit`], or [`apply_together`] for a given
//! group); produces each message's own answer, or hands the message back to be applied alone
//! ([`Answer::Alone`]: the one-transaction-per-message path of `super`, with its retries).
//!
//! ```text
//! submit ─► bounded queue ─► worker: take what is queued (≤ MAX_BATCH; never waits for more)
//!   ─► per mapping, one transaction: one SELECT … FOR UPDATE NOWAIT of every row (index order),
//!      each message's rows in arrival order (their UPDATEs held and run together: one statement
//!      per set of columns assigned), its conflicts, one echo marker listing every row
//!      written, one INSERT of every delivery answer, COMMIT
//!   ─► after commit: each message's write-backs, recent keys, metrics ─► its answer
//! ```
//! Guarantees: every answer equals the answer of applying the messages one by one in queue
//! order (each message sees the earlier ones' writes, in the same transaction); each message
//! is all or nothing. Anything the group cannot decide alone is handed back, after the group
//! committed or rolled back, to run alone: a message about a row without a key (inserts
//! wait on each other per sheet row), one naming a column the cached types lack, a second
//! message about a row the group already writes (the marker keeps one entry per row), a
//! repeated delivery id (applied once: the copy is answered from the store), and every
//! message of a group whose transaction failed (a row locked by another transaction — the
//! group does not wait for it —, deadlock, lost connection, a delivery already stored, schema
//! change) — each then gets its own transaction, lock waits, retries, 503 or 500.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::edit::{self, EditContext, EditOutcome, Prefetched};
use super::error::{Failure, FailureClass};
use super::held::Held;
use super::marker;
use super::plan::{iso_milliseconds, plan_row, PlannedKey, PlannedRow};
use super::session::{self, Bookkeeping, Delivery};
use super::statements::{key_text, padded, select_many_for_update, LockWait};
use super::typed::Typed;
use super::{names_unknown_column, Inner, WriteBackWait};
use crate::webhook::apply::ValidatedEdit;
use crate::webhook::{ApplyError, ApplyResponse};

/// Messages in one transaction at most: bounds how long its row locks are held.
pub const MAX_BATCH: usize = 64;
/// Messages waiting for a worker; a full queue makes submitters wait (back-pressure).
const QUEUE_CAPACITY: usize = 1024;
/// Transactions in progress at once. More than one, so that a group waiting on something
/// (a trigger's lock, a slow server) does not stop every edit; few, so that batches form.
pub const WORKERS: usize = 2;

/// What became of a submitted message.
#[derive(Debug)]
pub enum Answer {
    /// Committed with the group (or answered from the store): the message's answer.
    Applied(ApplyResponse),
    /// Not applied: apply it alone.
    Alone(Box<ValidatedEdit>),
}

/// Whether a message may join a group: it names rows by key only (a keyless row's INSERT must
/// be remembered before another message about that sheet row runs).
pub fn groupable(edit: &ValidatedEdit) -> bool {
    !edit.message.rows.is_empty() && !edit.message.rows.iter().any(|row| row.is_new())
}

struct Queued {
    edit: ValidatedEdit,
    answer: oneshot::Sender<Answer>,
}

/// The queue in front of the workers. The workers stop when the last `Batcher` is dropped.
pub(crate) struct Batcher {
    sender: mpsc::Sender<Queued>,
}

impl Batcher {
    /// Starts `workers` workers on the current Tokio runtime.
    pub(crate) fn start(inner: Arc<Inner>, workers: usize) -> Batcher {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..workers.max(1) {
            tokio::spawn(work(inner.clone(), receiver.clone()));
        }
        Batcher { sender }
    }

    /// Queues `edit` and waits for its group. A message the workers cannot take (they
    /// stopped) comes back as [`Answer::Alone`].
    pub(crate) async fn submit(&self, edit: ValidatedEdit) -> Result<Answer, ApplyError> {
        let (answer, answered) = oneshot::channel();
        if let Err(refused) = self.sender.send(Queued { edit, answer }).await {
            return Ok(Answer::Alone(Box::new(refused.0.edit)));
        }
        answered.await.map_err(|_| {
            ApplyError::Unavailable("the group commit worker stopped before answering".into())
        })
    }
}

async fn work(inner: Arc<Inner>, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Queued>>>) {
    // One buffer for the worker's life: a group is taken without allocating.
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Waits for one message, then takes what else is queued (a lone message never waits).
        if queue.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (edits, senders): (Vec<ValidatedEdit>, Vec<oneshot::Sender<Answer>>) = batch
            .drain(..)
            .map(|queued| (queued.edit, queued.answer))
            .unzip();
        let answers = apply_together(&inner, edits, WriteBackWait::Detached).await;
        for (sender, answer) in senders.into_iter().zip(answers) {
            // A submitter that went away (its request was dropped) needs no answer.
            let _ = sender.send(answer);
        }
    }
}

/// Applies `edits` as few transactions as possible (one per mapping); one answer per edit, in
/// order. Returns once every group committed or rolled back.
pub(crate) async fn apply_together(
    inner: &Inner,
    edits: Vec<ValidatedEdit>,
    wait: WriteBackWait,
) -> Vec<Answer> {
    let mut applied: Vec<Option<ApplyResponse>> = vec![None; edits.len()];
    let mut seen_deliveries = HashSet::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_mapping: HashMap<&str, usize> = HashMap::new();
    for (index, edit) in edits.iter().enumerate() {
        if !groupable(edit) || !seen_deliveries.insert(edit.message.envelope.delivery_id.as_str()) {
            continue;
        }
        let group = *group_of_mapping
            .entry(edit.mapping.name.as_str())
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[group].push(index);
    }
    for members in &groups {
        apply_group(inner, &edits, members, &mut applied, wait).await;
    }
    edits
        .into_iter()
        .zip(applied)
        .map(|(edit, response)| match response {
            Some(response) => Answer::Applied(response),
            None => Answer::Alone(Box::new(edit)),
        })
        .collect()
}

/// A message of the group, planned.
struct Member<'a> {
    index: usize,
    edit: &'a ValidatedEdit,
    plan: Vec<PlannedRow>,
    edited_at_milliseconds: i64,
}

/// One transaction for `members` (messages of one mapping); fills `applied` for those it
/// committed and leaves the others to be applied alone.
async fn apply_group(
    inner: &Inner,
    edits: &[ValidatedEdit],
    members: &[usize],
    applied: &mut [Option<ApplyResponse>],
    wait: WriteBackWait,
) {
    let Some(first) = members.first().map(|index| &edits[*index]) else {
        return;
    };
    let mapping = &first.mapping;
    let Ok(table) = inner.table(mapping, false).await else {
        return;
    };
    let mut taken_keys: HashSet<Vec<Option<String>>> = HashSet::new();
    let mut keys: Vec<Vec<Typed>> = Vec::new();
    let mut planned: Vec<Member<'_>> = Vec::new();
    for index in members {
        let edit = &edits[*index];
        if names_unknown_column(edit, &table) {
            continue;
        }
        let plan: Vec<PlannedRow> = edit
            .message
            .rows
            .iter()
            .map(|row| plan_row(row, &table))
            .collect();
        // (key, whether the row is read): a row whose key cell was edited is only answered.
        let own_keys: Vec<(&Vec<Typed>, bool)> = plan
            .iter()
            .filter_map(|row| match &row.key {
                PlannedKey::Existing(key) => Some((key, row.key_edit.is_none())),
                _ => None,
            })
            .collect();
        if own_keys
            .iter()
            .any(|(key, _)| taken_keys.contains(&key_text(key)))
        {
            continue;
        }
        for (key, read) in own_keys {
            if taken_keys.insert(key_text(key)) && read {
                keys.push(key.clone());
            }
        }
        planned.push(Member {
            index: *index,
            edit,
            edited_at_milliseconds: iso_milliseconds(&edit.message.edited_at),
            plan,
        });
    }
    if planned.is_empty() {
        return;
    }
    match transaction(inner, &table, &planned, keys).await {
        Ok(outcomes) => {
            for (member, (outcome, response)) in planned.iter().zip(outcomes) {
                inner
                    .after_commit(mapping, &table, &member.plan, outcome, wait)
                    .await;
                applied[member.index] = Some(response);
            }
        }
        Err(failure) => {
            if failure.class() == FailureClass::Transient {
                // Each message is tried again, alone: a retry of the transaction.
                metrics::counter!("sheetsync_apply_retries_total").increment(1);
            }
            tracing::debug!(%failure, messages = planned.len(),
                "a group commit was rolled back; its messages are applied one by one");
        }
    }
}

/// The group's transaction; its outcomes and answers once committed. Any failure rolls back
/// the whole group (the caller applies its messages alone).
async fn transaction(
    inner: &Inner,
    table: &super::columns::TableInfo,
    members: &[Member<'_>],
    keys: Vec<Vec<Typed>>,
) -> Result<Vec<(EditOutcome, ApplyResponse)>, Failure> {
    let mut connection = session::connect(&inner.pool).await?;
    let mut transaction = session::begin(&mut connection).await?;
    let result = async {
        let mut prefetched: Prefetched = if keys.is_empty() {
            Prefetched::new()
        } else {
            // A row another transaction holds sends the group's messages to their own
            // transactions at once, rather than making every message of the group wait.
            select_many_for_update(&mut transaction, table, &padded(keys), LockWait::NoWait).await?
        };
        let contexts: Vec<EditContext<'_>> = members
            .iter()
            .map(|member| EditContext {
                mapping: &member.edit.mapping,
                table,
                edited_at_milliseconds: member.edited_at_milliseconds,
                clock: &inner.options.row_clock,
                recent: &inner.recent,
            })
            .collect();
        let mut held = Held::default();
        for (member, context) in members.iter().zip(&contexts) {
            edit::apply_prefetched_rows(
                &mut transaction,
                context,
                &member.plan,
                &mut prefetched,
                &mut held,
            )
            .await?;
        }
        held.run(&mut transaction, table).await?;
        let mut outcomes = held.into_outcomes(
            &contexts,
            &members
                .iter()
                .map(|member| member.plan.as_slice())
                .collect::<Vec<_>>(),
        );
        if !distinct_rows(&outcomes) {
            return Err(Failure::Internal(
                "two messages of the group wrote the same row".into(),
            ));
        }
        let table_name = table.display_name();
        let responses: Vec<ApplyResponse> = outcomes
            .iter_mut()
            .map(EditOutcome::take_response)
            .collect();
        for ((member, outcome), response) in members.iter().zip(&outcomes).zip(&responses) {
            session::record_conflicts(
                &mut transaction,
                &bookkeeping(inner, member, &table_name, outcome, response),
            )
            .await?;
        }
        let first_delivery = members
            .first()
            .map(|member| member.edit.message.envelope.delivery_id.as_str())
            .unwrap_or_default();
        if let Some(marker) = marker::joined_json(outcomes.iter().map(|outcome| &outcome.marker)) {
            session::write_marker_json(
                &mut transaction,
                &inner.options.origin,
                first_delivery,
                marker,
            )
            .await?;
        }
        let deliveries: Vec<Delivery<'_>> = members
            .iter()
            .zip(&responses)
            .map(|(member, response)| Delivery {
                delivery_id: &member.edit.message.envelope.delivery_id,
                mapping: &member.edit.mapping.name,
                response,
            })
            .collect();
        if session::record_deliveries(&mut transaction, &deliveries).await?
            == session::Finished::AlreadyAnswered
        {
            return Err(Failure::Internal(
                "a delivery of the group is answered already".into(),
            ));
        }
        Ok(outcomes.into_iter().zip(responses).collect::<Vec<_>>())
    }
    .await;
    match result {
        Ok(outcomes) => {
            transaction.commit().await?;
            Ok(outcomes)
        }
        Err(failure) => {
            // A broken connection rolls back on its own; the pool discards it.
            let _ = transaction.rollback().await;
            Err(failure)
        }
    }
}

fn bookkeeping<'a>(
    inner: &'a Inner,
    member: &'a Member<'_>,
    table_name: &'a str,
    outcome: &'a EditOutcome,
    response: &'a ApplyResponse,
) -> Bookkeeping<'a> {
    let envelope = &member.edit.message.envelope;
    Bookkeeping {
        origin: &inner.options.origin,
        delivery_id: &envelope.delivery_id,
        mapping: &member.edit.mapping.name,
        table: table_name,
        editor: envelope.user.as_deref(),
        edited_at_milliseconds: member.edited_at_milliseconds,
        conflicts: &outcome.conflicts,
        marker: &outcome.marker,
        response,
    }
}

/// (table, key columns and their text) of a marked row.
type MarkedRowKey<'a> = (&'a str, &'a [(String, String)]);

/// Whether no row is marked by two messages (a key spelled two ways): the echo filter keeps
/// one entry per row, so such messages must not share a transaction.
fn distinct_rows(outcomes: &[EditOutcome]) -> bool {
    let mut owner: HashMap<MarkedRowKey<'_>, usize> = HashMap::new();
    for (message, outcome) in outcomes.iter().enumerate() {
        for row in &outcome.marker.rows {
            let first = *owner
                .entry((row.table.as_str(), row.key.as_slice()))
                .or_insert(message);
            if first != message {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
