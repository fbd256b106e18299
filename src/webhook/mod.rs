//! The webhook: sheet edits from the Apps Script, authenticated and validated, handed to the
//! apply step (docs/webhook-protocol.md is the contract).
//!
//! ```text
//! POST /webhook ─► size limit ─► HMAC + timestamp ─► parse ─► replay store ─► mapping ─► Apply
//!                    413            401               400     (first answer)    422     200 / 503
//! ```
//!
//! - [`message`]: the body's types and `parse`, with a precise error per field.
//! - [`signature`]: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, constant-time.
//! - [`replay`]: the first answer per `delivery_id`, so retries are idempotent.
//! - [`router`]: the axum router and the order of the checks.
//! - [`apply`]: the trait the database side implements.
//! - [`error`]: failures → status, JSON body and metrics outcome label.

pub mod apply;
mod column_map;
pub mod error;
mod fields;
pub mod message;
pub mod replay;
pub mod router;
pub mod signature;

pub use apply::{
    Apply, ApplyError, ApplyFuture, ApplyRequest, ApplyResponse, CellError, RowResult, RowStatus,
};
pub use column_map::ColumnMap;
pub use error::WebhookError;
pub use message::{
    parse, CellValue, EditMessage, EditedRow, Message, MessageError, StructureMessage,
};
pub use router::{router, Clock, SystemClock, WebhookState};
