//! The Google side of `sheetsync check`: key file, token, each spreadsheet, each mapped tab's
//! header and size.
//!
//! Consumes the [`Config`] (and the database, for each table's columns and row count);
//! produces [`Finding`]s in the order a person fixes things: key file, token, spreadsheet, tab,
//! header, size. A step that fails stops the steps that depend on it (no token: no spreadsheet
//! is asked). Guarantees: only reads, nothing is written to a sheet; the key file's contents
//! are never printed (only its path, its `client_email` and the names of missing fields); every
//! call is bounded by a deadline, so `check` cannot hang on an unreachable Google.
//! The pure judgements live in `sheets_findings.rs`.

use std::collections::HashMap;
use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;
use tokio_util::sync::CancellationToken;

use super::sheets_findings::{
    header_finding, inspect_key_file, size_finding, spreadsheet_error_finding, token_finding,
    SheetShape, TableShape,
};
use super::Finding;
use crate::cell::BinaryMode;
use crate::config::{Config, MappingConfig};
use crate::sheets::responses::{Spreadsheet, ValueRange};
use crate::sheets::{ClientOptions, RetryPolicy, SheetsClient};

/// The Sheets side may take this long in all; then the rest is reported as not checked.
const DEADLINE: Duration = Duration::from_secs(120);

/// Run every Sheets-side check. Never fails: problems become findings. Without mappings there
/// is nothing to check.
pub async fn check_sheets(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    if config.mappings.is_empty() {
        return findings;
    }
    let cancel = CancellationToken::new();
    let checks = check_google(config, &mut findings, &cancel);
    if tokio::time::timeout(DEADLINE, checks).await.is_err() {
        cancel.cancel();
        findings.push(Finding::fail(
            "google",
            format!("no answer within {} s", DEADLINE.as_secs()),
            "a reachable Sheets API and token endpoint",
            "check google.api_base and this machine's network access to Google (proxy, firewall), then run check again",
        ));
    }
    findings
}

async fn check_google(config: &Config, findings: &mut Vec<Finding>, cancel: &CancellationToken) {
    let Some(path) = config.google.credentials_file.as_deref() else {
        findings.push(Finding::fail(
            "google.credentials_file",
            "not set",
            "a service-account key file (JSON)",
            "create a JSON key for a service account (Google Cloud console → IAM & Admin → Service accounts → Keys → Add key), set google.credentials_file to its path, and share each spreadsheet with the account's client_email as Editor",
        ));
        return;
    };
    let contents = tokio::fs::read_to_string(path).await;
    let key_file = match inspect_key_file(path, contents) {
        Ok(finding) => finding,
        Err(finding) => {
            findings.push(finding);
            return;
        }
    };
    let client = match SheetsClient::new(&config.google, check_options(config)).await {
        Ok(client) => {
            findings.push(key_file);
            client
        }
        Err(error) => {
            findings.push(Finding::fail(
                "google.credentials_file",
                error.to_string(),
                "a usable service-account key",
                format!(
                    "create a new JSON key for the service account and point google.credentials_file ({}) at it",
                    path.display()
                ),
            ));
            return;
        }
    };
    let token = client.check_token().await;
    let token_ok = token.is_ok();
    findings.push(token_finding(client.client_email(), token));
    if !token_ok {
        return;
    }
    let mut database = Database::connect(config).await;
    for (spreadsheet_id, mappings) in by_spreadsheet(&config.mappings) {
        let check = format!("spreadsheet {spreadsheet_id}");
        let spreadsheet = match client.get_spreadsheet(spreadsheet_id, None, cancel).await {
            Ok(spreadsheet) => spreadsheet,
            Err(error) => {
                let names: Vec<&str> = mappings.iter().map(|m| m.name.as_str()).collect();
                findings.push(spreadsheet_error_finding(
                    check,
                    client.client_email(),
                    &names,
                    &error,
                ));
                continue;
            }
        };
        let title = spreadsheet
            .properties
            .as_ref()
            .and_then(|properties| properties.title.clone())
            .unwrap_or_default();
        findings.push(Finding::pass(
            check,
            format!("\"{title}\", readable by {}", client.client_email()),
        ));
        for mapping in mappings {
            check_tab(
                &client,
                &spreadsheet,
                mapping,
                &mut database,
                config.sync.binary,
                findings,
                cancel,
            )
            .await;
        }
    }
    database.disconnect().await;
}

/// Production behaviour, but few and short retries: `check` is run by a person waiting.
fn check_options(config: &Config) -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(4),
            jitter_max: Duration::from_millis(250),
            minimum_after_quota: Duration::from_secs(5),
            max_retries: Some(2),
        },
        request_timeout: Duration::from_secs(30),
        ..ClientOptions::from_config(&config.sync)
    }
}

/// Mappings grouped by spreadsheet, in config order, so each spreadsheet is fetched once.
fn by_spreadsheet(mappings: &[MappingConfig]) -> Vec<(&str, Vec<&MappingConfig>)> {
    let mut groups: Vec<(&str, Vec<&MappingConfig>)> = Vec::new();
    for mapping in mappings {
        match groups
            .iter_mut()
            .find(|(id, _)| *id == mapping.spreadsheet_id)
        {
            Some((_, group)) => group.push(mapping),
            None => groups.push((mapping.spreadsheet_id.as_str(), vec![mapping])),
        }
    }
    groups
}

async fn check_tab(
    client: &SheetsClient,
    spreadsheet: &Spreadsheet,
    mapping: &MappingConfig,
    database: &mut Database,
    binary: BinaryMode,
    findings: &mut Vec<Finding>,
    cancel: &CancellationToken,
) {
    let prefix = format!("mapping {}", mapping.name);
    let tab = spreadsheet.sheet_by_title(&mapping.sheet);
    let grid = |properties: &crate::sheets::model::SheetProperties| {
        let grid = properties.grid_properties.clone().unwrap_or_default();
        (grid.row_count.unwrap_or(0), grid.column_count.unwrap_or(0))
    };
    let other_cells: u64 = spreadsheet
        .sheets
        .iter()
        .filter(|sheet| sheet.properties.title.as_deref() != Some(mapping.sheet.as_str()))
        .map(|sheet| {
            let (rows, columns) = grid(&sheet.properties);
            u64::from(rows) * u64::from(columns)
        })
        .sum();
    let table = database.table_shape(mapping, binary).await;
    let tab_grid = match tab {
        None => {
            findings.push(Finding::pass(
                format!("{prefix}: tab {}", mapping.sheet),
                "missing; sheetsync will create it (with the header) at the first sync",
            ));
            None
        }
        Some(properties) => {
            let (rows, columns) = grid(properties);
            findings.push(Finding::pass(
                format!("{prefix}: tab {}", mapping.sheet),
                format!("exists, {rows} rows × {columns} columns"),
            ));
            let range = format!(
                "{}!1:1",
                crate::sheets::a1::quote_sheet_title(&mapping.sheet)
            );
            let header = client
                .get_values(&mapping.spreadsheet_id, &range, cancel)
                .await
                .map(|values: ValueRange| values.values.into_iter().next().unwrap_or_default());
            match (&table, header) {
                (Ok(table), Ok(header)) => {
                    findings.push(header_finding(&prefix, mapping, &header, &table.columns))
                }
                (_, Err(error)) => findings.push(Finding::fail(
                    format!("{prefix}: header"),
                    format!("row 1 of tab {} could not be read: {error}", mapping.sheet),
                    "a readable header row",
                    "run check again; if it keeps failing, check the tab in the Sheets UI",
                )),
                (Err(_), Ok(_)) => {}
            }
            Some(SheetShape { rows, columns })
        }
    };
    findings.push(match &table {
        Ok(table) => size_finding(&prefix, mapping, table, tab_grid, other_cells),
        Err(reason) => Finding::fail(
            format!("{prefix}: header and size"),
            format!("not checked: {reason}"),
            "the table's columns and row count",
            "fix the MySQL findings above, then run check again",
        ),
    });
}

/// The database connection the Sheets side needs for column lists and row counts.
struct Database {
    connection: Result<Conn, String>,
}

impl Database {
    async fn connect(config: &Config) -> Self {
        let connection = Conn::from_url(config.mysql.url.expose())
            .await
            .map_err(|_| format!("cannot connect to {}", config.mysql.url.redacted()));
        Self { connection }
    }

    /// The synced columns (in sheet order) and the row count of a mapping's table.
    async fn table_shape(
        &mut self,
        mapping: &MappingConfig,
        binary: BinaryMode,
    ) -> Result<TableShape, String> {
        let connection = self.connection.as_mut().map_err(|error| error.clone())?;
        let (database, table) = mapping.database_and_table();
        let columns: Vec<(String, String)> = connection
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (database, table),
            )
            .await
            .map_err(|error| format!("cannot read the columns of {}: {error}", mapping.table))?;
        if columns.is_empty() {
            return Err(format!("table {} is missing", mapping.table));
        }
        let types: HashMap<&str, &str> = columns
            .iter()
            .map(|(name, data_type)| (name.as_str(), data_type.as_str()))
            .collect();
        let synced: Vec<String> = match &mapping.columns {
            Some(listed) => listed.clone(),
            None => columns.iter().map(|(name, _)| name.clone()).collect(),
        };
        let synced = synced
            .into_iter()
            .filter(|name| {
                let data_type = types.get(name.as_str()).copied().unwrap_or("");
                !(binary == BinaryMode::Skip && is_binary_type(data_type))
            })
            .collect();
        let count_sql = format!(
            "SELECT COUNT(*) FROM {}.{}",
            quote_identifier(database),
            quote_identifier(table)
        );
        let rows: Option<u64> = connection
            .query_first(count_sql)
            .await
            .map_err(|error| format!("cannot count the rows of {}: {error}", mapping.table))?;
        Ok(TableShape {
            columns: synced,
            rows: rows.unwrap_or(0),
        })
    }

    async fn disconnect(self) {
        if let Ok(connection) = self.connection {
            let _ = connection.disconnect().await;
        }
    }
}

/// `information_schema.COLUMNS.DATA_TYPE`s whose values are bytes (left out with `binary = "skip"`).
fn is_binary_type(data_type: &str) -> bool {
    matches!(
        data_type.to_ascii_lowercase().as_str(),
        "binary"
            | "varbinary"
            | "tinyblob"
            | "blob"
            | "mediumblob"
            | "longblob"
            | "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "vector"
    )
}

fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
