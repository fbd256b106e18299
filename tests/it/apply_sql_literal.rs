//! Names and values that look like SQL are only names and values: a table and columns whose
//! names hold quotes, backticks and statements are addressed correctly, and values such as
//! `'; DROP TABLE …` or `=1+2` are stored exactly as typed.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

const TABLE: &str = "or`ders; DROP TABLE x; --";
const COLUMN: &str = "total = 0 WHERE 1=1; --";
const QUOTED: &str = "it's \"quoted\"";

#[tokio::test]
async fn sql_looking_names_and_values_are_stored_literally() {
    let server = MariaDb::shared();
    let mut bed = ApplyBed::start(
        server,
        "apply_sql",
        &[
            "CREATE TABLE `or``ders; DROP TABLE x; --` (`id``) OR 1=1` INT PRIMARY KEY, \
             `total = 0 WHERE 1=1; --` VARCHAR(200), `it's \"quoted\"` VARCHAR(200))",
            "CREATE TABLE x (id INT PRIMARY KEY)",
            "INSERT INTO `or``ders; DROP TABLE x; --` VALUES (1, 'a', 'b'), (2, 'c', 'd')",
        ],
        |database| {
            vec![mapping(
                database,
                TABLE,
                "Orders",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let values = [
        "'; DROP TABLE x; --",
        "\" OR \"1\"=\"1",
        "=1+2",
        "`id`) OR 1=1",
        "\\'; SELECT SLEEP(10); --",
    ];
    for (index, value) in values.iter().enumerate() {
        let message = edit(
            &delivery("sql"),
            "Orders",
            &["id`) OR 1=1", COLUMN, QUOTED],
            json!([{ "row": 2, "key": {"id`) OR 1=1": 1}, "values": {COLUMN: value, QUOTED: format!("{index}{value}")} }]),
        );
        let (status, answer) = bed.send(&message).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["results"][0]["status"], json!("applied"), "{answer}");
        let stored = bed
            .rows("SELECT `total = 0 WHERE 1=1; --`, `it's \"quoted\"` FROM `or``ders; DROP TABLE x; --` ORDER BY `id``) OR 1=1`")
            .await;
        assert_eq!(
            stored,
            [
                [Some(value.to_string()), Some(format!("{index}{value}"))],
                [Some("c".into()), Some("d".into())],
            ]
        );
    }
    // Nothing else happened: the other table is still there and the other row untouched.
    assert_eq!(
        bed.rows("SELECT COUNT(*) FROM x").await,
        [[Some("0".into())]]
    );
    assert!(bed.take_write_backs(0).await.is_empty());
}
