//! What the writer tells the status page: between flushes, pending rows per tab and the commit
//! time of the oldest pending change (throttled; the page refreshes every second or two); after
//! each flush, its cells, requests, lag and checkpoint.

use std::time::Instant;

use super::{FlushReport, Writer};
use crate::metrics::QuotaKind;
use crate::sync::checkpoint::Checkpoint;

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

    /// A finished flush: cells, requests, lag and the checkpoint, per tab.
    pub(super) fn report_flush(&mut self, report: &FlushReport, next: &Checkpoint) {
        if let Some(status) = &self.status {
            let now = std::time::SystemTime::now();
            let lag = self.in_flight_oldest_commit.take().map(|seconds| {
                now.duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_secs_f64() - f64::from(seconds))
                    .unwrap_or_default()
                    .max(0.0)
            });
            for tab in &self.tabs {
                let cells = report
                    .cells_by_tab
                    .get(&tab.mapping)
                    .copied()
                    .unwrap_or_default();
                if cells > 0 {
                    status.record_flush(&tab.mapping, cells as u64, now);
                    status.record_request(&tab.mapping, QuotaKind::Write, now);
                }
                status.set_lag(&tab.mapping, lag.unwrap_or(0.0));
            }
            if let Some(position) = next.mappings.values().next() {
                status.record_checkpoint(position.to_string(), now);
            }
            self.last_status_update = None;
        }
    }
}
