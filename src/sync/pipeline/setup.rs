//! From the config to the pipeline's shape: which spreadsheet writer and which tab each
//! mapping goes to, with each table's synced and key columns read from the server once.
//! Guarantees: a mapping whose table is missing or has no primary key stops the start with a
//! plain error naming both (definite); key columns are always synced, first.

use std::sync::Arc;

use mysql_async::Pool;

use super::PipelineError;
use crate::binlog::TableName;
use crate::config::Config;
use crate::sync::plan::TabSpec;
use crate::sync::router::Route;
use crate::sync::snapshot::describe_table;
use crate::sync::writer::TabState;

pub(super) struct SpreadsheetPlan {
    pub(super) spreadsheet_id: String,
    pub(super) tabs: Vec<TabState>,
    pub(super) routes: Vec<usize>,
}

/// Which spreadsheet (writer) and tab each mapping goes to, in config order.
pub(super) async fn plan_spreadsheets(
    config: &Config,
    pool: &Pool,
) -> Result<(Vec<SpreadsheetPlan>, Vec<Route>), PipelineError> {
    let mut spreadsheets: Vec<SpreadsheetPlan> = Vec::new();
    let mut routes = Vec::new();
    let mut conn = pool.get_conn().await?;
    for mapping in &config.mappings {
        let (database, table) = mapping.database_and_table();
        let (table_columns, key_columns) = describe_table(&mut conn, database, table).await?;
        let problem = |problem: &str| PipelineError::Table {
            mapping: mapping.name.clone(),
            table: mapping.table.clone(),
            problem: problem.to_string(),
        };
        if table_columns.is_empty() {
            return Err(problem("does not exist"));
        }
        if key_columns.is_empty() {
            return Err(problem("has no primary key; sheetsync places rows by it"));
        }
        let columns: Vec<String> = mapping.columns.clone().unwrap_or(table_columns);
        let writer = match spreadsheets
            .iter()
            .position(|plan| plan.spreadsheet_id == mapping.spreadsheet_id)
        {
            Some(index) => index,
            None => {
                spreadsheets.push(SpreadsheetPlan {
                    spreadsheet_id: mapping.spreadsheet_id.clone(),
                    tabs: Vec::new(),
                    routes: Vec::new(),
                });
                spreadsheets.len() - 1
            }
        };
        let plan = &mut spreadsheets[writer];
        let tab = plan.tabs.len();
        let key_columns: Vec<Arc<str>> = key_columns
            .iter()
            .map(|key| Arc::from(key.as_str()))
            .collect();
        let mut synced: Vec<Arc<str>> = key_columns.clone();
        for column in &columns {
            if !synced.iter().any(|name| name.as_ref() == column) {
                synced.push(Arc::from(column.as_str()));
            }
        }
        plan.tabs.push(TabState {
            mapping: mapping.name.clone(),
            spec: TabSpec {
                title: mapping.sheet.clone(),
                key_columns: key_columns.clone(),
                columns: synced,
            },
            position: None,
            caught_up: false,
            stalled: None,
        });
        plan.routes.push(routes.len());
        routes.push(Route {
            mapping: mapping.name.clone(),
            table: TableName {
                database: database.to_string(),
                name: table.to_string(),
            },
            writer,
            tab,
            columns: mapping.columns.as_ref().map(|columns| {
                columns
                    .iter()
                    .map(|column| Arc::from(column.as_str()))
                    .collect()
            }),
            key_columns,
            deletes: mapping.deletes,
        });
    }
    drop(conn);
    Ok((spreadsheets, routes))
}
