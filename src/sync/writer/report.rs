//! What the writer tells the status page between flushes: pending rows per tab and the commit
//! time of the oldest pending change (throttled; the page refreshes every second or two).

use std::time::Instant;

use super::Writer;

impl Writer {
    /// Pending rows per tab, at most every 250 ms (the page refreshes every second or two).
    pub(super) fn report_pending(&mut self) {
        let Some(status) = &self.status else {
            return;
        };
        let now = Instant::now();
        if self
            .last_status_update
            .is_some_and(|last| now.duration_since(last) < std::time::Duration::from_millis(250))
        {
            return;
        }
        self.last_status_update = Some(now);
        let oldest = self.oldest_commit.map(|seconds| {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(seconds))
        });
        for (index, tab) in self.tabs.iter().enumerate() {
            status.set_pending(&tab.mapping, self.coalescer.rows_of(index) as u64, oldest);
        }
    }
}
