//! The Google Sheets API v4 client layer: authentication, the HTTP calls, error
//! classification and retries, the quota budget, and the typed request/response model.
//!
//! Consumes a [`crate::config::GoogleConfig`] (key file, API base) and quota settings;
//! produces [`SheetsClient`], whose calls each take a token from the service account's read or
//! write budget, carry a cached OAuth access token, and are retried on transient failures
//! (DESIGN §2.7). Guarantees: no call is sent without a quota token; a definite error (any 4xx
//! but 408/429) is never retried and carries Google's own message; every error says whether it
//! is transient ([`SheetsError::is_transient`]).
//!
//! | file | role |
//! |---|---|
//! | `client.rs` | `SheetsClient`: construction, timeouts, the API calls |
//! | `send.rs` | one call attempted until success, definite error, retry limit or cancel |
//! | `retry.rs` | the pure retry decision and backoff, table-tested |
//! | `quota.rs` | read/write budgets: ≤ N requests in any window |
//! | `auth.rs` | key file, service-account token source, TLS config |
//! | `error.rs` | `SheetsError`, Google's error envelope, transient vs definite |
//! | `model.rs` | typed batchUpdate requests, cells, ranges, metadata, data filters |
//! | `responses.rs` | typed responses: spreadsheet, value ranges, replies, search |
//! | `a1.rs` | column letters, quoted tab names, A1 ranges |

pub mod a1;
pub mod auth;
mod client;
pub mod error;
pub mod model;
pub mod quota;
pub mod responses;
pub mod retry;
mod send;

#[cfg(test)]
mod model_tests;

pub use client::{ClientOptions, Counters, SheetsClient, LAYOUT_FIELDS};
pub use error::SheetsError;
pub use quota::{AccountQuota, QuotaSettings, RequestBudget};
pub use retry::{decide, Failure, RetryDecision, RetryPolicy};
pub use send::{Call, RequestKind};
