//! The apply path works as the least-privileged user of `mysql-conf/grants.sql` (after an
//! administrator ran `mysql-conf/schema.sql`): edits, inserts, conflicts and deletes.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, structure, ApplyBed};

#[tokio::test]
async fn the_apply_step_needs_no_more_than_the_documented_grants() {
    let server = MariaDb::start().expect("own MariaDB");
    let database = server.create_database("shop").await;
    server
        .execute(&format!(
            "CREATE TABLE `{}`.orders (id INT AUTO_INCREMENT PRIMARY KEY, total INT)",
            database.name
        ))
        .await;
    server
        .execute(&format!(
            "INSERT INTO `{}`.orders VALUES (1, 10), (2, 20)",
            database.name
        ))
        .await;
    let root = mysql_async::Pool::new(server.root_url().as_str());
    sheetsync::apply::schema::ensure(&root)
        .await
        .expect("schema as root");
    let grants = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mysql-conf/grants.sql"
    ))
    .expect("grants.sql")
    .replace("`shop`", &format!("`{}`", database.name))
    .replace("'change-me'", "'least-privilege'");
    server.execute(&grants).await;
    let url = format!(
        "mysql://sheetsync:least-privilege@127.0.0.1:{}/{}",
        server.port(),
        database.name
    );
    let pool = mysql_async::Pool::new(url.as_str());
    // Already created: ensure() must not need CREATE.
    sheetsync::apply::schema::ensure(&pool)
        .await
        .expect("schema check as sheetsync");
    let mappings = vec![mapping(
        &database.name,
        "orders",
        "Orders",
        ConflictPolicy::DbWins,
    )];
    let bed = ApplyBed::serve(database.name.clone(), pool, mappings).await;
    let header = ["id", "total"];
    let (status, answer) = bed
        .send(&edit(&delivery("least"), "Orders", &header, json!([
            { "row": 2, "key": {"id": 1}, "values": {"total": 11}, "old_values": {"total": "10"} },
            { "row": 3, "key": {"id": 2}, "values": {"total": 21}, "old_values": {"total": "5"} },
            { "row": 4, "key": {"id": null}, "values": {"total": 30} },
        ])))
        .await;
    assert_eq!(status, 200, "{answer}");
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["applied", "conflict", "inserted"]);
    let (status, _) = bed
        .send(&structure(
            &delivery("least"),
            "Orders",
            "INSERT_ROW",
            &["id"],
            json!([[1], [2], [3]]),
        ))
        .await;
    assert_eq!(status, 200);
    let (status, answer) = bed
        .send(&structure(
            &delivery("least"),
            "Orders",
            "REMOVE_ROW",
            &["id"],
            json!([[1], [3]]),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        bed.rows("SELECT id, total FROM orders ORDER BY id").await,
        [
            [Some("1".into()), Some("11".into())],
            [Some("3".into()), Some("30".into())]
        ]
    );
}
