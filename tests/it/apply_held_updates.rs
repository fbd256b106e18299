//! The UPDATEs of rows that assign the same columns run as one statement (`apply::held`):
//! the table ends exactly as when each row is written by its own UPDATE, value by value for
//! every kind of column, and a row the server refuses is rejected alone.

use serde_json::{json, Value};
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::ExtendedValue;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, ApplyBed};

const COLUMNS: &str = "id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DECIMAL(20,6), \
     f FLOAT, g DOUBLE, day DATE, at DATETIME(6), ts TIMESTAMP(6) NULL, t TIME(6), y YEAR, \
     b BIT(8), e ENUM('red','green','blue'), s SET('x','y','z'), j JSON, v VARCHAR(40), \
     txt TEXT, n INT NULL) CHARACTER SET utf8mb4";
const HEADER: &[&str] = &[
    "id", "i", "u", "d", "f", "g", "day", "at", "ts", "t", "y", "b", "e", "s", "j", "v", "txt", "n",
];
/// Every column as text, in a form that shows any difference (bits and JSON included).
const READ: &str = "SELECT id, i, u, d, f, g, day, at, ts, t, y, BIN(b), e, s, j, v, txt, \
     COALESCE(n, 'null') FROM";
const ROWS: usize = 5;

/// Row `id`'s values: different in every row and column, so a value written to the wrong row
/// shows.
fn values(id: usize) -> Value {
    let colors = ["red", "green", "blue"];
    let sets = ["x", "x,z", "y,z", "z", "x,y,z"];
    json!({
        "i": -1000 * id as i64, "u": format!("1844674407370955161{id}"),
        "d": format!("{id}2345678901234.56789{id}"), "f": id as f64 + 0.5,
        "g": 1.0 / (id as f64 + 2.0), "day": 46023 + id,
        "at": format!("2026-01-0{id} 03:04:05.12345{id}"),
        "ts": format!("2026-02-0{id} 10:20:30.00000{id}"), "t": format!("-{id}:02:03.25"),
        "y": 2020 + id, "b": id * 17, "e": colors[id % 3], "s": sets[id - 1],
        "j": format!("{{\"row\": {id}, \"list\": [1, \"two\"]}}"),
        "v": format!("héllo 🎉 {id}"), "txt": format!("line {id}\nsecond"),
        "n": if id % 2 == 0 { json!("") } else { json!(id) },
    })
}

#[tokio::test]
async fn rows_updated_together_store_what_rows_updated_alone_store() {
    let server = MariaDb::shared();
    let bed = ApplyBed::start(
        server,
        "apply_held",
        &[
            &format!("CREATE TABLE together ({COLUMNS}"),
            &format!("CREATE TABLE alone ({COLUMNS}"),
            "INSERT INTO together (id, n) SELECT seq, 0 FROM seq_1_to_5",
            "INSERT INTO alone (id, n) SELECT seq, 0 FROM seq_1_to_5",
        ],
        |database| {
            vec![
                mapping(
                    database,
                    "together",
                    "Together",
                    ConflictPolicy::LastWriteWins,
                ),
                mapping(database, "alone", "Alone", ConflictPolicy::LastWriteWins),
            ]
        },
    )
    .await;
    let position = binlog_position(&bed).await;
    // One message with every row (a paste) …
    let rows: Vec<Value> = (1..=ROWS)
        .map(|id| json!({ "row": id + 1, "key": {"id": id}, "values": values(id) }))
        .collect();
    let (status, answer) = bed
        .send(&edit(
            &delivery("together"),
            "Together",
            HEADER,
            Value::Array(rows),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["results"]
            .as_array()
            .is_some_and(|results| results.len() == ROWS
                && results
                    .iter()
                    .all(|result| result["status"] == "applied" && result.get("errors").is_none())),
        "{answer}"
    );
    // … and one message per row, one after the other.
    for id in 1..=ROWS {
        let row = json!([{ "row": id + 1, "key": {"id": id}, "values": values(id) }]);
        let (status, answer) = bed
            .send(&edit(&delivery("alone"), "Alone", HEADER, row))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["results"][0],
            json!({"row": id + 1, "status": "applied"})
        );
    }

    let together = bed.rows(&format!("{READ} together ORDER BY id")).await;
    let alone = bed.rows(&format!("{READ} alone ORDER BY id")).await;
    assert_eq!(together, alone);
    // Each row got its own values (spot checks of the hardest kinds).
    let row = |id: usize, column: usize| together[id - 1][column].clone().unwrap_or_default();
    assert_eq!(row(3, 2), "18446744073709551613");
    assert_eq!(row(3, 3), "32345678901234.567893");
    assert_eq!(row(4, 7), "2026-01-04 03:04:05.123454");
    assert_eq!(row(5, 8), "2026-02-05 10:20:30.000005");
    assert_eq!(row(2, 9), "-02:02:03.250000");
    assert_eq!(row(3, 11), "110011");
    assert_eq!(row(1, 15), "héllo 🎉 1");
    assert_eq!(row(2, 17), "null");
    assert_eq!(row(3, 17), "3");

    // The paste's rows were written by one UPDATE; the single rows by one each.
    let updates = statements_since(&bed, &position).await;
    let count = |table: &str| {
        updates
            .iter()
            .filter(|text| text.starts_with(&format!("UPDATE `{}`.`{table}`", bed.database)))
            .count()
    };
    assert_eq!(count("together"), 1, "{updates:#?}");
    assert_eq!(count("alone"), ROWS, "{updates:#?}");
}

#[tokio::test]
async fn a_row_the_server_refuses_is_rejected_alone_when_written_together() {
    let server = MariaDb::shared();
    let mut bed = ApplyBed::start(
        server,
        "apply_held_refused",
        &[
            "CREATE TABLE stock (id INT PRIMARY KEY, qty INT NOT NULL, CHECK (qty >= 0))",
            "INSERT INTO stock VALUES (1, 1), (2, 2), (3, 3), (4, 4)",
        ],
        |database| {
            vec![mapping(
                database,
                "stock",
                "Stock",
                ConflictPolicy::LastWriteWins,
            )]
        },
    )
    .await;
    let position = binlog_position(&bed).await;
    let (status, answer) = bed
        .send(&edit(
            &delivery("refused"),
            "Stock",
            &["id", "qty"],
            json!([
                { "row": 2, "key": {"id": 1}, "values": {"qty": 10} },
                { "row": 3, "key": {"id": 2}, "values": {"qty": 20} },
                { "row": 4, "key": {"id": 3}, "values": {"qty": -30} },
                { "row": 5, "key": {"id": 4}, "values": {"qty": 40} },
            ]),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|result| result["status"].as_str().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        statuses,
        ["applied", "applied", "rejected", "applied"],
        "{answer}"
    );
    let reason = answer["results"][2]["errors"].to_string();
    assert!(
        reason.contains("the database refused this row: CONSTRAINT"),
        "{reason}"
    );
    assert_eq!(
        bed.rows("SELECT id, qty FROM stock ORDER BY id").await,
        [[1, 10], [2, 20], [3, 3], [4, 40]]
            .map(|row| row.map(|value| Some(value.to_string())).to_vec())
    );
    // The refused cell goes back to the database's value, with the reason in its note.
    let write_backs = bed.take_write_backs(1).await;
    assert_eq!(write_backs.len(), 1, "{write_backs:?}");
    assert_eq!(
        write_backs[0].key,
        sheetsync::sync::RowKey(vec!["3".into()])
    );
    let (column, cell) = &write_backs[0].cells[0];
    assert_eq!(column.as_ref(), "qty");
    assert_eq!(
        cell.user_entered_value,
        Some(ExtendedValue::NumberValue(3.0))
    );
    assert!(
        cell.note
            .as_deref()
            .unwrap_or_default()
            .contains("CONSTRAINT"),
        "{cell:?}"
    );
    // Together first (refused and undone by the server), then each row alone: only the
    // statements that succeeded are in the binlog, one per applied row.
    let updates = statements_since(&bed, &position).await;
    let ours: Vec<&String> = updates
        .iter()
        .filter(|text| text.starts_with(&format!("UPDATE `{}`.`stock`", bed.database)))
        .collect();
    assert_eq!(ours.len(), 3, "{ours:#?}");
    assert!(ours.iter().all(|text| !text.contains("CASE")), "{ours:#?}");
}

/// The binlog file and position now.
async fn binlog_position(bed: &ApplyBed) -> (String, u64) {
    let status = bed.rows("SHOW MASTER STATUS").await;
    let file = status[0][0].clone().expect("binlog file");
    let position = status[0][1]
        .clone()
        .and_then(|text| text.parse().ok())
        .expect("position");
    (file, position)
}

/// The text of every row statement logged since `position` (MariaDB's `Annotate_rows`
/// events, one per statement that changed rows), from every test sharing the server.
async fn statements_since(bed: &ApplyBed, position: &(String, u64)) -> Vec<String> {
    let files: Vec<String> = bed
        .rows("SHOW BINARY LOGS")
        .await
        .into_iter()
        .filter_map(|row| row[0].clone())
        .filter(|file| *file >= position.0)
        .collect();
    let mut statements = Vec::new();
    for file in files {
        let from = if file == position.0 { position.1 } else { 4 };
        let events = bed
            .rows(&format!("SHOW BINLOG EVENTS IN '{file}' FROM {from}"))
            .await;
        statements.extend(
            events
                .into_iter()
                .filter(|event| event[2].as_deref() == Some("Annotate_rows"))
                .filter_map(|event| event[5].clone()),
        );
    }
    statements
}
