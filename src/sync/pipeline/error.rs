//! What a pipeline run fails with, and which failures restart it from the checkpoints
//! (transient) and which end it (definite).

use super::super::checkpoint::CheckpointError;
use super::super::initial_load::LoadError;
use super::super::writer::WriterError;
use crate::binlog::BinlogError;
use crate::sheets::SheetsError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Config(String),
    #[error("mysql: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error(transparent)]
    Binlog(#[from] BinlogError),
    #[error(transparent)]
    Sheets(#[from] SheetsError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the checkpoints of the spreadsheets are of different kinds ({0}); the server changed GTID mode or flavour: re-snapshot with `sheetsync snapshot`")]
    MixedPositions(String),
    #[error("mapping `{mapping}`: table {table} {problem}")]
    Table {
        mapping: String,
        table: String,
        problem: String,
    },
}

impl PipelineError {
    /// Transient errors restart the pipeline from the checkpoints; definite ones end the run.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Mysql(_) => true,
            PipelineError::Binlog(error) => error.is_transient(),
            PipelineError::Sheets(error) => error.is_transient(),
            PipelineError::Checkpoint(error) => error.is_transient(),
            PipelineError::Writer(error) => error.is_transient(),
            PipelineError::Load(error) => error.is_transient(),
            PipelineError::Config(_)
            | PipelineError::MixedPositions(_)
            | PipelineError::Table { .. } => false,
        }
    }

    pub(super) fn is_binlog_gone(&self) -> bool {
        matches!(
            self,
            PipelineError::Binlog(BinlogError::PositionPurged { .. })
        )
    }
}
