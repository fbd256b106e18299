//! The checkpoint: where each mapping of one spreadsheet stands in the binlog, stored as one
//! developer-metadata entry on the spreadsheet and written in the same `batchUpdate` as the
//! cells it covers (DESIGN §2.4).
//!
//! Consumes the spreadsheet's metadata (one read at start, and after an ambiguous write
//! failure); produces the [`Checkpoint`] and the request that stores a new one. Guarantees: a
//! checkpoint names, per mapping, the position up to which that mapping's tab holds every
//! change — a mapping that is not named has no complete initial load and is snapshotted again;
//! every stored checkpoint carries a unique `flush` id, so reading it back tells whether a
//! particular batch was applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::position::BinlogPosition;
use crate::sheets::model::{
    CreateDeveloperMetadataRequest, DataFilter, DeveloperMetadata, DeveloperMetadataLocation,
    DeveloperMetadataLookup, Request, UpdateDeveloperMetadataRequest, Visibility,
};
use crate::sheets::responses::BatchUpdateResponse;
use crate::sheets::{SheetsClient, SheetsError};

/// The developer-metadata key of sheetsync's checkpoint.
pub const CHECKPOINT_KEY: &str = "sheetsync.checkpoint";

/// What one spreadsheet's checkpoint says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version, for upgrades.
    pub version: u32,
    /// Unique per stored flush: `<writer run id>-<sequence>`.
    pub flush: String,
    /// Mapping name → the position its tab is complete up to.
    pub mappings: BTreeMap<String, BinlogPosition>,
}

/// The checkpoint as found on the spreadsheet: its metadata id (needed to update it) and value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub metadata_id: Option<i64>,
    pub checkpoint: Checkpoint,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The metadata entry is there but unreadable: someone edited it, or a newer sheetsync wrote
    /// it. Definite: resuming from a guess could skip changes.
    #[error(
        "the checkpoint stored in spreadsheet {spreadsheet_id} (developer metadata `{CHECKPOINT_KEY}`) is unreadable: {reason}; delete that metadata entry to re-snapshot every mapping of this spreadsheet"
    )]
    Unreadable {
        spreadsheet_id: String,
        reason: String,
    },
    /// Read back between flushes, the stored checkpoint is another process's: a request of an
    /// earlier process (a leader that died mid-request) was applied after this writer's
    /// flushes (`sync/writer/fence.rs`). Transient: restart from what is stored.
    #[error(
        "the checkpoint stored in spreadsheet {spreadsheet_id} is now flush `{found}`, not this writer's last (`{expected}`): a request of another sheetsync process (an earlier leader, or one killed mid-request) was applied late; restarting from the stored checkpoint to write the later changes again"
    )]
    WrittenElsewhere {
        spreadsheet_id: String,
        expected: String,
        found: String,
    },
    #[error(transparent)]
    Sheets(#[from] SheetsError),
}

impl CheckpointError {
    pub fn is_transient(&self) -> bool {
        match self {
            CheckpointError::Unreadable { .. } => false,
            CheckpointError::WrittenElsewhere { .. } => true,
            CheckpointError::Sheets(error) => error.is_transient(),
        }
    }

    /// See [`crate::sheets::SheetsError::is_sheet_changed`].
    pub fn is_sheet_changed(&self) -> bool {
        matches!(self, CheckpointError::Sheets(error) if error.is_sheet_changed())
    }
}

const VERSION: u32 = 1;

impl Checkpoint {
    pub fn encode(&self) -> String {
        let versioned = Checkpoint {
            version: VERSION,
            ..self.clone()
        };
        serde_json::to_string(&versioned).unwrap_or_default()
    }

    pub fn decode(spreadsheet_id: &str, text: &str) -> Result<Checkpoint, CheckpointError> {
        let unreadable = |reason: String| CheckpointError::Unreadable {
            spreadsheet_id: spreadsheet_id.to_string(),
            reason,
        };
        let checkpoint: Checkpoint =
            serde_json::from_str(text).map_err(|error| unreadable(error.to_string()))?;
        if checkpoint.version != VERSION {
            return Err(unreadable(format!(
                "format version {} (this sheetsync writes {VERSION})",
                checkpoint.version
            )));
        }
        Ok(checkpoint)
    }
}

impl StoredCheckpoint {
    /// Reads the checkpoint of `spreadsheet_id` (one read request). None stored → empty.
    /// When several entries carry the key (only a crash between two creates could do that) the
    /// lowest id is the one sheetsync reads and updates, so the choice is stable.
    pub async fn load(
        client: &SheetsClient,
        spreadsheet_id: &str,
        cancel: &CancellationToken,
    ) -> Result<StoredCheckpoint, CheckpointError> {
        let matched = client
            .search_developer_metadata(spreadsheet_id, CHECKPOINT_KEY, cancel)
            .await?;
        let Some(entry) = matched
            .into_iter()
            .map(|matched| matched.developer_metadata)
            .filter(|metadata| metadata.metadata_key.as_deref() == Some(CHECKPOINT_KEY))
            .min_by_key(|metadata| metadata.metadata_id.unwrap_or(i64::MAX))
        else {
            return Ok(StoredCheckpoint::default());
        };
        let checkpoint = Checkpoint::decode(
            spreadsheet_id,
            entry.metadata_value.as_deref().unwrap_or_default(),
        )?;
        Ok(StoredCheckpoint {
            metadata_id: entry.metadata_id,
            checkpoint,
        })
    }

    /// The request storing `next`: an update of the existing entry, or its creation.
    pub fn store_request(&self, next: &Checkpoint) -> Request {
        let value = next.encode();
        match self.metadata_id {
            Some(metadata_id) => Request::UpdateDeveloperMetadata(UpdateDeveloperMetadataRequest {
                data_filters: vec![DataFilter {
                    developer_metadata_lookup: Some(DeveloperMetadataLookup {
                        metadata_id: Some(metadata_id),
                        ..DeveloperMetadataLookup::default()
                    }),
                    ..DataFilter::default()
                }],
                developer_metadata: DeveloperMetadata {
                    metadata_value: Some(value),
                    ..DeveloperMetadata::default()
                },
                fields: "metadataValue".into(),
            }),
            None => Request::CreateDeveloperMetadata(CreateDeveloperMetadataRequest {
                developer_metadata: DeveloperMetadata {
                    metadata_key: Some(CHECKPOINT_KEY.into()),
                    metadata_value: Some(value),
                    location: Some(DeveloperMetadataLocation::spreadsheet()),
                    visibility: Some(Visibility::Document),
                    ..DeveloperMetadata::default()
                },
            }),
        }
    }

    /// After a batch carrying `store_request(next)` was applied: remember `next`, and the id
    /// Google gave a newly created entry (from the batch's replies).
    pub fn stored(&mut self, next: Checkpoint, response: Option<&BatchUpdateResponse>) {
        if self.metadata_id.is_none() {
            self.metadata_id = response.and_then(|response| {
                response.replies.iter().rev().find_map(|reply| {
                    reply
                        .create_developer_metadata
                        .as_ref()
                        .and_then(|created| created.developer_metadata.metadata_id)
                })
            });
        }
        self.checkpoint = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_and_refuses_what_it_cannot_read() {
        let checkpoint = Checkpoint {
            version: VERSION,
            flush: "run-1".into(),
            mappings: BTreeMap::from([
                ("orders".into(), "0-1-17".parse().expect("position")),
                (
                    "people".into(),
                    "binlog.000002:400".parse().expect("position"),
                ),
            ]),
        };
        let text = checkpoint.encode();
        assert_eq!(Checkpoint::decode("s", &text).expect("decodes"), checkpoint);
        for (text, reason) in [
            ("not json", "expected"),
            (
                r#"{"version":2,"flush":"x","mappings":{}}"#,
                "format version 2",
            ),
            (
                r#"{"version":1,"flush":"x","mappings":{"a":"0-x"}}"#,
                "invalid",
            ),
        ] {
            let error = Checkpoint::decode("sheet-1", text).expect_err(text);
            let message = error.to_string();
            assert!(message.contains(reason), "{message}");
            assert!(message.contains("sheet-1"), "{message}");
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn the_store_request_creates_once_then_updates_by_id() {
        let mut stored = StoredCheckpoint::default();
        let next = Checkpoint {
            version: VERSION,
            flush: "run-2".into(),
            mappings: BTreeMap::new(),
        };
        assert!(matches!(
            stored.store_request(&next),
            Request::CreateDeveloperMetadata(_)
        ));
        let response: BatchUpdateResponse = serde_json::from_value(serde_json::json!({
            "spreadsheetId": "s",
            "replies": [{}, {"createDeveloperMetadata": {"developerMetadata": {"metadataId": 77}}}]
        }))
        .expect("response");
        stored.stored(next.clone(), Some(&response));
        assert_eq!(stored.metadata_id, Some(77));
        match stored.store_request(&next) {
            Request::UpdateDeveloperMetadata(update) => {
                assert_eq!(update.fields, "metadataValue");
                let lookup = update.data_filters[0]
                    .developer_metadata_lookup
                    .as_ref()
                    .expect("lookup");
                assert_eq!(lookup.metadata_id, Some(77));
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }
}
