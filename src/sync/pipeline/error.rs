//! What a pipeline run fails with, and which failures restart it from the checkpoints
//! (transient) and which end it (definite).

use super::super::checkpoint::CheckpointError;
use super::super::initial_load::LoadError;
use super::super::writer::WriterError;
use crate::binlog::BinlogError;
use crate::config::Config;
use crate::metrics::DefiniteErrorKind;
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

    /// The mappings to load again from a snapshot, when that is how this failure is repaired:
    /// every mapping when the saved position was purged, the mappings of the tables a
    /// rolled-back transaction had already sent parts of. `None` for every other failure.
    pub(super) fn resnapshot_mappings(&self, config: &Config) -> Option<Vec<String>> {
        let names = |keep: &dyn Fn(&str) -> bool| {
            config
                .mappings
                .iter()
                .filter(|mapping| keep(&mapping.table))
                .map(|mapping| mapping.name.clone())
                .collect()
        };
        match self {
            PipelineError::Binlog(BinlogError::PositionPurged { .. }) => Some(names(&|_| true)),
            PipelineError::Binlog(BinlogError::RolledBackAfterParts { tables, .. }) => {
                Some(names(&|table| tables.iter().any(|name| name == table)))
            }
            _ => None,
        }
    }

    /// The `kind` label a definite failure is counted under (`sheetsync_definite_errors_total`).
    pub fn definite_kind(&self) -> DefiniteErrorKind {
        let writer = |error: &WriterError| match error {
            WriterError::Plan { .. } => DefiniteErrorKind::Size,
            WriterError::Sheets { .. } | WriterError::RowsMoved { .. } => DefiniteErrorKind::Sheets,
        };
        match self {
            PipelineError::Binlog(BinlogError::PositionPurged { .. })
            | PipelineError::MixedPositions(_) => DefiniteErrorKind::PositionPurged,
            PipelineError::Binlog(_) | PipelineError::Mysql(_) => DefiniteErrorKind::Binlog,
            PipelineError::Sheets(_) | PipelineError::Checkpoint(_) => DefiniteErrorKind::Sheets,
            PipelineError::Writer(error) | PipelineError::Load(LoadError::Writer(error)) => {
                writer(error)
            }
            PipelineError::Load(LoadError::Snapshot(_)) | PipelineError::Table { .. } => {
                DefiniteErrorKind::Schema
            }
            PipelineError::Config(_) => DefiniteErrorKind::Config,
        }
    }

    /// The kind of definite error a re-snapshot repairs, for the metric and the status page.
    pub(super) fn resnapshot_kind(&self) -> DefiniteErrorKind {
        match self {
            PipelineError::Binlog(BinlogError::PositionPurged { .. }) => {
                DefiniteErrorKind::PositionPurged
            }
            _ => DefiniteErrorKind::Binlog,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::error::EventLocation;

    #[test]
    fn which_failures_re_snapshot_which_mappings() {
        let config = Config::from_toml(
            r#"
            [mysql]
            url = "mysql://u:p@127.0.0.1:3306"
            server_id = 7
            [google]
            credentials_file = "/dev/null"
            [[mapping]]
            name = "orders"
            table = "shop.orders"
            spreadsheet_id = "s"
            sheet = "Orders"
            [[mapping]]
            name = "people"
            table = "shop.people"
            spreadsheet_id = "s"
            sheet = "People"
            "#,
        )
        .expect("config");
        let location = EventLocation {
            table: None,
            position: None,
            event: None,
        };
        let cases: Vec<(PipelineError, Option<Vec<&str>>)> = vec![
            (
                BinlogError::PositionPurged {
                    position: "0-1-5".into(),
                    message: "purged".into(),
                }
                .into(),
                Some(vec!["orders", "people"]),
            ),
            (
                BinlogError::RolledBackAfterParts {
                    tables: vec!["shop.people".into(), "shop.audit".into()],
                    location,
                }
                .into(),
                Some(vec!["people"]),
            ),
            (BinlogError::StreamClosed.into(), None),
            (PipelineError::Config("bad".into()), None),
        ];
        let kinds: Vec<(PipelineError, DefiniteErrorKind)> = vec![
            (
                WriterError::Plan {
                    spreadsheet_id: "s".into(),
                    source: crate::sync::plan::PlanError::SpreadsheetTooLarge {
                        tabs: 2,
                        cells: 10_000_001,
                        limit: 10_000_000,
                    },
                }
                .into(),
                DefiniteErrorKind::Size,
            ),
            (BinlogError::StreamClosed.into(), DefiniteErrorKind::Binlog),
            (
                PipelineError::MixedPositions("a; b".into()),
                DefiniteErrorKind::PositionPurged,
            ),
            (
                PipelineError::Table {
                    mapping: "orders".into(),
                    table: "shop.orders".into(),
                    problem: "has no primary key".into(),
                },
                DefiniteErrorKind::Schema,
            ),
            (
                PipelineError::Config("bad".into()),
                DefiniteErrorKind::Config,
            ),
        ];
        for (error, kind) in kinds {
            assert_eq!(error.definite_kind(), kind, "{error}");
        }
        for (error, expected) in cases {
            let expected =
                expected.map(|names| names.into_iter().map(String::from).collect::<Vec<_>>());
            assert_eq!(error.resnapshot_mappings(&config), expected, "{error}");
        }
    }
}
