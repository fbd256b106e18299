//! Binlog retention headroom: does the server keep its binlog long enough for sheetsync to be
//! stopped for `sync.retention_margin_hours` and still resume where it left off?
//!
//! Consumes the server's retention variables (`binlog_expire_logs_seconds`, `expire_logs_days`,
//! and the size limit MariaDB 11.4+ has); produces one [`Finding`]. The decision is a pure
//! function ([`retention_finding`]) so every case is table-tested; a failure carries the
//! `SET GLOBAL`/`SET PERSIST` statement and the my.cnf line.

use std::collections::HashMap;

use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;

use super::Finding;
use crate::binlog::settings::ServerFlavor;

const CHECK: &str = "binlog retention";

/// The variables read; a server without one of them simply does not list it.
const SQL: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
    ('binlog_expire_logs_seconds', 'expire_logs_days', 'max_binlog_total_size', 'binlog_space_limit')";

/// Read the retention variables and judge them against `margin_hours`.
pub(super) async fn check_retention(
    connection: &mut Conn,
    flavor: ServerFlavor,
    margin_hours: u32,
) -> Finding {
    match connection.query::<(String, String), _>(SQL).await {
        Ok(rows) => {
            let variables: HashMap<String, String> = rows
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect();
            retention_finding(&variables, flavor, margin_hours)
        }
        Err(error) => Finding::fail(
            CHECK,
            format!("not readable: {error}"),
            "SHOW GLOBAL VARIABLES",
            "grant the sheetsync user a login that can run SHOW GLOBAL VARIABLES",
        ),
    }
}

/// How long binlog files are kept before the server purges them by age.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Retention {
    Never,
    Seconds(u64),
}

fn effective_retention(variables: &HashMap<String, String>) -> Retention {
    let number = |name: &str| {
        variables
            .get(name)
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|value| value.is_finite() && *value > 0.0)
    };
    // MySQL 8 uses the seconds when they are set; MariaDB 10.6+ keeps the two in step; older
    // MariaDB has only the days (fractions allowed).
    match (
        number("binlog_expire_logs_seconds"),
        number("expire_logs_days"),
    ) {
        (Some(seconds), _) => Retention::Seconds(seconds as u64),
        (None, Some(days)) => Retention::Seconds((days * 86_400.0) as u64),
        (None, None) => Retention::Never,
    }
}

/// The finding for these variables (lower-case names → values) and this margin.
pub(super) fn retention_finding(
    variables: &HashMap<String, String>,
    flavor: ServerFlavor,
    margin_hours: u32,
) -> Finding {
    let size_limit = ["max_binlog_total_size", "binlog_space_limit"]
        .iter()
        .filter_map(|name| variables.get(*name)?.trim().parse::<u64>().ok())
        .find(|bytes| *bytes > 0);
    let size_note = size_limit
        .map(|bytes| format!("; also purged beyond {bytes} bytes of binlog (max_binlog_total_size), whatever their age"))
        .unwrap_or_default();
    let margin_seconds = u64::from(margin_hours) * 3600;
    match effective_retention(variables) {
        Retention::Never => Finding::pass(
            CHECK,
            format!("never purged by age (binlog_expire_logs_seconds = 0){size_note}"),
        ),
        Retention::Seconds(seconds) if seconds >= margin_seconds => Finding::pass(
            CHECK,
            format!(
                "{} kept, at least the {margin_hours} h of sync.retention_margin_hours{size_note}",
                describe(seconds)
            ),
        ),
        Retention::Seconds(seconds) => Finding::fail(
            CHECK,
            format!("binlog kept {}{size_note}", describe(seconds)),
            format!(
                "at least {margin_hours} h (sync.retention_margin_hours): sheetsync stopped longer than the binlog is kept must re-snapshot its mappings"
            ),
            fix(variables, flavor, margin_seconds, margin_hours),
        ),
    }
}

fn fix(
    variables: &HashMap<String, String>,
    flavor: ServerFlavor,
    margin_seconds: u64,
    margin_hours: u32,
) -> String {
    let lower = format!("or lower sync.retention_margin_hours below {margin_hours}");
    if !variables.contains_key("binlog_expire_logs_seconds") {
        // MariaDB before 10.6: whole or fractional days only.
        let days = margin_seconds.div_ceil(86_400);
        return format!(
            "SET GLOBAL expire_logs_days = {days}; and `expire_logs_days = {days}` under [mysqld] in my.cnf, {lower}"
        );
    }
    let statement = match flavor {
        ServerFlavor::MySql => "SET PERSIST",
        ServerFlavor::MariaDb => "SET GLOBAL",
    };
    format!(
        "{statement} binlog_expire_logs_seconds = {margin_seconds}; and `binlog_expire_logs_seconds = {margin_seconds}` under [mysqld] in my.cnf, {lower}"
    )
}

/// `3600 s (1 h)`, `2592000 s (30 days)`.
fn describe(seconds: u64) -> String {
    if seconds == 86_400 {
        format!("{seconds} s (1 day)")
    } else if seconds > 86_400 && seconds % 86_400 == 0 {
        format!("{seconds} s ({} days)", seconds / 86_400)
    } else {
        format!("{seconds} s ({:.1} h)", seconds as f64 / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// (variables, flavor, margin hours, passes, text expected in found, needed or fix)
    type Case<'a> = (Vec<(&'a str, &'a str)>, ServerFlavor, u32, bool, &'a str);

    #[test]
    fn retention_decisions() {
        let maria = ServerFlavor::MariaDb;
        let mysql = ServerFlavor::MySql;
        let cases: Vec<Case> = vec![
            (
                vec![
                    ("binlog_expire_logs_seconds", "0"),
                    ("expire_logs_days", "0"),
                ],
                maria,
                24,
                true,
                "never purged",
            ),
            (
                vec![
                    ("binlog_expire_logs_seconds", "2592000"),
                    ("expire_logs_days", "0"),
                ],
                mysql,
                24,
                true,
                "2592000 s (30 days) kept",
            ),
            (
                vec![
                    ("binlog_expire_logs_seconds", "3600"),
                    ("expire_logs_days", "0.041667"),
                ],
                maria,
                24,
                false,
                "SET GLOBAL binlog_expire_logs_seconds = 86400",
            ),
            (
                vec![("binlog_expire_logs_seconds", "3600")],
                mysql,
                48,
                false,
                "SET PERSIST binlog_expire_logs_seconds = 172800",
            ),
            (
                vec![
                    ("binlog_expire_logs_seconds", "0"),
                    ("expire_logs_days", "7"),
                ],
                mysql,
                24,
                true,
                "604800 s (7 days)",
            ),
            (
                vec![("expire_logs_days", "0.5")],
                maria,
                24,
                false,
                "SET GLOBAL expire_logs_days = 1;",
            ),
            (
                vec![("expire_logs_days", "1")],
                maria,
                24,
                true,
                "86400 s (1 day)",
            ),
            (
                vec![("binlog_expire_logs_seconds", "86399")],
                maria,
                24,
                false,
                "86399 s (24.0 h)",
            ),
            (
                vec![
                    ("binlog_expire_logs_seconds", "0"),
                    ("max_binlog_total_size", "1048576"),
                ],
                maria,
                24,
                true,
                "beyond 1048576 bytes",
            ),
            (vec![], maria, 0, true, "never purged"),
        ];
        for (pairs, flavor, margin, passes, text) in cases {
            let finding = retention_finding(&variables(&pairs), flavor, margin);
            assert_eq!(finding.passed, passes, "{pairs:?}: {finding:?}");
            let all = format!("{} {} {}", finding.found, finding.needed, finding.fix);
            assert!(all.contains(text), "{pairs:?}: `{text}` not in {all}");
            if !passes {
                assert!(finding.fix.contains("my.cnf"), "{finding:?}");
            }
        }
    }
}
