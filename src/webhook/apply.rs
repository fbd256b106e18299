//! The seam between the webhook and the database: the router validates and authenticates, then
//! hands an [`ApplyRequest`] to an [`Apply`] implementation (the MySQL writer, or a recording
//! stand-in in tests) and returns its [`ApplyResponse`] to the script.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use super::message::{CellValue, EditMessage, StructureMessage};
use crate::config::MappingConfig;

/// A boxed future, so that `Apply` can be used as `Arc<dyn Apply>`.
pub type ApplyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ApplyResponse, ApplyError>> + Send + 'a>>;

/// Applies one authenticated, validated message to the database.
pub trait Apply: Send + Sync {
    fn apply(&self, request: ApplyRequest) -> ApplyFuture<'_>;
}

/// An edit whose spreadsheet and tab belong to `mapping` and whose columns the mapping syncs.
#[derive(Debug, Clone)]
pub struct ValidatedEdit {
    /// Shared with the webhook's state: a message does not copy its mapping.
    pub mapping: Arc<MappingConfig>,
    pub message: EditMessage,
}

/// A structure report for the tab of `mapping`.
#[derive(Debug, Clone)]
pub struct ValidatedStructure {
    pub mapping: Arc<MappingConfig>,
    pub message: StructureMessage,
}

#[derive(Debug, Clone)]
pub enum ApplyRequest {
    Edit(ValidatedEdit),
    Structure(ValidatedStructure),
}

impl ApplyRequest {
    pub fn mapping(&self) -> &MappingConfig {
        match self {
            ApplyRequest::Edit(edit) => &edit.mapping,
            ApplyRequest::Structure(structure) => &structure.mapping,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApplyResponse {
    pub results: Vec<RowResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowResult {
    pub row: u32,
    pub status: RowStatus,
    /// For `inserted` rows: the new key, which the script writes into the key cells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<BTreeMap<String, CellValue>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CellError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Applied,
    Unchanged,
    Conflict,
    Rejected,
    Inserted,
}

/// Why one cell was refused; the service reverts the cell and notes the reason on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellError {
    pub column: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The database cannot be reached or is read-only: the script retries later (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the script is told only that it failed (500).
    #[error("apply failed: {0}")]
    Failed(String),
}
