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

/// Checks global variables (names lower-case); returns the first wrong one.
pub fn check_settings(
    flavor: ServerFlavor,
    variables: &HashMap<String, String>,
) -> Result<(), BinlogError> {
    let mut required: Vec<(&str, &[&str], &str)> = vec![
        ("log_bin", &["ON", "1"], "ON"),
        ("binlog_format", &["ROW"], "ROW"),
        ("binlog_row_image", &["FULL"], "FULL"),
        ("binlog_row_metadata", &["FULL"], "FULL"),
    ];
    match flavor {
        ServerFlavor::MariaDb => required.push(("log_bin_compress", &["OFF", "0"], "OFF")),
        ServerFlavor::MySql => {
            required.push(("binlog_transaction_compression", &["OFF", "0"], "OFF"))
        }
    }
    for (setting, accepted, expected) in required {
        let actual = variables.get(setting).map(String::as_str);
        let ok = actual.is_some_and(|value| accepted.iter().any(|a| a.eq_ignore_ascii_case(value)));
        if !ok {
            return Err(BinlogError::InvalidSystemSetting {
                setting: setting.to_owned(),
                expected: expected.to_owned(),
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
