use std::sync::Arc;

use super::*;
use crate::apply::marker::{MarkedRow, Marker};
use crate::binlog::{RowColumn, TableSchema};
use crate::position::BinlogPosition;

fn table(database: &str, name: &str) -> TableName {
    TableName {
        database: database.into(),
        name: name.into(),
    }
}

fn row(columns: &[(&str, Value)]) -> Row {
    Row {
        columns: columns
            .iter()
            .map(|(name, value)| RowColumn {
                name: Arc::from(*name),
                value: value.clone(),
            })
            .collect(),
    }
}

fn change(
    table: TableName,
    kind: ChangeKind,
    before: Option<Row>,
    after: Option<Row>,
) -> RowChange {
    RowChange {
        schema: Arc::new(TableSchema {
            table: table.clone(),
            columns: Vec::new(),
            primary_key: Vec::new(),
        }),
        table,
        kind,
        before,
        after,
    }
}

fn marker_change(origin: &str, rows: Vec<MarkedRow>) -> RowChange {
    let marker = Marker { version: 1, rows };
    change(
        table("sheetsync", "echo_marker"),
        ChangeKind::Insert,
        None,
        Some(row(&[
            ("origin", Value::Text(origin.into())),
            ("cells", Value::Text(marker.to_json())),
        ])),
    )
}

fn transaction(changes: Vec<RowChange>) -> Transaction {
    Transaction {
        gtid: None,
        position_after: BinlogPosition::File {
            file: "binlog.000001".into(),
            offset: 4,
        },
        commit_event_end: None,
        commit_unix_seconds: 0,
        changes,
        statements: Vec::new(),
        partial: false,
    }
}

fn written(
    table: &str,
    id: &str,
    operation: Operation,
    columns: &[(&str, Option<&str>)],
) -> MarkedRow {
    MarkedRow {
        table: table.into(),
        key: vec![("id".into(), id.into())],
        operation,
        columns: columns
            .iter()
            .map(|(name, value)| (name.to_string(), fingerprint(*value)))
            .collect(),
        sheet_row: None,
    }
}

#[test]
fn own_writes_are_dropped_and_everything_else_is_kept() {
    let orders = table("shop", "orders");
    let update = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[
            ("id", Value::Int(1)),
            ("total", Value::Decimal("10.00".into())),
            ("updated_at", Value::Int(1)),
            ("note", Value::Text("a".into())),
        ])),
        Some(row(&[
            ("id", Value::Int(1)),
            ("total", Value::Decimal("12.50".into())),
            ("updated_at", Value::Int(2)),
            ("note", Value::Text("a".into())),
        ])),
    );
    let pure_echo = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[("id", Value::Int(2)), ("total", Value::Null)])),
        Some(row(&[
            ("id", Value::Int(2)),
            ("total", Value::Decimal("3".into())),
        ])),
    );
    let rewritten_by_trigger = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[
            ("id", Value::Int(3)),
            ("name", Value::Text("x".into())),
        ])),
        Some(row(&[
            ("id", Value::Int(3)),
            ("name", Value::Text("BOB".into())),
        ])),
    );
    let other_row = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[("id", Value::Int(9)), ("total", Value::Null)])),
        Some(row(&[("id", Value::Int(9)), ("total", Value::Int(1))])),
    );
    let deleted = change(
        orders.clone(),
        ChangeKind::Delete,
        Some(row(&[("id", Value::Int(4))])),
        None,
    );
    let marker = marker_change(
        "sheetsync-7001",
        vec![
            written(
                "shop.orders",
                "1",
                Operation::Update,
                &[("total", Some("12.5"))],
            ),
            written(
                "shop.orders",
                "2",
                Operation::Update,
                &[("total", Some("3"))],
            ),
            written(
                "shop.orders",
                "3",
                Operation::Update,
                &[("name", Some("bob"))],
            ),
            written("shop.orders", "4", Operation::Delete, &[]),
        ],
    );
    let transaction = transaction(vec![
        update,
        pure_echo,
        rewritten_by_trigger.clone(),
        other_row.clone(),
        deleted.clone(),
        marker,
    ]);
    let filtered = filter_echo(&transaction, "sheetsync-7001");
    assert_eq!(filtered.suppressed, 1, "the pure echo");
    assert_eq!(filtered.trimmed, 3);
    assert_eq!(filtered.changes.len(), 4);
    let names = |row: &Row| -> Vec<String> {
        row.columns
            .iter()
            .map(|column| column.name.to_string())
            .collect()
    };
    let trimmed = filtered.changes[0].after.as_ref().expect("after");
    assert_eq!(names(trimmed), ["id", "updated_at"]);
    assert_eq!(filtered.changes[1], rewritten_by_trigger);
    assert_eq!(filtered.changes[2], other_row);
    // A row deleted for a person's row removal still reaches the writer: a no-op where the key
    // left the tab, the only way out for a row an update put back before the report arrived.
    assert_eq!(filtered.changes[3], deleted);

    // Another origin's marker, or none: everything is forwarded (but never the marker itself).
    let other = filter_echo(&transaction, "sheetsync-7002");
    assert_eq!((other.suppressed, other.changes.len()), (0, 5));
}

#[test]
fn an_insert_keeps_database_defaults_and_says_where_it_is() {
    let orders = table("shop", "orders");
    let insert = change(
        orders,
        ChangeKind::Insert,
        None,
        Some(row(&[
            ("id", Value::Int(42)),
            ("customer", Value::Text("ann".into())),
            ("status", Value::Text("new".into())),
            ("note", Value::Null),
        ])),
    );
    let mut entry = written(
        "shop.orders",
        "42",
        Operation::Insert,
        &[("customer", Some("ann"))],
    );
    entry.sheet_row = Some(5);
    let filtered = filter_echo(
        &transaction(vec![insert, marker_change("o", vec![entry])]),
        "o",
    );
    assert_eq!(filtered.inserted_rows.len(), 1);
    assert_eq!(filtered.inserted_rows[0].sheet_row, 5);
    assert_eq!(filtered.inserted_rows[0].key, [Value::Int(42)]);
    let after = filtered.changes[0].after.as_ref().expect("after");
    assert_eq!(
        after.columns.len(),
        3,
        "id, the typed customer and the default status (not the NULL note): {after:?}"
    );
}

#[test]
fn binlog_text_matches_the_text_written() {
    use crate::apply::typed::{TimeOfDay as Time, Typed};
    let date = crate::apply::typed::civil_from_days(20_455);
    let cases = [
        (
            Value::Decimal("12.50".into()),
            Typed::Decimal("12.5".into()),
        ),
        (Value::Float(12.1), Typed::Float(12.1)),
        (
            Value::Timestamp {
                unix_seconds: 20_455 * 86_400 + 3_723,
                microsecond: 500_000,
            },
            Typed::DateTime(
                date,
                Time {
                    hour: 1,
                    minute: 2,
                    second: 3,
                    microsecond: 500_000,
                },
            ),
        ),
        (
            Value::Set(vec!["a".into(), "c".into()]),
            Typed::Text("a,c".into()),
        ),
        (Value::Year(2026), Typed::Integer(2026)),
        (Value::Bit { bits: 5, width: 3 }, Typed::Integer(5)),
        (
            Value::Json("{\"b\":1,\"a\":[true]}".into()),
            Typed::Json(serde_json::json!({"a": [true], "b": 1})),
        ),
    ];
    for (binlog, typed) in cases {
        assert_eq!(
            binlog_marker_text(&binlog),
            typed.marker_text(),
            "{binlog:?}"
        );
    }
}

#[test]
fn the_cells_taken_out_of_an_update_are_handed_on_as_its_echo() {
    let orders = table("shop", "orders");
    let update = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[
            ("id", Value::Int(1)),
            ("total", Value::Decimal("10.00".into())),
            ("updated_at", Value::Int(1)),
        ])),
        Some(row(&[
            ("id", Value::Int(1)),
            ("total", Value::Decimal("12.50".into())),
            ("updated_at", Value::Int(2)),
        ])),
    );
    let marker = marker_change(
        "sheetsync-1",
        vec![written(
            "shop.orders",
            "1",
            Operation::Update,
            &[("total", Some("12.5"))],
        )],
    );
    let filtered = filter_echo(&transaction(vec![update, marker]), "sheetsync-1");
    // Forwarded: what the database changed by itself.
    let forwarded: Vec<_> = filtered.changes[0]
        .after
        .as_ref()
        .map(|after| {
            after
                .columns
                .iter()
                .map(|column| column.name.to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(forwarded, ["id", "updated_at"]);
    // The echo: the key and the cell the person typed, both images.
    assert_eq!(filtered.echoes.len(), 1);
    let echo = &filtered.echoes[0];
    let names = |image: &Option<Row>| -> Vec<String> {
        image
            .as_ref()
            .map(|row| {
                row.columns
                    .iter()
                    .map(|column| column.name.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&echo.after), ["id", "total"]);
    assert_eq!(names(&echo.before), ["id", "total"]);

    // An unmarked transaction has no echo; neither has a marked insert (kept whole).
    let unmarked = change(
        orders.clone(),
        ChangeKind::Update,
        Some(row(&[("id", Value::Int(2)), ("total", Value::Int(1))])),
        Some(row(&[("id", Value::Int(2)), ("total", Value::Int(2))])),
    );
    assert!(filter_echo(&transaction(vec![unmarked]), "sheetsync-1")
        .echoes
        .is_empty());
    let insert = change(
        orders,
        ChangeKind::Insert,
        None,
        Some(row(&[("id", Value::Int(3)), ("total", Value::Int(7))])),
    );
    let marker = marker_change(
        "sheetsync-1",
        vec![written(
            "shop.orders",
            "3",
            Operation::Insert,
            &[("total", Some("7"))],
        )],
    );
    assert!(
        filter_echo(&transaction(vec![insert, marker]), "sheetsync-1")
            .echoes
            .is_empty()
    );
}
