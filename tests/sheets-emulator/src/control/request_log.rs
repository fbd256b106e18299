//! The request log: every API call with what it sent and what it got, so tests can assert on
//! the exact traffic (how many writes, which ranges, which were retried) and count outcomes.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::request_class::RequestClass;

/// The log keeps the most recent entries only, so a long benchmark cannot exhaust memory;
/// the summary counters cover every call.
pub const MAX_ENTRIES: usize = 20_000;
/// Bodies longer than this are cut in the log (`body_truncated`); `body_bytes` has the length.
/// A test that reads whole large bodies raises it with `Control::set_logged_body_limit`.
pub const MAX_LOGGED_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// 1, 2, 3… in the order the calls completed; `?since=` filters on it.
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// The request body as text (lossy UTF-8), cut at the log's body limit
    /// ([`MAX_LOGGED_BODY_BYTES`] unless a test raised it).
    pub body: String,
    pub body_bytes: usize,
    pub body_truncated: bool,
    pub status: u16,
    pub duration_ms: f64,
    pub class: RequestClass,
    /// The service account of a valid token; `None` when authentication failed.
    pub client_email: Option<String>,
    /// `"503 before apply"` / `"500 after apply"` when the response is an injected fault.
    pub fault: Option<String>,
    /// When the call was logged (it completed), milliseconds since the Unix epoch: lines the
    /// log up with other clocks, e.g. the convergence harness's trace.
    #[serde(default)]
    pub completed_unix_ms: u64,
}

/// Counts of calls by status and class, since the last clear.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub total: u64,
    /// Status code (as a string, for JSON) → count.
    pub by_status: BTreeMap<String, u64>,
    /// `read` / `write` → count.
    pub by_class: BTreeMap<String, u64>,
    /// `read` / `write` → status → count.
    pub by_class_and_status: BTreeMap<String, BTreeMap<String, u64>>,
    /// Responses replaced or produced by an injected fault.
    pub faults: u64,
}

#[derive(Default)]
pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    last_seq: u64,
    summary: Summary,
}

impl RequestLog {
    /// Append an entry, numbering it. Sequence numbers keep growing across clears, so a
    /// `since` taken before a clear stays meaningful.
    pub fn record(&mut self, mut entry: LoggedRequest) -> u64 {
        self.last_seq += 1;
        entry.seq = self.last_seq;
        entry.completed_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or_default();
        let class = class_name(entry.class).to_string();
        let status = entry.status.to_string();
        let summary = &mut self.summary;
        summary.total += 1;
        *summary.by_status.entry(status.clone()).or_default() += 1;
        *summary.by_class.entry(class.clone()).or_default() += 1;
        *summary
            .by_class_and_status
            .entry(class)
            .or_default()
            .entry(status)
            .or_default() += 1;
        if entry.fault.is_some() {
            summary.faults += 1;
        }
        if self.entries.len() == MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.last_seq
    }

    /// Entries with `seq > since` (all when `None`).
    pub fn since(&self, since: Option<u64>) -> Vec<LoggedRequest> {
        let since = since.unwrap_or(0);
        self.entries
            .iter()
            .filter(|entry| entry.seq > since)
            .cloned()
            .collect()
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn summary(&self) -> Summary {
        self.summary.clone()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.summary = Summary::default();
    }
}

fn class_name(class: RequestClass) -> &'static str {
    match class {
        RequestClass::Read => "read",
        RequestClass::Write => "write",
    }
}

/// Text of a body for the log, cut at `limit` bytes.
pub fn body_text(bytes: &[u8], limit: usize) -> (String, bool) {
    let truncated = bytes.len() > limit;
    let kept = &bytes[..bytes.len().min(limit)];
    (String::from_utf8_lossy(kept).into_owned(), truncated)
}
