//! Group commit (`sheetsync::apply::batch`): messages applied together answer exactly as when
//! applied one by one, a message that fails the group gets its own error while the others
//! apply, and two copies of one delivery in a group apply once. Many concurrent requests
//! through the router all apply, each with its own answer.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use sheetsync::apply::{ApplyOptions, MysqlApply, RowClock};
use sheetsync::config::{ConflictPolicy, MappingConfig};
use sheetsync::webhook::apply::ValidatedEdit;
use sheetsync::webhook::{ApplyRequest, ApplyResponse};
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, prepare, ApplyBed};

const HEADER: &[&str] = &["id", "v", "n"];

/// `v` is short and refused by a trigger for `nope`; `n` is a number; `bumps` counts UPDATEs.
const TABLE: &[&str] = &[
    "CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(8), n INT, \
     bumps INT NOT NULL DEFAULT 0)",
    "INSERT INTO items (id, v, n) VALUES (1, '0', 0), (2, '0', 0), (3, '0', 0), (4, '0', 0), \
     (5, '0', 0), (6, '0', 0), (7, '0', 0)",
    "CREATE TRIGGER items_checked BEFORE UPDATE ON items FOR EACH ROW BEGIN \
     IF NEW.v = 'nope' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no nope here'; END IF; \
     SET NEW.bumps = OLD.bumps + 1; END",
];

struct Bed {
    database: String,
    pool: mysql_async::Pool,
    apply: MysqlApply,
    mappings: Vec<std::sync::Arc<MappingConfig>>,
}

async fn bed(prefix: &str, extra: &[&str]) -> Bed {
    let statements: Vec<&str> = TABLE.iter().chain(extra).copied().collect();
    let (database, pool) = prepare(MariaDb::shared(), prefix, &statements).await;
    let mappings = vec![mapping(&database, "items", "Items", ConflictPolicy::DbWins)];
    let (write_back, mut write_backs) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move { while write_backs.recv().await.is_some() {} });
    let apply = MysqlApply::new(
        pool.clone(),
        &mappings,
        ApplyOptions {
            origin: format!("it-{database}"),
            write_back,
            structure: Default::default(),
            row_clock: RowClock::default(),
            sheets: None,
            cells: Default::default(),
        },
    )
    .await
    .expect("MysqlApply::new");
    Bed {
        database,
        pool,
        apply,
        mappings: mappings.into_iter().map(std::sync::Arc::new).collect(),
    }
}

impl Bed {
    fn validated(&self, message: &Value) -> ValidatedEdit {
        let parsed = sheetsync::webhook::parse(message.to_string().as_bytes()).expect("parse");
        match sheetsync::webhook::router::route(&self.mappings, parsed).expect("route") {
            ApplyRequest::Edit(edit) => edit,
            ApplyRequest::Structure(_) => panic!("an edit was expected"),
        }
    }

    async fn query(&self, query: &str) -> Vec<(i64, Option<String>, Option<i64>, i64)> {
        let mut connection = self.pool.get_conn().await.expect("connect");
        connection.query(query).await.expect(query)
    }

    async fn count(&self, query: &str) -> Option<i64> {
        let mut connection = self.pool.get_conn().await.expect("connect");
        connection.exec_first(query, ()).await.expect(query)
    }
}

fn answers(results: Vec<Result<ApplyResponse, sheetsync::webhook::ApplyError>>) -> Vec<String> {
    results
        .into_iter()
        .map(|result| match result {
            Ok(response) => serde_json::to_string(&response).expect("JSON"),
            Err(error) => format!("error: {error}"),
        })
        .collect()
}

/// One message about one row.
fn cell(id: &str, row: i64, key: i64, values: Value, old: Option<Value>) -> Value {
    let mut edited = json!({ "row": row, "key": {"id": key}, "values": values });
    if let Some(old) = old {
        edited["old_values"] = old;
    }
    edit(id, "Items", HEADER, json!([edited]))
}

/// Messages covering each outcome a row can have, with repeats of a row and of a delivery
/// (delivery ids start with `prefix`: the store is shared by every database of the server).
fn messages(prefix: &str) -> Vec<Value> {
    let first = delivery(prefix);
    vec![
        cell(&first, 2, 1, json!({"v": "a"}), Some(json!({"v": "0"}))),
        // The editor saw another value: a conflict the database wins (db-wins).
        cell(
            &delivery(prefix),
            3,
            2,
            json!({"v": "b"}),
            Some(json!({"v": "x"})),
        ),
        // Too long for VARCHAR(8): refused by the conversion.
        cell(&delivery(prefix), 4, 3, json!({"v": "much too long"}), None),
        // Refused by the server (the trigger): the row only.
        cell(&delivery(prefix), 5, 4, json!({"v": "nope", "n": 4}), None),
        // Not a number.
        cell(&delivery(prefix), 6, 5, json!({"n": "abc"}), None),
        // The same row as the first message: it must see the first one's value.
        cell(
            &delivery(prefix),
            2,
            1,
            json!({"v": "c"}),
            Some(json!({"v": "0"})),
        ),
        cell(
            &delivery(prefix),
            2,
            1,
            json!({"n": 11}),
            Some(json!({"n": "0"})),
        ),
        // A key that is not in the table: inserted with it.
        cell(&delivery(prefix), 9, 42, json!({"v": "new"}), None),
        // The same value again: unchanged.
        cell(
            &delivery(prefix),
            7,
            6,
            json!({"v": "0"}),
            Some(json!({"v": "0"})),
        ),
        // A key cell changed: refused, the row keeps its identity.
        edit(
            &delivery(prefix),
            "Items",
            HEADER,
            json!([{ "row": 8, "key": {"id": 70}, "values": {"id": 70},
                     "old_values": {"id": "7"} }]),
        ),
        // A second copy of the first delivery.
        cell(&first, 2, 1, json!({"v": "a"}), Some(json!({"v": "0"}))),
        // Two rows in one message.
        edit(
            &delivery(prefix),
            "Items",
            HEADER,
            json!([{ "row": 7, "key": {"id": 6}, "values": {"n": 6} },
                   { "row": 8, "key": {"id": 7}, "values": {"n": 7} }]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_answers_as_its_messages_applied_one_by_one() {
    let together = bed("apply_batch_together", &[]).await;
    let alone = bed("apply_batch_alone", &[]).await;
    let grouped = answers(
        together
            .apply
            .apply_edits_together(
                messages("together")
                    .iter()
                    .map(|m| together.validated(m))
                    .collect(),
            )
            .await,
    );
    let mut one_by_one = Vec::new();
    for message in &messages("alone") {
        one_by_one.push(alone.apply.apply_edit_alone(alone.validated(message)).await);
    }
    let one_by_one = answers(one_by_one);
    assert_eq!(grouped, one_by_one);
    assert!(grouped[0].contains("applied"), "{}", grouped[0]);
    assert!(grouped[1].contains("conflict"), "{}", grouped[1]);
    assert!(grouped[3].contains("no nope here"), "{}", grouped[3]);
    assert!(grouped[7].contains("inserted"), "{}", grouped[7]);
    assert_eq!(grouped[10], grouped[0], "the copy gets the first answer");
    let table = "SELECT id, v, n, bumps FROM items ORDER BY id";
    assert_eq!(together.query(table).await, alone.query(table).await);
    assert_eq!(
        together.query(table).await[0],
        (1, Some("a".into()), Some(11), 2),
        "the repeats of row 1 saw the first message's value (a conflict the DB won) and applied n"
    );
    // A group's delivery answers are one INSERT, so they share its NOW(6): eight messages
    // shared the group; the two later messages about row 1 and the last one (row 6 again) ran
    // alone; the copy stored nothing.
    for (name, bed, moments) in [("together", &together, 4), ("alone", &alone, 11)] {
        let of_bed = format!(
            "FROM sheetsync.deliveries WHERE delivery_id LIKE '{name}-{}-%'",
            std::process::id()
        );
        let stored = bed.count(&format!("SELECT COUNT(*) {of_bed}")).await;
        assert_eq!(stored, Some(11), "{name}: one answer per delivery");
        let distinct = bed
            .count(&format!("SELECT COUNT(DISTINCT received_at) {of_bed}"))
            .await;
        assert_eq!(
            distinct,
            Some(moments),
            "{name}: transactions that stored answers"
        );
    }
    for (name, bed) in [("together", &together), ("alone", &alone)] {
        let origin = format!("it-{}", bed.database);
        let conflicts = bed
            .count(&format!(
                "SELECT COUNT(*) FROM sheetsync.conflicts WHERE origin = '{origin}'"
            ))
            .await;
        assert_eq!(conflicts, Some(2), "{name}: conflicts of messages 2 and 6");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_message_gets_its_own_error_and_the_others_apply() {
    // A trigger failing the statement with an error that is not the row's fault (a missing
    // grant's code): the message fails with a 500, not with a rejected row.
    let bed = bed(
        "apply_batch_failing",
        &[
            "CREATE TRIGGER items_broken BEFORE UPDATE ON items FOR EACH ROW \
           IF NEW.v = 'boom' THEN \
           SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1142, MESSAGE_TEXT = 'boom refused'; END IF",
        ],
    )
    .await;
    let messages = [
        cell(&delivery("fail"), 2, 1, json!({"v": "a"}), None),
        cell(&delivery("fail"), 3, 2, json!({"v": "boom"}), None),
        cell(&delivery("fail"), 4, 3, json!({"v": "c"}), None),
    ];
    let results = bed
        .apply
        .apply_edits_together(messages.iter().map(|m| bed.validated(m)).collect())
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[2].is_ok(), "{:?}", results[2]);
    let failed = results[1]
        .as_ref()
        .expect_err("the broken trigger fails its message");
    assert!(
        matches!(failed, sheetsync::webhook::ApplyError::Failed(message) if message.contains("boom refused")),
        "{failed}"
    );
    assert_eq!(
        bed.query("SELECT id, v, n, bumps FROM items WHERE id <= 3 ORDER BY id")
            .await,
        [
            (1, Some("a".into()), Some(0), 1),
            (2, Some("0".into()), Some(0), 0),
            (3, Some("c".into()), Some(0), 1)
        ]
    );
    let stored = bed
        .count(&format!(
            "SELECT COUNT(*) FROM sheetsync.deliveries WHERE delivery_id IN ('{}', '{}', '{}')",
            messages[0]["delivery_id"].as_str().unwrap_or_default(),
            messages[1]["delivery_id"].as_str().unwrap_or_default(),
            messages[2]["delivery_id"].as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(
        stored,
        Some(2),
        "only the applied messages have a stored answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_one_delivery_apply_once_and_a_stored_one_is_answered_from_the_store() {
    let bed = bed("apply_batch_duplicates", &[]).await;
    let stored = cell(&delivery("dup"), 5, 4, json!({"v": "s"}), None);
    bed.apply
        .apply_edit_alone(bed.validated(&stored))
        .await
        .expect("applied alone first");
    let twice = cell(&delivery("dup"), 2, 1, json!({"v": "t"}), None);
    let other = cell(&delivery("dup"), 3, 2, json!({"v": "o"}), None);
    // Applied again, the stored one would bump its row a second time.
    let messages = [twice.clone(), other, twice, stored];
    let results = answers(
        bed.apply
            .apply_edits_together(messages.iter().map(|m| bed.validated(m)).collect())
            .await,
    );
    assert!(results[0].contains("applied"), "{}", results[0]);
    assert_eq!(results[2], results[0]);
    assert!(results[3].contains("applied"), "{}", results[3]);
    assert_eq!(
        bed.query("SELECT id, v, n, bumps FROM items WHERE id IN (1, 2, 4) ORDER BY id")
            .await,
        [
            (1, Some("t".into()), Some(0), 1),
            (2, Some("o".into()), Some(0), 1),
            (4, Some("s".into()), Some(0), 1)
        ]
    );
}

/// Many requests at once through the router: grouped by the workers, each answered for itself,
/// and the echo markers of this origin name every row written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_get_their_own_answer() {
    let bed = ApplyBed::start(
        MariaDb::shared(),
        "apply_batch_router",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(8))",
            "INSERT INTO items (id, v) SELECT seq, '0' FROM seq_1_to_40",
        ],
        |database| vec![mapping(database, "items", "Items", ConflictPolicy::DbWins)],
    )
    .await;
    let bed = Arc::new(bed);
    let mut tasks = tokio::task::JoinSet::new();
    for id in 1..=40 {
        let bed = bed.clone();
        // Every fifth value is too long: that row alone is refused.
        let value = if id % 5 == 0 {
            "far too long".to_string()
        } else {
            format!("v{id}")
        };
        let message = cell(&delivery("router"), id + 1, id, json!({"v": value}), None);
        tasks.spawn(async move { (id, bed.send(&message).await) });
    }
    while let Some(joined) = tasks.join_next().await {
        let (id, (status, answer)) = joined.expect("task");
        assert_eq!(status, 200, "{answer}");
        let expected = if id % 5 == 0 { "rejected" } else { "applied" };
        assert_eq!(
            answer["results"][0]["status"],
            json!(expected),
            "{id}: {answer}"
        );
        assert_eq!(answer["results"][0]["row"], json!(id + 1), "{answer}");
    }
    let rows = bed
        .rows("SELECT COUNT(*) FROM items WHERE v = CONCAT('v', id)")
        .await;
    assert_eq!(rows, [[Some("32".to_string())]]);
}

/// A row another client holds does not hold up the other messages of its group: the group
/// does not wait for the lock, and its messages apply alone (the free one at once, the held
/// one once the lock is released).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_held_elsewhere_does_not_hold_up_the_group() {
    let bed = Arc::new(bed("apply_batch_held", &[]).await);
    let mut blocker = bed.pool.get_conn().await.expect("connect");
    blocker
        .query_drop("START TRANSACTION")
        .await
        .expect("begin");
    blocker
        .query_drop("SELECT * FROM items WHERE id = 2 FOR UPDATE")
        .await
        .expect("hold row 2");
    let messages = [
        cell(&delivery("held"), 2, 1, json!({"v": "free"}), None),
        cell(&delivery("held"), 3, 2, json!({"v": "held"}), None),
    ];
    let edits: Vec<ValidatedEdit> = messages.iter().map(|m| bed.validated(m)).collect();
    let applying = {
        let bed = bed.clone();
        tokio::spawn(async move { bed.apply.apply_edits_together(edits).await })
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let row = bed
            .query("SELECT id, v, n, bumps FROM items WHERE id = 1")
            .await;
        if row[0].1.as_deref() == Some("free") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the free row waited for the held one"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    blocker.query_drop("COMMIT").await.expect("release row 2");
    let results = applying.await.expect("task");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        bed.query("SELECT id, v, n, bumps FROM items WHERE id <= 2 ORDER BY id")
            .await,
        [
            (1, Some("free".into()), Some(0), 1),
            (2, Some("held".into()), Some(0), 1)
        ]
    );
}
