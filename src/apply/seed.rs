//! Which keys of a tab the apply has seen, read from the tab when the webhook starts.
//!
//! Consumes the mapping's table and the Sheets API; produces known keys (`KnownKeys`), which a
//! later `REMOVE_ROW` report needs: only a key seen in the tab before can count as removed.
//! Guarantees the seed covers the initial load: on a first start the webhook starts while the
//! initial load is still writing the tab (no header yet, or only the first batches), so the read
//! is repeated with backoff until it holds as many keys as the table has rows, the read keeps
//! failing for [`MAX_SEED_ATTEMPTS`], or the tab stays short of the table that long (people
//! removed rows meanwhile; those rows are then never counted as removed, as before). Every read
//! adds what it found, so a partial read is never lost.

use std::time::Duration;

use mysql_async::prelude::Queryable;

use super::session;
use super::structure::read_keys;
use super::Inner;
use crate::config::MappingConfig;

/// About seventeen minutes of reads: an initial load of a tab at the cell limit fits; a tab that
/// never fills up stops being read then. Each read costs two Sheets read requests, so the delays
/// grow quickly to leave the read quota to the writer (at most 4 of 60 a minute after the first
/// half minute).
pub const MAX_SEED_ATTEMPTS: u32 = 40;
const FIRST_DELAY: Duration = Duration::from_secs(1);
const LONGEST_DELAY: Duration = Duration::from_secs(30);

/// What one read of the tab's key column gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedRead {
    /// The table or the tab could not be read (no header yet, Sheets failing).
    Failed,
    /// Fewer keys in the tab than rows in the table: the initial load may still be writing.
    Short,
    /// Every row of the table is in the tab (or more): seeding is done.
    Complete,
}

impl SeedRead {
    pub fn of(keys_in_tab: usize, rows_in_table: u64) -> SeedRead {
        if keys_in_tab as u64 >= rows_in_table {
            SeedRead::Complete
        } else {
            SeedRead::Short
        }
    }
}

/// How long to wait before reading again after `attempt` (1-based) gave `read`; None: stop.
pub fn next_seed_delay(attempt: u32, read: SeedRead) -> Option<Duration> {
    if read == SeedRead::Complete || attempt >= MAX_SEED_ATTEMPTS {
        return None;
    }
    let factor = 1u32 << attempt.saturating_sub(1).min(5);
    Some((FIRST_DELAY * factor).min(LONGEST_DELAY))
}

/// Seeds the known keys of a mapping from the tab (best effort, see the module comment).
pub(super) async fn seed_known_keys(inner: &Inner, mapping: &MappingConfig) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let read = read_once(inner, mapping).await;
        match next_seed_delay(attempt, read) {
            Some(delay) => tokio::time::sleep(delay).await,
            None => {
                if read == SeedRead::Complete {
                    tracing::info!(mapping = %mapping.name, attempts = attempt,
                        "known keys seeded from the tab: rows removed from the sheet are deleted");
                } else {
                    tracing::warn!(mapping = %mapping.name, attempts = attempt, ?read,
                        "the tab's keys were not all read; rows removed from the sheet are deleted once they are seen again");
                }
                return;
            }
        }
    }
}

async fn read_once(inner: &Inner, mapping: &MappingConfig) -> SeedRead {
    let table = match inner.table(mapping, false).await {
        Ok(table) => table,
        Err(error) => {
            tracing::debug!(mapping = %mapping.name, %error, "cannot read the table to seed known keys yet");
            return SeedRead::Failed;
        }
    };
    let Some(sheets) = &inner.options.sheets else {
        return SeedRead::Complete;
    };
    let keys = match read_keys(sheets, mapping, &table).await {
        Ok(keys) => keys,
        Err(error) => {
            tracing::debug!(mapping = %mapping.name, %error, "cannot read the key column yet");
            return SeedRead::Failed;
        }
    };
    let count = keys.len();
    inner.known.add(&mapping.name, keys);
    match count_rows(inner, &table.quoted_name()).await {
        Some(rows) => SeedRead::of(count, rows),
        None => SeedRead::Failed,
    }
}

async fn count_rows(inner: &Inner, quoted_table: &str) -> Option<u64> {
    let mut connection = session::connect(&inner.pool).await.ok()?;
    connection
        .query_first(format!("SELECT COUNT(*) FROM {quoted_table}"))
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_again_with_backoff_until_the_tab_holds_the_table() {
        let cases = [
            (1, SeedRead::Failed, Some(Duration::from_secs(1))),
            (2, SeedRead::Short, Some(Duration::from_secs(2))),
            (3, SeedRead::Failed, Some(Duration::from_secs(4))),
            (5, SeedRead::Short, Some(Duration::from_secs(16))),
            (6, SeedRead::Short, Some(LONGEST_DELAY)),
            (20, SeedRead::Failed, Some(LONGEST_DELAY)),
            (MAX_SEED_ATTEMPTS - 1, SeedRead::Short, Some(LONGEST_DELAY)),
            (MAX_SEED_ATTEMPTS, SeedRead::Short, None),
            (MAX_SEED_ATTEMPTS, SeedRead::Failed, None),
            (1, SeedRead::Complete, None),
            (30, SeedRead::Complete, None),
        ];
        for (attempt, read, expected) in cases {
            assert_eq!(
                next_seed_delay(attempt, read),
                expected,
                "{attempt} {read:?}"
            );
        }
    }

    #[test]
    fn complete_once_the_tab_has_every_row_of_the_table() {
        assert_eq!(SeedRead::of(0, 0), SeedRead::Complete);
        assert_eq!(SeedRead::of(0, 30), SeedRead::Short);
        assert_eq!(SeedRead::of(29, 30), SeedRead::Short);
        assert_eq!(SeedRead::of(30, 30), SeedRead::Complete);
        assert_eq!(SeedRead::of(31, 30), SeedRead::Complete);
    }
}
