//! The echo filter on real binlog transactions: what sheetsync wrote for a sheet edit never
//! goes back to the sheet, but what the database changed itself in the same transaction (an
//! `ON UPDATE CURRENT_TIMESTAMP` column, a trigger's column, a trigger's row in another table,
//! defaults of an inserted row) does. Values of every editable type written by the apply step
//! are recognised in the binlog (nothing echoes), and other clients' transactions pass whole.

use std::time::Duration;

use serde_json::json;
use sheetsync::apply::filter_echo;
use sheetsync::binlog::ChangeKind;
use sheetsync::config::ConflictPolicy;
use sheetsync::value::Value;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};
use crate::binlog_support::{next_in, start_source};

const WAIT: Duration = Duration::from_secs(20);

fn names(change: &sheetsync::binlog::RowChange) -> Vec<String> {
    change
        .after
        .as_ref()
        .map(|row| {
            row.columns
                .iter()
                .map(|column| column.name.to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn own_writes_are_suppressed_and_the_databases_own_changes_pass() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_echo",
        &[
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(50), \
             total DECIMAL(10,2), revision INT NOT NULL DEFAULT 0, \
             updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
            "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT, total DECIMAL(10,2))",
            "CREATE TRIGGER orders_revision BEFORE UPDATE ON orders FOR EACH ROW SET NEW.revision = OLD.revision + 1",
            "CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW INSERT INTO audit (order_id, total) VALUES (NEW.id, NEW.total)",
            "CREATE TABLE kinds (id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DECIMAL(12,4), f FLOAT, \
             g DOUBLE, v VARCHAR(20), t TEXT, l CHAR(5) CHARACTER SET latin1, dt DATE, \
             dtm DATETIME(3), ts TIMESTAMP NULL, tm TIME, y YEAR, e ENUM('small','large'), \
             s SET('a','b','c'), b BIT(8), flag TINYINT(1), j JSON) DEFAULT CHARSET=utf8mb4",
            "INSERT INTO orders (id, customer, total) VALUES (1, 'ann', 10)",
            "INSERT INTO kinds (id) VALUES (1)",
        ],
        |database| {
            vec![
                mapping(database, "orders", "Orders", ConflictPolicy::LastWriteWins),
                mapping(database, "kinds", "Kinds", ConflictPolicy::LastWriteWins),
            ]
        },
    )
    .await;
    let mut source = start_source(&server.root_url(), None).await;
    let header = ["id", "customer", "total", "revision", "updated_at"];

    // 1. An edit of `total`: the trigger bumps `revision`, the server sets `updated_at`, and
    //    another trigger writes an audit row. Only `total` is sheetsync's.
    let (status, answer) = bed
        .send(&edit(&delivery("echo"), "Orders", &header, json!([{ "row": 2, "key": {"id": 1}, "values": {"total": 12.5}, "old_values": {"total": "10"} }])))
        .await;
    assert_eq!(status, 200, "{answer}");
    let transaction = next_in(&mut source, &bed.database, WAIT).await;
    let filtered = filter_echo(&transaction, &bed.origin);
    assert_eq!(
        (filtered.suppressed, filtered.trimmed),
        (0, 1),
        "{filtered:#?}"
    );
    assert_eq!(filtered.changes.len(), 2);
    let update = &filtered.changes[0];
    assert_eq!(update.table.name, "orders");
    assert_eq!(names(update), ["id", "revision", "updated_at"]);
    assert_eq!(
        update.after.as_ref().and_then(|row| row.get("revision")),
        Some(&Value::Int(1))
    );
    assert_eq!(filtered.changes[1].table.name, "audit");
    assert_eq!(filtered.changes[1].kind, ChangeKind::Insert);
    assert!(filtered
        .changes
        .iter()
        .all(|change| change.table.database == bed.database));

    // 2. A new row typed into the sheet: its defaults reach the sheet at the row it was typed in.
    let (_, answer) = bed
        .send(&edit(
            &delivery("echo"),
            "Orders",
            &header,
            json!([{ "row": 3, "key": {"id": null}, "values": {"customer": "bob", "total": 7} }]),
        ))
        .await;
    assert_eq!(
        answer["results"][0]["status"],
        json!("inserted"),
        "{answer}"
    );
    let transaction = next_in(&mut source, &bed.database, WAIT).await;
    let filtered = filter_echo(&transaction, &bed.origin);
    assert_eq!(filtered.inserted_rows.len(), 1);
    assert_eq!(filtered.inserted_rows[0].sheet_row, 3);
    assert_eq!(filtered.inserted_rows[0].key, [Value::Int(2)]);
    assert_eq!(filtered.changes.len(), 1);
    // The typed cells too: the writer appends them when its own row took the typed one.
    assert_eq!(
        names(&filtered.changes[0]),
        ["id", "customer", "total", "revision", "updated_at"]
    );

    // 3. Every editable type, written and read back from the binlog: nothing echoes.
    let kinds = [
        "id", "i", "u", "d", "f", "g", "v", "t", "l", "dt", "dtm", "ts", "tm", "y", "e", "s", "b",
        "flag", "j",
    ];
    let values = json!({
        "i": -42, "u": "18446744073709551615", "d": "12345678.1250", "f": 12.1, "g": 0.1,
        "v": "=1+2", "t": "multi\nline \u{1F600}", "l": "café", "dt": 46024, "dtm": 46024.5,
        "ts": "2026-01-02 03:04:05", "tm": "-12:30:00.5", "y": 2026, "e": "LARGE", "s": "c,a",
        "b": 255, "flag": true, "j": "{\"b\": [1, 2], \"a\": null}"
    });
    let empty: serde_json::Map<String, serde_json::Value> = values
        .as_object()
        .expect("values")
        .keys()
        .map(|name| (name.clone(), json!("")))
        .collect();
    let (_, answer) = bed
        .send(&edit(
            &delivery("echo"),
            "Kinds",
            &kinds,
            // With old values (the empty cells the person saw): a paste's would not be marked.
            json!([{ "row": 2, "key": {"id": 1}, "values": values, "old_values": empty }]),
        ))
        .await;
    assert_eq!(
        answer["results"][0],
        json!({"row": 2, "status": "applied"}),
        "{answer}"
    );
    let transaction = next_in(&mut source, &bed.database, WAIT).await;
    let filtered = filter_echo(&transaction, &bed.origin);
    assert_eq!(
        filtered.changes,
        [],
        "every value written is recognised: {filtered:#?}"
    );
    assert_eq!(filtered.suppressed, 1);

    // 4. Another client's change to the same table passes whole.
    bed.execute("UPDATE orders SET customer = 'carl' WHERE id = 1")
        .await;
    let transaction = next_in(&mut source, &bed.database, WAIT).await;
    let filtered = filter_echo(&transaction, &bed.origin);
    assert_eq!(filtered.suppressed, 0);
    assert_eq!(filtered.changes, transaction.changes);
    source.stop().await;
}
