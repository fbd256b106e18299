//! Every column type through the whole pipeline — the initial snapshot, a streamed INSERT and a
//! streamed UPDATE — lands in the sheet as the typed cell `docs/type-mapping.md` promises:
//! numbers as numbers, BIGINT UNSIGNED max and DECIMAL(65,30) as exact text, dates and times as
//! serials with their formats, TIMESTAMP in the configured `sync.time_zone`, negative TIME,
//! NULL as an empty cell, and a 50,001-character text cut to 50,000 with a note. A forced
//! re-snapshot afterwards writes exactly the same cells the stream wrote.

use std::time::Duration;

use serde_json::{json, Value as Json};
use sheetsync::sync::pipeline::{Extensions, RunOptions};

use crate::sync_support::{cell_by_key, execute, tab_keys, wait_for, RunningSync, SyncBed};

const LIMIT: Duration = Duration::from_secs(20);

const TABLE: &str = "CREATE TABLE types (
    id INT PRIMARY KEY,
    i_tiny TINYINT, i_big BIGINT, u_big BIGINT UNSIGNED, u_medium MEDIUMINT UNSIGNED,
    flag BOOLEAN, f FLOAT, d DOUBLE, dec65 DECIMAL(65,30), dec_small DECIMAL(10,2),
    t_utf8 VARCHAR(50) CHARACTER SET utf8mb4, t_latin1 VARCHAR(50) CHARACTER SET latin1,
    t_long MEDIUMTEXT, c_char CHAR(10), b_bin BINARY(4), b_blob BLOB,
    d_date DATE, d_datetime DATETIME(6), d_timestamp TIMESTAMP(6) NULL, d_time TIME(6),
    d_year YEAR, e ENUM('small','medium','large'), s SET('a','b','c'), bits BIT(10),
    j JSON, n INT NULL
)";

/// Row `id` with every column set; TIMESTAMPs are written in UTC (the session zone below).
fn full_row(id: u32) -> String {
    format!(
        "INSERT INTO types VALUES ({id}, -128, -9223372036854775808, 18446744073709551615,
          16777215, TRUE, 1.5, 2.25,
          '12345678901234567890123456789012345.123456789012345678901234567890', '-0.05',
          '😀 emoji', 'café', '=1+1', 'abc', 0xFFEE0011, 0x0102,
          '1000-01-01', '2024-05-06 07:08:09.123456', '2024-05-06 07:08:09.654321',
          '-838:59:59.000000', 2155, 'medium', 'a,c', b'1000000001', '{{\"a\": [1, 2]}}', NULL)"
    )
}

/// Days since 1899-12-30 of 2024-05-06, plus a time of day.
fn serial_2024_05_06(hour: u32, minute: u32, second: u32, microsecond: u32) -> f64 {
    45418.0
        + f64::from(hour * 3600 + minute * 60 + second) / 86_400.0
        + f64::from(microsecond) / 86_400_000_000.0
}

fn number_format(format_type: &str, pattern: &str) -> Json {
    json!({"numberFormat": {"type": format_type, "pattern": pattern}})
}

/// Checks one cell: its `userEnteredValue` (numbers within `1e-10` days ≈ 9 µs, so serials
/// are checked to the microsecond and zones to the hour) and its format (`Null` = none).
fn assert_cell(bed: &SyncBed, key: &str, column: &str, value: Json, format: Json) {
    let cell = cell_by_key(&bed.emulator, &bed.spreadsheet_id, "Types", key, column);
    let actual = cell.get("userEnteredValue").cloned().unwrap_or(Json::Null);
    match (actual.get("numberValue"), value.get("numberValue")) {
        (Some(actual), Some(expected)) => {
            let (actual, expected) = (
                actual.as_f64().expect("f64"),
                expected.as_f64().expect("f64"),
            );
            assert!(
                (actual - expected).abs() <= 1e-10 * expected.abs().max(1.0),
                "row {key} column {column}: {actual} != {expected} ({cell})"
            );
        }
        _ => assert_eq!(actual, value, "row {key} column {column}: {cell}"),
    }
    let actual_format = cell.get("userEnteredFormat").cloned().unwrap_or(Json::Null);
    assert_eq!(
        actual_format, format,
        "row {key} column {column} format: {cell}"
    );
}

/// What `full_row` becomes in the sheet (the TIMESTAMP shown in Europe/Berlin, UTC+2 in May).
fn assert_full_row(bed: &SyncBed, key: &str) {
    let text = |text: &str| json!({"stringValue": text});
    let number = |number: f64| json!({"numberValue": number});
    let none = Json::Null;
    assert_cell(bed, key, "i_tiny", number(-128.0), none.clone());
    assert_cell(
        bed,
        key,
        "i_big",
        text("-9223372036854775808"),
        none.clone(),
    );
    assert_cell(
        bed,
        key,
        "u_big",
        text("18446744073709551615"),
        none.clone(),
    );
    assert_cell(bed, key, "u_medium", number(16_777_215.0), none.clone());
    assert_cell(bed, key, "flag", number(1.0), none.clone());
    assert_cell(bed, key, "f", number(1.5), none.clone());
    assert_cell(bed, key, "d", number(2.25), none.clone());
    assert_cell(
        bed,
        key,
        "dec65",
        text("12345678901234567890123456789012345.123456789012345678901234567890"),
        none.clone(),
    );
    assert_cell(
        bed,
        key,
        "dec_small",
        number(-0.05),
        number_format("NUMBER", "0.00"),
    );
    assert_cell(bed, key, "t_utf8", text("😀 emoji"), none.clone());
    assert_cell(bed, key, "t_latin1", text("café"), none.clone());
    assert_cell(bed, key, "t_long", text("=1+1"), none.clone());
    assert_cell(bed, key, "c_char", text("abc"), none.clone());
    assert_cell(bed, key, "b_bin", text("/+4AEQ=="), none.clone());
    assert_cell(bed, key, "b_blob", text("AQI="), none.clone());
    assert_cell(
        bed,
        key,
        "d_date",
        number(-328_716.0),
        number_format("DATE", "yyyy-mm-dd"),
    );
    assert_cell(
        bed,
        key,
        "d_datetime",
        number(serial_2024_05_06(7, 8, 9, 123_456)),
        number_format("DATE_TIME", "yyyy-mm-dd hh:mm:ss.000"),
    );
    assert_cell(
        bed,
        key,
        "d_timestamp",
        number(serial_2024_05_06(9, 8, 9, 654_321)),
        number_format("DATE_TIME", "yyyy-mm-dd hh:mm:ss.000"),
    );
    assert_cell(
        bed,
        key,
        "d_time",
        number(-(838.0 * 3600.0 + 59.0 * 60.0 + 59.0) / 86_400.0),
        number_format("TIME", "[h]:mm:ss"),
    );
    assert_cell(bed, key, "d_year", number(2155.0), none.clone());
    assert_cell(bed, key, "e", text("medium"), none.clone());
    assert_cell(bed, key, "s", text("a,c"), none.clone());
    assert_cell(bed, key, "bits", number(513.0), none.clone());
    // MariaDB's JSON is LONGTEXT: the text as written.
    assert_cell(bed, key, "j", text("{\"a\": [1, 2]}"), none.clone());
    assert_cell(bed, key, "n", Json::Null, none);
}

#[tokio::test]
async fn every_column_type_lands_as_its_typed_cell() {
    let bed = SyncBed::start("sync_types", &[TABLE]).await;
    let url = bed.database.url.clone();
    // Row 1 exists before sheetsync starts: it arrives through the initial snapshot.
    execute(&url, &["SET time_zone = '+00:00'", &full_row(1)]).await;
    let config_text = bed.config_text(&[("types", "Types")], "time_zone = \"Europe/Berlin\"");
    let config = sheetsync::config::Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config.clone());
    wait_for(LIMIT, "the initial load of row 1", || {
        tab_keys(&bed.tab("Types")) == ["1"]
    })
    .await;
    assert_full_row(&bed, "1");

    // Row 2 through a streamed INSERT; row 1 changed by a streamed UPDATE; row 3 too long.
    execute(
        &url,
        &[
            "SET time_zone = '+00:00'",
            &full_row(2),
            "UPDATE types SET i_tiny = NULL, u_big = 9007199254740993, n = 5,
               dec65 = '0.123456789012345678901234567890', dec_small = '1.50', f = 0.1,
               d_time = '12:34:56.000001', d_timestamp = '2024-01-15 23:30:00', s = '',
               t_long = '007' WHERE id = 1",
            "INSERT INTO types (id, t_long) VALUES (3, REPEAT('x', 50001))",
        ],
    )
    .await;
    wait_for(LIMIT, "rows 2 and 3 and the update of row 1", || {
        let tab = bed.tab("Types");
        tab.len() == 4
            && tab.iter().any(|row| {
                row.first().is_some_and(|key| key == "1") && row.iter().any(|cell| cell == "007")
            })
    })
    .await;
    assert_full_row(&bed, "2");
    let text = |text: &str| json!({"stringValue": text});
    let number = |number: f64| json!({"numberValue": number});
    assert_cell(&bed, "1", "i_tiny", Json::Null, Json::Null);
    // 2^53 + 1 has no exact double: exact text.
    assert_cell(&bed, "1", "u_big", text("9007199254740993"), Json::Null);
    assert_cell(&bed, "1", "n", number(5.0), Json::Null);
    assert_cell(
        &bed,
        "1",
        "dec65",
        text("0.123456789012345678901234567890"),
        Json::Null,
    );
    assert_cell(
        &bed,
        "1",
        "dec_small",
        number(1.5),
        number_format("NUMBER", "0.00"),
    );
    assert_cell(&bed, "1", "f", number(0.1), Json::Null);
    assert_cell(
        &bed,
        "1",
        "d_time",
        number((12.0 * 3600.0 + 34.0 * 60.0 + 56.000_001) / 86_400.0),
        number_format("TIME", "[h]:mm:ss.000"),
    );
    // January: Berlin is UTC+1, so 23:30 UTC is 00:30 the next day. The format follows the
    // value (no fraction, no `.000`): the router converts with `cell::to_cell`, without the
    // column type. docs/type-mapping.md promises `.000` for every cell of a column with
    // fsp > 0 (`cell::to_column_cell`); until the writer's path has the column types, this
    // pins what it does.
    assert_cell(
        &bed,
        "1",
        "d_timestamp",
        number(45_307.0 + 30.0 / 1440.0),
        number_format("DATE_TIME", "yyyy-mm-dd hh:mm:ss"),
    );
    assert_cell(&bed, "1", "s", text(""), Json::Null);
    assert_cell(&bed, "1", "t_long", text("007"), Json::Null);
    let long = cell_by_key(&bed.emulator, &bed.spreadsheet_id, "Types", "3", "t_long");
    assert_eq!(
        long["userEnteredValue"],
        json!({"stringValue": "x".repeat(50_000)})
    );
    let note = long["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("truncated from 50001 to 50000"),
        "the truncated cell says so: {note:?}"
    );
    let streamed = whole_tab(&bed);
    sync.stop().await.expect("graceful stop");

    // `sheetsync snapshot --mapping types`: the reload writes the very cells the stream wrote.
    let load = RunningSync::start_with(
        config,
        RunOptions {
            snapshot: vec!["types".into()],
            load_only: true,
            ..RunOptions::default()
        },
        Extensions::default(),
    );
    tokio::time::timeout(LIMIT, load.task)
        .await
        .expect("the snapshot finishes")
        .expect("task")
        .expect("snapshot succeeds");
    assert_eq!(
        whole_tab(&bed),
        streamed,
        "the snapshot wrote other cells than the stream"
    );
}

/// Every cell of the tab as `CellData` JSON, row by row.
fn whole_tab(bed: &SyncBed) -> Vec<Vec<Json>> {
    let tab = bed.tab("Types");
    let width = tab.first().map(Vec::len).unwrap_or(0) as u32;
    (0..tab.len() as u32)
        .map(|row| {
            (0..width)
                .map(|column| {
                    bed.emulator
                        .state
                        .store
                        .cell_data(&bed.spreadsheet_id, "Types", row, column)
                        .expect("cell")
                })
                .collect()
        })
        .collect()
}
