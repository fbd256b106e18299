//! `MysqlApply::new` refuses what cannot work, naming it: a mapped table that does not exist,
//! one without a primary key, a listed column the table lacks, an unusable origin; and with
//! MySQL down it says the database is unavailable. A table dropped while running fails its
//! edits with 500 (after reading the types again), never with a partial write.

use sheetsync::apply::{ApplyOptions, MysqlApply};
use sheetsync::config::{ConflictPolicy, MappingConfig};
use sheetsync::webhook::ApplyError;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{mapping, prepare};

async fn start(
    pool: &mysql_async::Pool,
    mappings: &[MappingConfig],
    origin: &str,
) -> Result<MysqlApply, ApplyError> {
    let (sender, _receiver) = tokio::sync::mpsc::channel(1);
    MysqlApply::new(
        pool.clone(),
        mappings,
        ApplyOptions {
            origin: origin.into(),
            write_back: sender,
            structure: Default::default(),
            row_clock: Default::default(),
            sheets: None,
            cells: Default::default(),
        },
    )
    .await
}

fn message(result: Result<MysqlApply, ApplyError>) -> String {
    match result {
        Ok(_) => panic!("accepted"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn unusable_mappings_and_origins_are_refused_at_start() {
    let server = MariaDb::shared();
    let (database, pool) = prepare(
        server,
        "apply_startup",
        &[
            "CREATE TABLE good (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE keyless (v INT)",
        ],
    )
    .await;
    let policy = ConflictPolicy::LastWriteWins;
    let good = mapping(&database, "good", "Good", policy);
    assert!(start(&pool, std::slice::from_ref(&good), "ok")
        .await
        .is_ok());
    let missing = mapping(&database, "missing", "Missing", policy);
    assert!(message(start(&pool, &[missing], "ok").await).contains("does not exist"));
    let keyless = mapping(&database, "keyless", "Keyless", policy);
    assert!(message(start(&pool, &[keyless], "ok").await).contains("has no primary key"));
    let mut listed = good.clone();
    listed.columns = Some(vec!["id".into(), "nope".into()]);
    assert!(message(start(&pool, &[listed], "ok").await).contains("has no column `nope`"));
    assert!(message(start(&pool, std::slice::from_ref(&good), "").await).contains("1 to 64 ASCII"));
    assert!(
        message(start(&pool, std::slice::from_ref(&good), &"x".repeat(65)).await)
            .contains("1 to 64 ASCII")
    );
}

#[tokio::test]
async fn with_mysql_down_start_says_unavailable() {
    let server = MariaDb::start().expect("own MariaDB");
    let (database, pool) = prepare(
        &server,
        "apply_startup_down",
        &["CREATE TABLE good (id INT PRIMARY KEY)"],
    )
    .await;
    let good = mapping(&database, "good", "Good", ConflictPolicy::LastWriteWins);
    pool.clone().disconnect().await.expect("close the pool");
    server.stop().expect("stop");
    let pool = mysql_async::Pool::new(server.url(&database).as_str());
    let result = start(&pool, &[good], "ok").await;
    assert!(
        matches!(result, Err(ApplyError::Unavailable(_))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn a_table_dropped_while_running_fails_the_edit_with_500() {
    let server = MariaDb::shared();
    let bed = crate::apply_support::ApplyBed::start(
        server,
        "apply_dropped",
        &[
            "CREATE TABLE gone (id INT PRIMARY KEY, v INT)",
            "INSERT INTO gone VALUES (1, 1)",
        ],
        |database| {
            vec![mapping(
                database,
                "gone",
                "Gone",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    bed.execute("DROP TABLE gone").await;
    let message = crate::apply_support::edit(
        &crate::apply_support::delivery("gone"),
        "Gone",
        &["id", "v"],
        serde_json::json!([{ "row": 2, "key": {"id": 1}, "values": {"v": 2} }]),
    );
    let (status, answer) = bed.send(&message).await;
    assert_eq!(status, 500, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        serde_json::json!("internal error while applying the edit")
    );
}
