//! Cells that do not fit their column are refused one by one, with a reason, and set back in
//! the sheet with a note; the rest of the row and of the message is applied. A row the server
//! itself refuses (a duplicate unique value) is rolled back alone.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::ExtendedValue;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{counter, delivery, edit, mapping, ApplyBed};

const HEADER: &[&str] = &["id", "qty", "name", "due", "email", "note"];

#[tokio::test]
async fn refused_cells_are_reported_and_reverted_while_the_rest_applies() {
    let server = MariaDb::shared();
    let mut bed = ApplyBed::start(
        server,
        "apply_types",
        &[
            "CREATE TABLE tasks (id INT PRIMARY KEY, qty INT NOT NULL, name VARCHAR(10), \
             due DATE, email VARCHAR(50) UNIQUE, note TEXT)",
            "INSERT INTO tasks VALUES (1, 1, 'one', '2026-01-01', 'a@x', NULL), \
             (2, 2, 'two', NULL, 'b@x', NULL), (3, 3, 'three', NULL, 'c@x', NULL)",
        ],
        |database| {
            vec![mapping(
                database,
                "tasks",
                "Tasks",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let message = edit(
        &delivery("types"),
        "Tasks",
        HEADER,
        json!([
            // Three bad cells and one good one in the same row.
            { "row": 2, "key": {"id": 1}, "values": {
                "qty": "abc", "name": "much too long", "due": "10000-01-01", "note": "kept" } },
            // A good row next to it.
            { "row": 3, "key": {"id": 2}, "values": { "qty": 20, "due": 46024 } },
            // A value the server refuses (email already used by row 1): this row only.
            { "row": 4, "key": {"id": 3}, "values": { "email": "a@x", "qty": 30 } },
        ]),
    );
    let (status, answer) = bed.send(&message).await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results[0]["status"], json!("applied"), "{answer}");
    let errors: Vec<(String, String)> = results[0]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["column"].as_str().unwrap_or_default().to_string(),
                error["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expect = |column: &str, text: &str| {
        assert!(
            errors
                .iter()
                .any(|(name, message)| name == column && message.contains(text)),
            "{column}: {text:?} not in {errors:?}"
        );
    };
    expect("qty", "\"abc\" is not a whole number; qty is int(11)");
    expect(
        "name",
        "13 characters is too long; name is varchar(10) (at most 10)",
    );
    expect(
        "due",
        "10000-01-01 is out of range 1000-01-01 to 9999-12-31",
    );
    assert_eq!(errors.len(), 3);
    assert_eq!(results[1], json!({"row": 3, "status": "applied"}));
    assert_eq!(results[2]["status"], json!("rejected"), "{answer}");
    let refused = results[2]["errors"].to_string();
    assert!(
        refused.contains("the database refused this row: Duplicate entry"),
        "{refused}"
    );

    assert_eq!(
        bed.rows("SELECT id, qty, name, due, email, note FROM tasks ORDER BY id")
            .await,
        [
            [
                Some("1".into()),
                Some("1".into()),
                Some("one".into()),
                Some("2026-01-01".into()),
                Some("a@x".into()),
                Some("kept".into())
            ],
            [
                Some("2".into()),
                Some("20".into()),
                Some("two".into()),
                Some("2026-01-02".into()),
                Some("b@x".into()),
                None
            ],
            // Row 3's qty was valid but its row was refused as a whole.
            [
                Some("3".into()),
                Some("3".into()),
                Some("three".into()),
                None,
                Some("c@x".into()),
                None
            ],
        ]
    );
    // The refused cells of row 1 go back to the database's values, each with its reason; so do
    // the cells of the row the server refused.
    let write_backs = bed.take_write_backs(2).await;
    assert_eq!(write_backs.len(), 2, "{write_backs:?}");
    let refused_row = &write_backs[1];
    assert_eq!(refused_row.key, sheetsync::sync::RowKey(vec!["3".into()]));
    let email = refused_row
        .cells
        .iter()
        .find(|(column, _)| column.as_ref() == "email")
        .expect("email");
    assert_eq!(
        email.1.user_entered_value,
        Some(ExtendedValue::StringValue("c@x".into()))
    );
    assert!(
        email
            .1
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("the database refused this row: Duplicate entry"),
        "{email:?}"
    );
    let cells = &write_backs[0].cells;
    assert_eq!(cells.len(), 3);
    let qty = cells
        .iter()
        .find(|(column, _)| column.as_ref() == "qty")
        .expect("qty written back");
    assert_eq!(
        qty.1.user_entered_value,
        Some(ExtendedValue::NumberValue(1.0))
    );
    assert!(qty
        .1
        .note
        .as_deref()
        .unwrap_or_default()
        .contains("is not a whole number"));
    let name = cells
        .iter()
        .find(|(column, _)| column.as_ref() == "name")
        .expect("name");
    assert_eq!(
        name.1.user_entered_value,
        Some(ExtendedValue::StringValue("one".into()))
    );

    // With the sheet writer gone, the edit still commits and the lost write-back is counted.
    let dropped_before = counter("sheetsync_write_backs_dropped_total", &[]);
    let (_, closed) = tokio::sync::mpsc::channel(1);
    drop(std::mem::replace(&mut bed.write_backs, closed));
    let message = edit(
        &delivery("types-no-writer"),
        "Tasks",
        HEADER,
        json!([{ "row": 3, "key": {"id": 2}, "values": { "qty": "x", "note": "still saved" } }]),
    );
    let (status, answer) = bed.send(&message).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        bed.rows("SELECT note FROM tasks WHERE id = 2").await,
        [[Some("still saved".into())]]
    );
    assert!(counter("sheetsync_write_backs_dropped_total", &[]) > dropped_before);
}
