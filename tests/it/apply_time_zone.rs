//! TIMESTAMP edits are read in `sync.time_zone`, as the writer shows them: a serial typed in a
//! `Europe/Berlin` sheet is stored as the UTC instant it means (a DATETIME beside it is stored
//! as typed), the editor's old value is read in that zone too (no false conflict), and a
//! refused TIMESTAMP cell is set back to the database's value shown in that zone.

use serde_json::json;
use sheetsync::config::{ConflictPolicy, SyncConfig};
use sheetsync::sheets::model::ExtendedValue;
use sheetsync_testbed::MariaDb;

use crate::apply_support::{delivery, edit, mapping, prepare, ApplyBed};

#[tokio::test]
async fn timestamp_edits_are_read_in_the_configured_zone() {
    let (database, pool) = prepare(
        MariaDb::shared(),
        "apply_time_zone",
        &[
            "SET time_zone = '+00:00'",
            "CREATE TABLE events (id INT PRIMARY KEY, at TIMESTAMP NULL, local DATETIME NULL)",
            "INSERT INTO events VALUES (1, '2024-01-01 00:00:00', NULL)",
        ],
    )
    .await;
    let berlin = sheetsync::cell::CellOptions::from_config(&SyncConfig {
        time_zone: "Europe/Berlin".into(),
        ..SyncConfig::default()
    })
    .expect("zone");
    let mappings = vec![mapping(
        &database,
        "events",
        "Events",
        ConflictPolicy::DbWins,
    )];
    let mut bed = ApplyBed::serve_with_cells(database, pool, mappings, None, berlin).await;
    let header = ["id", "at", "local"];
    // 2024-07-01 12:00 as a serial; the sheet showed 2024-01-01 01:00 (Berlin) before: 45292 + 1/24.
    let noon = 45474.5;
    let shown_before = 45292.0 + 1.0 / 24.0;
    let (status, answer) = bed
        .send(&edit(
            &delivery("zone"),
            "Events",
            &header,
            json!([
                { "row": 2, "key": {"id": 1}, "values": {"at": noon, "local": noon},
                  "old_values": {"at": shown_before.to_string(), "local": ""} },
            ]),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"][0]["status"], "applied",
        "no false conflict: {answer}"
    );
    assert_eq!(
        bed.rows("SELECT CONVERT_TZ(at, @@session.time_zone, '+00:00'), local FROM events")
            .await,
        [[
            Some("2024-07-01 10:00:00".into()),
            Some("2024-07-01 12:00:00".into())
        ]],
        "the TIMESTAMP is the UTC instant of Berlin noon, the DATETIME as typed"
    );

    // A refused TIMESTAMP cell goes back as the writer shows it: Berlin noon's serial.
    let (status, answer) = bed
        .send(&edit(
            &delivery("zone"),
            "Events",
            &header,
            json!([
                { "row": 2, "key": {"id": 1}, "values": {"at": "not a time"} },
            ]),
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let write_backs = bed.take_write_backs(1).await;
    let (_, cell) = &write_backs[0].cells[0];
    match cell.user_entered_value {
        Some(ExtendedValue::NumberValue(serial)) => {
            assert!((serial - noon).abs() < 1e-9, "{serial}")
        }
        ref other => panic!("not a serial: {other:?}"),
    }
    assert!(
        cell.user_entered_format.is_some(),
        "with the writer's date-time format"
    );
}
