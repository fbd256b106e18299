//! Checks a parsed [`Config`] beyond what its types say; fills in defaults that depend on
//! other keys (a mapping's name).

use std::collections::BTreeSet;

use super::{Config, ConfigError};

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

pub(super) fn validate(config: &mut Config) -> Result<(), ConfigError> {
    let url = config.mysql.url.expose();
    if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
        return Err(invalid(
            "mysql.url",
            "must start with mysql:// (e.g. mysql://user:password@127.0.0.1:3306)",
        ));
    }
    if config.mysql.server_id == 0 {
        return Err(invalid("mysql.server_id", "must be a positive number unique among the server's replicas (0 is refused by the server)"));
    }
    if config.sync.flush_interval_ms == 0 {
        return Err(invalid("sync.flush_interval_ms", "must be at least 1"));
    }
    if config.sync.transaction_buffer_kib < 16 {
        return Err(invalid(
            "sync.transaction_buffer_kib",
            "must be at least 16",
        ));
    }
    if config.sync.ready_max_lag_seconds == 0 {
        return Err(invalid("sync.ready_max_lag_seconds", "must be at least 1"));
    }
    for (key, value) in [
        (
            "sync.write_requests_per_minute",
            config.sync.write_requests_per_minute,
        ),
        (
            "sync.read_requests_per_minute",
            config.sync.read_requests_per_minute,
        ),
    ] {
        if value == 0 {
            return Err(invalid(
                key,
                "must be at least 1 (Google's default quota is 60)",
            ));
        }
    }
    if !config.google.api_base.starts_with("http://")
        && !config.google.api_base.starts_with("https://")
    {
        return Err(invalid(
            "google.api_base",
            "must be an http:// or https:// URL",
        ));
    }
    let mut names = BTreeSet::new();
    let mut tabs = BTreeSet::new();
    for (index, mapping) in config.mappings.iter_mut().enumerate() {
        let key = |field: &str| format!("mapping[{index}].{field}");
        let Some((database, table)) = mapping.table.split_once('.') else {
            return Err(invalid(
                key("table"),
                format!("`{}` must be database.table", mapping.table),
            ));
        };
        if database.is_empty() || table.is_empty() || table.contains('.') {
            return Err(invalid(
                key("table"),
                format!("`{}` must be database.table", mapping.table),
            ));
        }
        if mapping.name.is_empty() {
            mapping.name = table.to_string();
        }
        if !names.insert(mapping.name.clone()) {
            return Err(invalid(
                key("name"),
                format!(
                    "`{}` is used by two mappings; give one a `name`",
                    mapping.name
                ),
            ));
        }
        if mapping.spreadsheet_id.trim().is_empty() {
            return Err(invalid(key("spreadsheet_id"), "must not be empty"));
        }
        if mapping.sheet.trim().is_empty() {
            return Err(invalid(key("sheet"), "must name the tab"));
        }
        if !tabs.insert((mapping.spreadsheet_id.clone(), mapping.sheet.clone())) {
            return Err(invalid(
                key("sheet"),
                format!(
                    "tab `{}` of spreadsheet `{}` is already mapped",
                    mapping.sheet, mapping.spreadsheet_id
                ),
            ));
        }
        if let Some(columns) = &mapping.columns {
            if columns.is_empty() {
                return Err(invalid(
                    key("columns"),
                    "must list at least one column (or be left out for all)",
                ));
            }
            let mut seen = BTreeSet::new();
            for column in columns {
                if !seen.insert(column) {
                    return Err(invalid(
                        key("columns"),
                        format!("column `{column}` is listed twice"),
                    ));
                }
            }
            for column in mapping.column_conflict.keys() {
                if !columns.contains(column) {
                    return Err(invalid(
                        key("column_conflict"),
                        format!("`{column}` is not in `columns`"),
                    ));
                }
            }
        }
    }
    Ok(())
}
