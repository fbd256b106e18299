//! `mysql-conf/grants.sql` is enough for `sheetsync check`, and nothing more is granted.

use mysql_async::prelude::Queryable as _;
use sheetsync_testbed::MariaDb;

use crate::support::{run_sheetsync, stdout_of, write_config};

fn grants_for(database: &str, server_is_mariadb: bool) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mysql-conf/grants.sql"
    ))
    .expect("read mysql-conf/grants.sql");
    let mut text = text
        .replace("`shop`", &format!("`{database}`"))
        .replace("'change-me'", "'least-privilege'");
    if server_is_mariadb {
        text = text.replace(
            "-- GRANT REPLICATION MASTER ADMIN",
            "GRANT REPLICATION MASTER ADMIN",
        );
    }
    text
}

#[tokio::test]
async fn check_passes_as_the_least_privileged_user() {
    let server = MariaDb::start().expect("start");
    let database = server.create_database("shop").await;
    server
        .execute(&format!(
            "CREATE TABLE `{}`.orders (id INT PRIMARY KEY, total INT)",
            database.name
        ))
        .await;
    server.execute("CREATE DATABASE sheetsync").await;
    server.execute(&grants_for(&database.name, true)).await;
    let url = format!(
        "mysql://sheetsync:least-privilege@127.0.0.1:{}",
        server.port()
    );
    // With a mapping, check also asks Google: the emulator stands in for it.
    let emulator = crate::sheets_support::start_emulator().await;
    let key = crate::sheets_support::key_file(&emulator);
    let spreadsheet = emulator.state.store.create_spreadsheet("Shop", &[]);
    let mapping = crate::check_sheets::mapping_text(
        "orders",
        &format!("{}.orders", database.name),
        &spreadsheet,
        "Orders",
    );
    let config = crate::check_sheets::config_text(&url, Some((&key, &emulator.base_url)), &mapping);
    let (output, report) = crate::check_sheets::run_check(&config).await;
    assert!(output.status.success(), "{report}");

    // And the user cannot write elsewhere, nor administer the server.
    let mut connection = mysql_async::Conn::from_url(url.as_str())
        .await
        .expect("connect as sheetsync");
    let other = format!(
        "CREATE TABLE `{}`.other (id INT PRIMARY KEY)",
        database.name
    );
    assert!(
        connection.query_drop(&other).await.is_err(),
        "CREATE must be refused"
    );
    assert!(
        connection
            .query_drop("SET GLOBAL binlog_format = 'STATEMENT'")
            .await
            .is_err(),
        "SET GLOBAL must be refused"
    );
}

#[tokio::test]
async fn without_replica_listing_the_server_id_check_says_it_could_not_verify() {
    let server = MariaDb::start().expect("start");
    let database = server.create_database("shop").await;
    server
        .execute(&format!(
            "CREATE TABLE `{}`.orders (id INT PRIMARY KEY)",
            database.name
        ))
        .await;
    server.execute("CREATE DATABASE sheetsync").await;
    server.execute(&grants_for(&database.name, false)).await;
    let url = format!(
        "mysql://sheetsync:least-privilege@127.0.0.1:{}",
        server.port()
    );
    let (_directory, path) = write_config(&format!("[mysql]\nurl = \"{url}\"\nserver_id = 7001\n"));
    let output = run_sheetsync(&["check"], &path);
    let report = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL  mysql.server_id: found cannot list replicas"),
        "{report}"
    );
    assert!(report.contains("REPLICATION MASTER ADMIN"), "{report}");
}
