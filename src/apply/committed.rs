//! What a committed message leaves behind outside its transaction: the keys of rows inserted
//! for the sheet, the keys the tab holds (mappings with deletes), conflict metrics, the tab
//! marked stale after a key edit, the write-backs handed to the writer, and the periodic
//! pruning of the bookkeeping tables.
//!
//! Guarantees: runs only after COMMIT, so a retried transaction counts nothing twice; a
//! write-back the writer cannot take in time is dropped and counted, never blocks a group
//! commit worker (`WriteBackWait::Detached`).

use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::columns::TableInfo;
use super::edit::EditOutcome;
use super::plan::{self, PlannedKey};
use super::{cells, session, Inner, WriteBackWait, PRUNE_EVERY, WRITE_BACK_TIMEOUT};
use crate::config::MappingConfig;
use crate::sync::WriteBack;

impl Inner {
    pub(super) async fn after_commit(
        &self,
        mapping: &MappingConfig,
        table: &TableInfo,
        plan: &[plan::PlannedRow],
        outcome: EditOutcome,
        wait: WriteBackWait,
    ) {
        for (sheet_row, key) in &outcome.inserted {
            self.recent.remember(&mapping.name, *sheet_row, key.clone());
        }
        if mapping.deletes {
            // The keys the tab holds, for telling removed rows apart (`structure`); a mapping
            // that does not delete keeps none, so its set does not grow with every key edited.
            let seen = plan.iter().filter_map(|row| match &row.key {
                PlannedKey::Existing(key) => Some(cells::row_key(table, key)),
                _ => None,
            });
            let inserted = outcome
                .inserted
                .iter()
                .map(|(_, key)| cells::row_key(table, key));
            self.known.add(&mapping.name, seen.chain(inserted));
        }
        // Counted once committed, so a retried transaction does not count its conflicts twice.
        for conflict in &outcome.conflicts {
            metrics::counter!("sheetsync_conflicts_total", "policy" => conflict.policy)
                .increment(1);
        }
        if outcome.stale {
            self.options.structure.mark_stale(&mapping.name);
        }
        let mut write_backs = outcome.write_backs.into_iter();
        if wait == WriteBackWait::Detached {
            for write_back in write_backs.by_ref() {
                match self.options.write_back.try_send(write_back) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        metrics::counter!("sheetsync_write_backs_dropped_total").increment(1);
                    }
                    Err(mpsc::error::TrySendError::Full(write_back)) => {
                        let rest: Vec<WriteBack> =
                            std::iter::once(write_back).chain(write_backs).collect();
                        let (sender, mapping, table) = (
                            self.options.write_back.clone(),
                            mapping.name.clone(),
                            table.display_name(),
                        );
                        tokio::spawn(async move {
                            send_write_backs(&sender, rest, &mapping, &table).await;
                        });
                        break;
                    }
                }
            }
        } else {
            let rest: Vec<WriteBack> = write_backs.collect();
            if !rest.is_empty() {
                send_write_backs(
                    &self.options.write_back,
                    rest,
                    &mapping.name,
                    &table.display_name(),
                )
                .await;
            }
        }
        if self.applied.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let (pool, origin) = (self.pool.clone(), self.options.origin.clone());
            tokio::spawn(async move { session::prune(&pool, &origin).await });
        }
    }
}

/// Hands write-backs to the writer, each waiting at most [`WRITE_BACK_TIMEOUT`].
async fn send_write_backs(
    sender: &mpsc::Sender<WriteBack>,
    write_backs: Vec<WriteBack>,
    mapping: &str,
    table: &str,
) {
    for write_back in write_backs {
        if sender
            .send_timeout(write_back, WRITE_BACK_TIMEOUT)
            .await
            .is_err()
        {
            metrics::counter!("sheetsync_write_backs_dropped_total").increment(1);
            tracing::warn!(%mapping, %table,
                "the sheet writer did not take a write-back in time; reconcile will repair the cell");
        }
    }
}
