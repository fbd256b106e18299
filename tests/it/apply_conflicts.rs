//! Conflicts (DESIGN §3.5): the database changed a cell while a person edited it. Every policy,
//! in both orders of arrival (the edit made before the database change, or after it), ends with
//! both sides holding the winner: the table holds it, and when the database won the sheet is
//! sent the database's value with a note. Every conflict is a row in `sheetsync.conflicts`.

use serde_json::json;
use sheetsync::config::ConflictPolicy;
use sheetsync::sheets::model::ExtendedValue;
use sheetsync::sync::RowKey;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{counter, delivery, edit_at, iso, mapping, now_milliseconds, ApplyBed};

const HEADER: &[&str] = &["id", "label", "hits"];

/// Which came first: the person's edit or the database's change.
#[derive(Debug, Clone, Copy)]
enum Order {
    EditFirst,
    DatabaseFirst,
}

struct Case {
    policy: ConflictPolicy,
    order: Order,
    /// What the editor typed into `hits` (the database holds 50; the editor saw 10).
    typed: i64,
    sheet_wins: bool,
}

#[tokio::test]
async fn every_policy_in_both_orders_ends_with_both_sides_equal() {
    use ConflictPolicy::*;
    use Order::*;
    let cases = [
        Case {
            policy: LastWriteWins,
            order: EditFirst,
            typed: 70,
            sheet_wins: false,
        },
        Case {
            policy: LastWriteWins,
            order: DatabaseFirst,
            typed: 70,
            sheet_wins: true,
        },
        Case {
            policy: DbWins,
            order: EditFirst,
            typed: 70,
            sheet_wins: false,
        },
        Case {
            policy: DbWins,
            order: DatabaseFirst,
            typed: 70,
            sheet_wins: false,
        },
        Case {
            policy: SheetWins,
            order: EditFirst,
            typed: 30,
            sheet_wins: true,
        },
        Case {
            policy: SheetWins,
            order: DatabaseFirst,
            typed: 30,
            sheet_wins: true,
        },
        Case {
            policy: Max,
            order: EditFirst,
            typed: 70,
            sheet_wins: true,
        },
        Case {
            policy: Max,
            order: DatabaseFirst,
            typed: 30,
            sheet_wins: false,
        },
    ];
    let server = MariaDb::shared();
    let mut bed = ApplyBed::start(
        server,
        "apply_conflicts",
        &["CREATE TABLE counters (id INT PRIMARY KEY, label VARCHAR(20), hits INT)"],
        |database| {
            [LastWriteWins, DbWins, SheetWins, Max]
                .into_iter()
                .map(|policy| {
                    let sheet = format!("{policy:?}");
                    let mut mapping = mapping(database, "counters", &sheet, LastWriteWins);
                    // The policy is set per column, over a mapping default that would differ.
                    mapping.column_conflict.insert("hits".into(), policy);
                    mapping
                })
                .collect()
        },
    )
    .await;
    let counted_before: Vec<u64> = ["last-write-wins", "db-wins", "sheet-wins", "max"]
        .iter()
        .map(|policy| counter("sheetsync_conflicts_total", &[("policy", policy)]))
        .collect();
    for (number, case) in cases.iter().enumerate() {
        let id = number as i64 + 1;
        let sheet = format!("{:?}", case.policy);
        bed.execute(&format!("INSERT INTO counters VALUES ({id}, 'c{id}', 10)"))
            .await;
        // The database changes 10 → 50; the binlog router tells the row clock when.
        bed.execute(&format!("UPDATE counters SET hits = 50 WHERE id = {id}"))
            .await;
        let now = now_milliseconds();
        let committed_seconds = now / 1000;
        bed.clock.record(
            &sheet.to_lowercase(),
            &RowKey(vec![id.to_string()]),
            committed_seconds,
        );
        let edited_at = match case.order {
            Order::EditFirst => committed_seconds * 1000 - 5_000,
            Order::DatabaseFirst => committed_seconds * 1000 + 5_000,
        };
        let message = edit_at(
            &delivery("conflict"),
            &sheet,
            HEADER,
            json!([{ "row": 2, "key": {"id": id}, "values": {"hits": case.typed}, "old_values": {"hits": "10"} }]),
            &iso(edited_at),
        );
        let (status, answer) = bed.send(&message).await;
        assert_eq!(status, 200, "{answer}");
        let winner = if case.sheet_wins { case.typed } else { 50 };
        let label = format!("{:?} {:?}", case.policy, case.order);
        // The table holds the winner …
        assert_eq!(
            bed.rows(&format!("SELECT hits FROM counters WHERE id = {id}"))
                .await,
            [[Some(winner.to_string())]],
            "{label}: {answer}"
        );
        // … and so does the sheet: it already shows the typed value, or it is sent the
        // database's with a note.
        let write_backs = bed.take_write_backs(usize::from(!case.sheet_wins)).await;
        let expected_status = if case.sheet_wins {
            "applied"
        } else {
            "conflict"
        };
        assert_eq!(
            answer["results"][0]["status"],
            json!(expected_status),
            "{label}: {answer}"
        );
        if case.sheet_wins {
            assert!(write_backs.is_empty(), "{label}: {write_backs:?}");
        } else {
            assert_eq!(write_backs.len(), 1, "{label}");
            let write_back = &write_backs[0];
            assert_eq!(write_back.mapping, sheet.to_lowercase());
            assert_eq!(write_back.key, RowKey(vec![id.to_string()]));
            let (column, cell) = &write_back.cells[0];
            assert_eq!(column.as_ref(), "hits");
            assert_eq!(
                cell.user_entered_value,
                Some(ExtendedValue::NumberValue(50.0)),
                "{label}"
            );
            let note = cell.note.as_deref().unwrap_or_default();
            assert!(
                note.contains("changed in the database while you edited it"),
                "{note}"
            );
            assert!(
                note.contains(&format!("You typed: {}", case.typed)),
                "{note}"
            );
        }
        let recorded = bed
            .rows(&format!(
                "SELECT policy, winner, sheet_value, sheet_old_value, db_value, column_name, \
                 db_committed_at IS NOT NULL FROM sheetsync.conflicts \
                 WHERE mapping = '{}' AND row_key = '[\"{id}\"]'",
                sheet.to_lowercase()
            ))
            .await;
        let policy_label = sheetsync::apply::policy::policy_label(case.policy);
        assert_eq!(
            recorded,
            [[
                Some(policy_label.to_string()),
                Some(if case.sheet_wins { "sheet" } else { "database" }.to_string()),
                Some(case.typed.to_string()),
                Some("10".to_string()),
                Some("50".to_string()),
                Some("hits".to_string()),
                Some("1".to_string()),
            ]],
            "{label}"
        );
    }

    // Every conflict was counted by its policy: two per policy.
    let counted: Vec<u64> = ["last-write-wins", "db-wins", "sheet-wins", "max"]
        .iter()
        .zip(&counted_before)
        .map(|(policy, before)| {
            counter("sheetsync_conflicts_total", &[("policy", policy)]) - before
        })
        .collect();
    assert_eq!(counted, [2, 2, 2, 2]);

    // Edits of different cells of the same row are not conflicts; nor is an edit whose old
    // value matches.
    bed.execute("INSERT INTO counters VALUES (100, 'x', 1)")
        .await;
    bed.execute("UPDATE counters SET label = 'changed' WHERE id = 100")
        .await;
    let message = edit_at(
        &delivery("no-conflict"),
        "DbWins",
        HEADER,
        json!([{ "row": 3, "key": {"id": 100}, "values": {"hits": 2}, "old_values": {"hits": "1"} }]),
        &iso(now_milliseconds()),
    );
    let (status, answer) = bed.send(&message).await;
    assert_eq!(
        (status, answer["results"][0]["status"].clone()),
        (200, json!("applied"))
    );
    assert_eq!(
        bed.rows("SELECT label, hits FROM counters WHERE id = 100")
            .await,
        [[Some("changed".into()), Some("2".into())]]
    );
    let total = bed.rows("SELECT COUNT(*) FROM sheetsync.conflicts WHERE row_key = '[\"100\"]' AND table_name LIKE 'apply_conflicts%'").await;
    assert_eq!(total, [[Some("0".into())]]);
}
