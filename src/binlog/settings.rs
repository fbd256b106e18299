//! Server settings that row-based change capture depends on.
//!
//! Consumes the server's global variables (as name/value pairs, so the check is a pure
//! function); produces the first [`BinlogError::InvalidSystemSetting`] that makes capture
//! impossible or lossy. Guarantees: the error names the setting, the value needed and the value
//! found; a setting the server does not have at all is reported as `absent`.

use std::collections::HashMap;

use super::error::BinlogError;

/// Which server we talk to: they differ in GTIDs, dump requests and setting names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerFlavor {
    MariaDb,
    MySql,
}

impl ServerFlavor {
    /// From `SELECT VERSION()`: MariaDB's contains "MariaDB".
    pub fn from_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            ServerFlavor::MariaDb
        } else {
            ServerFlavor::MySql
        }
    }
}

/// The variables [`check_settings`] reads.
pub const CHECKED_VARIABLES: [&str; 6] = [
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "log_bin_compress",
    "binlog_transaction_compression",
];

/// A server variable capture depends on: the one list both the reader's start-up check and
/// `sheetsync check`'s report use.
#[derive(Debug)]
pub struct RequiredSetting {
    pub variable: &'static str,
    /// Values that pass (servers spell booleans as `ON` or `1`).
    pub accepted: &'static [&'static str],
    /// The value to set, as the error and the report say it.
    pub needed: &'static str,
    /// Why sheetsync needs it.
    pub reason: &'static str,
    /// The exact fix, as SQL or a my.cnf line.
    pub fix: &'static str,
}

const COMMON: [RequiredSetting; 4] = [
    RequiredSetting {
        variable: "log_bin",
        accepted: &["ON", "1"],
        needed: "ON",
        reason: "the binlog is what sheetsync reads",
        fix: "add `log_bin = binlog` under [mysqld] in my.cnf and restart the server (see mysql-conf/)",
    },
    RequiredSetting {
        variable: "binlog_format",
        accepted: &["ROW"],
        needed: "ROW",
        reason: "statements cannot be turned into row changes",
        fix: "SET PERSIST binlog_format = 'ROW' (MySQL) or SET GLOBAL binlog_format = 'ROW' plus `binlog_format = ROW` in my.cnf (MariaDB)",
    },
    RequiredSetting {
        variable: "binlog_row_image",
        accepted: &["FULL"],
        needed: "FULL",
        reason: "every column of every changed row",
        fix: "SET GLOBAL binlog_row_image = 'FULL' and `binlog_row_image = FULL` in my.cnf",
    },
    RequiredSetting {
        variable: "binlog_row_metadata",
        accepted: &["FULL"],
        needed: "FULL",
        reason: "column names, charsets and ENUM/SET labels in every TABLE_MAP event",
        fix: "SET GLOBAL binlog_row_metadata = 'FULL' and `binlog_row_metadata = FULL` in my.cnf (MySQL 8.0.1+, MariaDB 10.5+)",
    },
];

const MARIADB_COMPRESSION: RequiredSetting = RequiredSetting {
    variable: "log_bin_compress",
    accepted: &["OFF", "0"],
    needed: "OFF",
    reason: "compressed row events cannot be decoded",
    fix: "SET GLOBAL log_bin_compress = OFF and `log_bin_compress = OFF` in my.cnf",
};

const MYSQL_COMPRESSION: RequiredSetting = RequiredSetting {
    variable: "binlog_transaction_compression",
    accepted: &["OFF", "0"],
    needed: "OFF",
    reason: "compressed transaction payloads cost memory and CPU to expand",
    fix: "SET PERSIST binlog_transaction_compression = OFF",
};

/// The settings a server of `flavor` must have.
pub fn required_settings(flavor: ServerFlavor) -> impl Iterator<Item = &'static RequiredSetting> {
    let compression = match flavor {
        ServerFlavor::MariaDb => &MARIADB_COMPRESSION,
        ServerFlavor::MySql => &MYSQL_COMPRESSION,
    };
    COMMON.iter().chain(std::iter::once(compression))
}

impl RequiredSetting {
    /// Whether `actual` (None: the server has no such variable) passes.
    pub fn accepts(&self, actual: Option<&str>) -> bool {
        actual.is_some_and(|value| {
            self.accepted
                .iter()
                .any(|accepted| accepted.eq_ignore_ascii_case(value))
        })
    }
}

/// Checks global variables (names lower-case); returns the first wrong one.
pub fn check_settings(
    flavor: ServerFlavor,
    variables: &HashMap<String, String>,
) -> Result<(), BinlogError> {
    for setting in required_settings(flavor) {
        let actual = variables.get(setting.variable).map(String::as_str);
        if !setting.accepts(actual) {
            return Err(BinlogError::InvalidSystemSetting {
                setting: setting.variable.to_owned(),
                expected: setting.needed.to_owned(),
                actual: actual.unwrap_or("absent").to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good(flavor: ServerFlavor) -> HashMap<String, String> {
        let mut variables: HashMap<String, String> = [
            ("log_bin", "ON"),
            ("binlog_format", "ROW"),
            ("binlog_row_image", "FULL"),
            ("binlog_row_metadata", "FULL"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        let compression = match flavor {
            ServerFlavor::MariaDb => "log_bin_compress",
            ServerFlavor::MySql => "binlog_transaction_compression",
        };
        variables.insert(compression.into(), "OFF".into());
        variables
    }

    #[test]
    fn settings_table() {
        // (flavor, setting, value or absent, expected (needed, found) or None for accepted)
        type Case<'a> = (
            ServerFlavor,
            &'a str,
            Option<&'a str>,
            Option<(&'a str, &'a str)>,
        );
        let cases: [Case; 9] = [
            (ServerFlavor::MariaDb, "log_bin", Some("ON"), None),
            (
                ServerFlavor::MariaDb,
                "log_bin",
                Some("OFF"),
                Some(("ON", "OFF")),
            ),
            (
                ServerFlavor::MariaDb,
                "binlog_format",
                Some("STATEMENT"),
                Some(("ROW", "STATEMENT")),
            ),
            (
                ServerFlavor::MariaDb,
                "binlog_format",
                Some("MIXED"),
                Some(("ROW", "MIXED")),
            ),
            (
                ServerFlavor::MariaDb,
                "binlog_row_image",
                Some("MINIMAL"),
                Some(("FULL", "MINIMAL")),
            ),
            (
                ServerFlavor::MariaDb,
                "binlog_row_metadata",
                Some("MINIMAL"),
                Some(("FULL", "MINIMAL")),
            ),
            (
                ServerFlavor::MariaDb,
                "binlog_row_metadata",
                None,
                Some(("FULL", "absent")),
            ),
            (
                ServerFlavor::MariaDb,
                "log_bin_compress",
                Some("ON"),
                Some(("OFF", "ON")),
            ),
            (
                ServerFlavor::MySql,
                "binlog_transaction_compression",
                Some("ON"),
                Some(("OFF", "ON")),
            ),
        ];
        for (flavor, setting, value, expected_error) in cases {
            let mut variables = good(flavor);
            match value {
                Some(value) => variables.insert(setting.into(), value.into()),
                None => variables.remove(setting),
            };
            let result = check_settings(flavor, &variables);
            match (expected_error, result) {
                (None, Ok(())) => {}
                (
                    Some((want_expected, want_actual)),
                    Err(BinlogError::InvalidSystemSetting {
                        setting: got,
                        expected,
                        actual,
                    }),
                ) => {
                    assert_eq!(
                        (got.as_str(), expected.as_str(), actual.as_str()),
                        (setting, want_expected, want_actual)
                    );
                }
                (expected, result) => {
                    panic!("{setting}={value:?}: expected {expected:?}, got {result:?}")
                }
            }
        }
    }

    #[test]
    fn flavor() {
        assert_eq!(
            ServerFlavor::from_version("10.11.6-MariaDB-0+deb12u1-log"),
            ServerFlavor::MariaDb
        );
        assert_eq!(ServerFlavor::from_version("8.0.36"), ServerFlavor::MySql);
    }
}
