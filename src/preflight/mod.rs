//! Preflight checks for `sheetsync check`: the MySQL/MariaDB side here ([`check_mysql`]), the
//! Google side in `sheets.rs` (judgements in `sheets_findings.rs`) ([`check_sheets`]), binlog retention in `retention.rs`.
//!
//! Consumes a [`Config`]; produces one [`Finding`] per precondition, each failure carrying what
//! was found, what is needed and the exact fix (SQL, a my.cnf line, a sharing step). Guarantees:
//! it only reads (no write, no DDL, nothing sent to a sheet), a check that cannot run
//! (connection refused, a privilege missing) is a failure that says so, never a silent pass,
//! and no secret (database password, webhook secret, private key) is ever part of a finding.

mod retention;
mod sheets;
mod sheets_findings;
#[cfg(test)]
mod tests;

pub use sheets::check_sheets;

use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;

use crate::binlog::settings::{required_settings, RequiredSetting, ServerFlavor};
use crate::config::{Config, MappingConfig};

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked, e.g. `binlog_format` or `table shop.orders`.
    pub check: String,
    pub passed: bool,
    pub found: String,
    pub needed: String,
    /// How to fix it; empty when passed.
    pub fix: String,
}

impl Finding {
    fn pass(check: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            passed: true,
            found: found.into(),
            needed: String::new(),
            fix: String::new(),
        }
    }
    fn fail(
        check: impl Into<String>,
        found: impl Into<String>,
        needed: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check: check.into(),
            passed: false,
            found: found.into(),
            needed: needed.into(),
            fix: fix.into(),
        }
    }
}

/// Run every MySQL-side check. Never fails: problems become findings.
pub async fn check_mysql(config: &Config) -> Vec<Finding> {
    let url = config.mysql.url.expose();
    let mut connection = match Conn::from_url(url).await {
        Ok(connection) => connection,
        Err(error) => {
            return vec![Finding::fail(
                "mysql connection",
                format!("cannot connect to {}: {}", config.mysql.url.redacted(), error),
                "a reachable server and valid credentials",
                "check mysql.url (or SHEETSYNC_MYSQL_URL), that the server is running, and the user's password",
            )]
        }
    };
    let mut findings = Vec::new();
    let version: Option<String> = connection
        .query_first("SELECT VERSION()")
        .await
        .unwrap_or(None);
    let version = version.unwrap_or_default();
    let is_mariadb = version.to_ascii_lowercase().contains("mariadb");
    findings.push(Finding::pass(
        "server",
        format!("{} {version}", if is_mariadb { "MariaDB" } else { "MySQL" }),
    ));
    let flavor = if is_mariadb {
        ServerFlavor::MariaDb
    } else {
        ServerFlavor::MySql
    };
    for setting in required_settings(flavor) {
        findings.push(check_setting(&mut connection, setting).await);
    }
    findings.push(
        retention::check_retention(&mut connection, flavor, config.sync.retention_margin_hours)
            .await,
    );
    findings.push(check_server_id(&mut connection, config.mysql.server_id, is_mariadb).await);
    for mapping in &config.mappings {
        findings.extend(check_table(&mut connection, mapping).await);
    }
    let _ = connection.disconnect().await;
    findings
}

async fn check_setting(connection: &mut Conn, setting: &RequiredSetting) -> Finding {
    let sql = format!("SELECT CAST(@@GLOBAL.{} AS CHAR)", setting.variable);
    match connection.query_first::<Option<String>, _>(sql).await {
        Ok(value) => {
            let value = value.flatten().unwrap_or_else(|| "NULL".into());
            if setting.accepts(Some(&value)) {
                Finding::pass(setting.variable, value)
            } else {
                let needed = format!("{} ({})", setting.needed, setting.reason);
                Finding::fail(setting.variable, value, needed, setting.fix)
            }
        }
        Err(error) => Finding::fail(
            setting.variable,
            format!("not readable: {error}"),
            format!("{} ({})", setting.needed, setting.reason),
            "use MySQL 8.0+ or MariaDB 10.5+, which have this variable",
        ),
    }
}

async fn check_server_id(connection: &mut Conn, ours: u32, is_mariadb: bool) -> Finding {
    let check = "mysql.server_id";
    let server: Option<u32> = connection
        .query_first("SELECT @@GLOBAL.server_id")
        .await
        .unwrap_or(None);
    if server == Some(ours) {
        return Finding::fail(
            check,
            format!("{ours}, the server's own server_id"),
            "an id no other server or replica uses",
            "pick another mysql.server_id",
        );
    }
    let listing = if is_mariadb {
        "SHOW SLAVE HOSTS"
    } else {
        "SHOW REPLICAS"
    };
    match connection.query_iter(listing).await {
        Ok(mut result) => {
            let rows: Vec<mysql_async::Row> = result.collect().await.unwrap_or_default();
            let clash = rows.iter().any(|row| row.get::<Option<u32>, _>(0).flatten() == Some(ours));
            if clash {
                Finding::fail(
                    check,
                    format!("{ours}, already used by a connected replica ({listing})"),
                    "an id no other replica uses (a duplicate disconnects the other replica)",
                    "pick another mysql.server_id, or stop the other sheetsync using this one",
                )
            } else {
                Finding::pass(check, format!("{ours}, not used by a connected replica"))
            }
        }
        Err(error) => Finding::fail(
            check,
            format!("cannot list replicas: {error}"),
            "permission to run SHOW SLAVE HOSTS / SHOW REPLICAS",
            "GRANT REPLICATION MASTER ADMIN (MariaDB) or REPLICATION SLAVE (MySQL) to the sheetsync user",
        ),
    }
}

async fn check_table(connection: &mut Conn, mapping: &MappingConfig) -> Vec<Finding> {
    let (database, table) = mapping.database_and_table();
    let check = format!("table {}", mapping.table);
    let columns: Result<Vec<(String, Option<String>)>, _> = connection
        .exec(
            "SELECT COLUMN_NAME, COLUMN_KEY FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        .await;
    let columns = match columns {
        Err(error) => {
            return vec![Finding::fail(
                check,
                format!("cannot read its columns: {error}"),
                "SELECT on the table",
                format!("GRANT SELECT ON `{database}`.`{table}` TO the sheetsync user"),
            )]
        }
        Ok(columns) if columns.is_empty() => {
            return vec![Finding::fail(
                check,
                "missing (or not visible to this user)",
                "an existing table",
                format!(
                    "create {}, or fix mapping `{}`'s table, or GRANT SELECT on it",
                    mapping.table, mapping.name
                ),
            )]
        }
        Ok(columns) => columns,
    };
    let mut findings = Vec::new();
    let key: Vec<&str> = columns
        .iter()
        .filter(|(_, key)| key.as_deref() == Some("PRI"))
        .map(|(name, _)| name.as_str())
        .collect();
    if key.is_empty() {
        findings.push(Finding::fail(
            check.clone(),
            "no primary key",
            "a primary key (rows are matched to sheet rows by it)",
            format!("ALTER TABLE `{database}`.`{table}` ADD PRIMARY KEY (…)"),
        ));
    } else {
        findings.push(Finding::pass(
            check.clone(),
            format!("primary key ({})", key.join(", ")),
        ));
    }
    if let Some(wanted) = &mapping.columns {
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|column| !columns.iter().any(|(name, _)| name == *column))
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|column| format!("`{column}`"))
                .collect::<Vec<_>>()
                .join(", ");
            findings.push(Finding::fail(
                format!("{check} columns"),
                format!("missing {list}"),
                "every column listed in the mapping",
                format!(
                    "remove them from mapping `{}`'s columns, or add them to the table",
                    mapping.name
                ),
            ));
        }
        let missing_key: Vec<&&str> = key
            .iter()
            .filter(|column| !wanted.iter().any(|wanted| wanted == **column))
            .collect();
        if !missing_key.is_empty() {
            findings.push(Finding::fail(
                format!("{check} columns"),
                format!("key column {:?} not synced", missing_key),
                "the primary key columns among the synced columns",
                format!("add them to mapping `{}`'s columns", mapping.name),
            ));
        }
    }
    findings
}

/// Human-readable report: one line per check, failures followed by their fix.
pub fn render(findings: &[Finding]) -> String {
    let mut report = String::new();
    for finding in findings {
        if finding.passed {
            report.push_str(&format!("ok    {}: {}\n", finding.check, finding.found));
        } else {
            report.push_str(&format!(
                "FAIL  {}: found {}; needs {}\n      fix: {}\n",
                finding.check, finding.found, finding.needed, finding.fix
            ));
        }
    }
    let failed = findings.iter().filter(|finding| !finding.passed).count();
    report.push_str(&format!("{} checks, {failed} failed\n", findings.len()));
    report
}
