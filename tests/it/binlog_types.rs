//! Every column type through a live MariaDB binlog, with exact values.

use std::time::Duration;

use sheetsync::value::Value;
use sheetsync_testbed::MariaDb;

use crate::binlog_support::{execute, next_in, start_source};

#[tokio::test]
async fn every_type_decodes_exactly() {
    let server = MariaDb::shared();
    let database = server.create_database("binlog_types").await;
    execute(
        &database.url,
        &["CREATE TABLE types (
            id INT PRIMARY KEY,
            i_tiny TINYINT, i_small SMALLINT, i_medium MEDIUMINT, i_int INT, i_big BIGINT,
            u_big BIGINT UNSIGNED, u_medium MEDIUMINT UNSIGNED, flag BOOLEAN,
            f FLOAT, d DOUBLE, dec65 DECIMAL(65,30), dec_small DECIMAL(10,2),
            t_utf8 VARCHAR(50) CHARACTER SET utf8mb4, t_latin1 VARCHAR(50) CHARACTER SET latin1,
            t_text TEXT, c_char CHAR(10), b_bin BINARY(16), b_varbin VARBINARY(20), b_blob BLOB,
            d_date DATE, d_datetime DATETIME(6), d_timestamp TIMESTAMP(6) NULL, d_time TIME(6),
            d_year YEAR, e ENUM('small','medium','large'), s SET('a','b','c'), bits BIT(10),
            j JSON, n INT NULL
        )"],
    )
    .await;
    let mut source = start_source(&server.root_url(), None).await;
    execute(
        &database.url,
        &[
            "SET time_zone = '+00:00'",
            "INSERT INTO types VALUES (1, -128, -32768, -8388608, -2147483648, -9223372036854775808,
              18446744073709551615, 16777215, TRUE, 1.5, 2.25,
              '12345678901234567890123456789012345.123456789012345678901234567890', '-0.05',
              '😀 emoji', 'café', 'line\nbreak', 'abc', 0xFFEE0000000000000000000000001100,
              0x00FF, 0x0102, '1000-01-01', '2024-05-06 07:08:09.123456',
              '2024-05-06 07:08:09.654321', '-838:59:59.000000', 2155, 'medium', 'a,c',
              b'1000000001', '{\"a\": [1, 2]}', NULL)",
            "INSERT INTO types (id, d_time, d_year) VALUES (2, '12:34:56.000001', 0)",
        ],
    )
    .await;
    let transaction = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    let row = transaction.changes[0].after.as_ref().expect("after image");
    let value = |name: &str| {
        row.get(name)
            .cloned()
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let expected = [
        ("id", Value::Int(1)),
        ("i_tiny", Value::Int(-128)),
        ("i_small", Value::Int(-32768)),
        ("i_medium", Value::Int(-8_388_608)),
        ("i_int", Value::Int(-2_147_483_648)),
        ("i_big", Value::Int(i64::MIN)),
        ("u_big", Value::UInt(u64::MAX)),
        ("u_medium", Value::UInt(16_777_215)),
        ("flag", Value::Int(1)),
        ("f", Value::Float(1.5)),
        ("d", Value::Double(2.25)),
        (
            "dec65",
            Value::Decimal(
                "12345678901234567890123456789012345.123456789012345678901234567890".into(),
            ),
        ),
        ("dec_small", Value::Decimal("-0.05".into())),
        ("t_utf8", Value::Text("😀 emoji".into())),
        ("t_latin1", Value::Text("café".into())),
        ("t_text", Value::Text("line\nbreak".into())),
        ("c_char", Value::Text("abc".into())),
        (
            "b_bin",
            Value::Bytes(vec![
                0xFF, 0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x00,
            ]),
        ),
        ("b_varbin", Value::Bytes(vec![0x00, 0xFF])),
        ("b_blob", Value::Bytes(vec![0x01, 0x02])),
        (
            "d_date",
            Value::Date {
                year: 1000,
                month: 1,
                day: 1,
            },
        ),
        (
            "d_datetime",
            Value::DateTime {
                year: 2024,
                month: 5,
                day: 6,
                hour: 7,
                minute: 8,
                second: 9,
                microsecond: 123_456,
            },
        ),
        (
            "d_timestamp",
            Value::Timestamp {
                unix_seconds: 1_714_979_289,
                microsecond: 654_321,
            },
        ),
        (
            "d_time",
            Value::Time {
                negative: true,
                hours: 838,
                minutes: 59,
                seconds: 59,
                microsecond: 0,
            },
        ),
        ("d_year", Value::Year(2155)),
        ("e", Value::Enum("medium".into())),
        ("s", Value::Set(vec!["a".into(), "c".into()])),
        (
            "bits",
            Value::Bit {
                bits: 0b10_0000_0001,
                width: 10,
            },
        ),
        // MariaDB's JSON is LONGTEXT: the text as written.
        ("j", Value::Text("{\"a\": [1, 2]}".into())),
        ("n", Value::Null),
    ];
    for (name, expected) in expected {
        assert_eq!(value(name), expected, "column {name}");
    }
    assert_eq!(transaction.changes[0].schema.primary_key_names(), ["id"]);

    let second = next_in(&mut source, &database.name, Duration::from_secs(20)).await;
    let row = second.changes[0].after.as_ref().expect("after image");
    assert_eq!(
        row.get("d_time"),
        Some(&Value::Time {
            negative: false,
            hours: 12,
            minutes: 34,
            seconds: 56,
            microsecond: 1
        })
    );
    assert_eq!(row.get("d_year"), Some(&Value::Year(0)));
    assert_eq!(row.get("t_utf8"), Some(&Value::Null));
    source.stop().await;
}
