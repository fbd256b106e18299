//! sheetsync's own schema (`mysql-conf/schema.sql`): created at start when a table is missing.
//!
//! Consumes a pool; guarantees that on `Ok` the `sheetsync` tables the apply step writes exist.
//! When they all exist already nothing is executed, so a least-privileged user (SELECT,
//! INSERT, UPDATE, DELETE on `sheetsync`.*) runs fine once an administrator has applied the
//! file; creating them needs CREATE on `sheetsync`.* (see `mysql-conf/grants.sql`).

use mysql_async::prelude::Queryable;

use super::error::Failure;

/// The schema file, compiled in.
pub const SCHEMA_SQL: &str = include_str!("../../mysql-conf/schema.sql");
/// The tables `SCHEMA_SQL` creates.
pub const TABLES: &[&str] = &["conflicts", "deliveries", "echo_marker"];

/// The statements of `SCHEMA_SQL`, comments removed.
pub fn statements() -> Vec<String> {
    let without_comments: String = SCHEMA_SQL
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(";\n")
        .map(|statement| statement.trim().trim_end_matches(';').trim().to_string())
        .filter(|statement| !statement.is_empty())
        .collect()
}

/// Creates what is missing of the `sheetsync` schema.
pub async fn ensure(pool: &mysql_async::Pool) -> Result<(), Failure> {
    let mut connection = super::session::connect(pool).await?;
    let present: Vec<String> = connection
        .query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sheetsync' \
             ORDER BY TABLE_NAME",
        )
        .await?;
    if TABLES
        .iter()
        .all(|table| present.iter().any(|name| name == table))
    {
        return Ok(());
    }
    for statement in statements() {
        connection.query_drop(statement).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_file_holds_one_database_and_its_tables() {
        let statements = statements();
        assert_eq!(statements.len(), 1 + TABLES.len(), "{statements:#?}");
        assert!(statements[0].starts_with("CREATE DATABASE IF NOT EXISTS `sheetsync`"));
        for table in TABLES {
            assert!(
                statements.iter().any(|statement| statement
                    .starts_with(&format!("CREATE TABLE IF NOT EXISTS `sheetsync`.`{table}`"))),
                "{table}"
            );
        }
    }
}
