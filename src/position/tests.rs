use super::*;

const UUID_A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const UUID_B: &str = "5e11fa47-71ca-11e1-9e33-c80aa9429562";

#[test]
fn round_trips() {
    let cases = [
        "0-1-17",
        "0-1-17,1-2-5",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,5e11fa47-71ca-11e1-9e33-c80aa9429562:1-3",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1-5",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2:alpha:1-5:beta:3",
        "binlog.000003:1234",
        "mysql-bin.000001:4",
        "dir:with:colons/binlog.000001:4",
    ];
    for case in cases {
        let position: BinlogPosition = case.parse().expect(case);
        assert_eq!(position.to_string(), case, "round trip of {case}");
    }
}

#[test]
fn normalises() {
    let cases = [
        ("1-2-5,0-1-17", "0-1-17,1-2-5"),
        (
            "3E11FA47-71CA-11E1-9E33-C80AA9429562:7:1-5",
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7",
        ),
        (
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:4-6",
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6",
        ),
        (
            "5e11fa47-71ca-11e1-9e33-c80aa9429562:1,\n3e11fa47-71ca-11e1-9e33-c80aa9429562:2",
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:2,5e11fa47-71ca-11e1-9e33-c80aa9429562:1",
        ),
    ];
    for (input, expected) in cases {
        let position: BinlogPosition = input.parse().expect(input);
        assert_eq!(position.to_string(), expected);
    }
}

#[test]
fn refuses_malformed() {
    let cases = [
        ("", PositionError::Empty),
        ("0-1", PositionError::MariaDbGtid("0-1".into())),
        ("0-1-2-3", PositionError::MariaDbGtid("0-1-2-3".into())),
        ("0-1-17,0-2-5", PositionError::DuplicateDomain(0)),
        ("0-1-", PositionError::MariaDbGtid("0-1-".into())),
        ("binlog.000001", PositionError::File("binlog.000001".into())),
        (
            "binlog.000001:x",
            PositionError::File("binlog.000001:x".into()),
        ),
        (":4", PositionError::File(":4".into())),
        (
            "binlog.000001:+4",
            PositionError::File("binlog.000001:+4".into()),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(input.parse::<BinlogPosition>(), Err(expected), "{input:?}");
    }
    let mysql_cases = [
        UUID_A.to_string(),
        format!("{UUID_A}:0"),
        format!("{UUID_A}:5-3"),
        format!("{UUID_A}:1-"),
        format!("{UUID_A}:Tag:1"),
        format!("{UUID_A}:tag"),
        format!("{UUID_A}:1,zz"),
    ];
    for input in mysql_cases {
        let result = input.parse::<BinlogPosition>();
        assert!(
            matches!(result, Err(PositionError::MySqlGtidSet { .. })),
            "{input}: {result:?}"
        );
    }
}

#[test]
fn advance_mysql_merges_intervals() {
    let mut position: BinlogPosition = format!("{UUID_A}:1-5:7").parse().expect("parse");
    let source = MySqlSource {
        uuid: UUID_A.into(),
        tag: None,
    };
    position.advance(&Gtid::MySql(MySqlGtid {
        source: source.clone(),
        gno: 6,
    }));
    assert_eq!(position.to_string(), format!("{UUID_A}:1-7"));
    position.advance(&Gtid::MySql(MySqlGtid {
        source: MySqlSource {
            uuid: UUID_B.into(),
            tag: Some("alpha".into()),
        },
        gno: 1,
    }));
    assert_eq!(
        position.to_string(),
        format!("{UUID_A}:1-7,{UUID_B}:alpha:1")
    );
    let BinlogPosition::MySqlGtidSet(set) = &position else {
        panic!("kind changed")
    };
    assert!(set.contains(&source, 7));
    assert!(!set.contains(&source, 8));
}

#[test]
fn advance_mariadb_sets_domain() {
    let mut position: BinlogPosition = "0-1-17,1-2-5".parse().expect("parse");
    position.advance(&Gtid::MariaDb(MariaDbGtid {
        domain: 1,
        server_id: 3,
        sequence: 6,
    }));
    position.advance(&Gtid::MariaDb(MariaDbGtid {
        domain: 2,
        server_id: 1,
        sequence: 1,
    }));
    assert_eq!(position.to_string(), "0-1-17,1-3-6,2-1-1");
}

#[test]
fn serde_as_string() {
    let position: BinlogPosition = "binlog.000003:1234".parse().expect("parse");
    let json = serde_json::to_string(&position).expect("serialise");
    assert_eq!(json, "\"binlog.000003:1234\"");
    let back: BinlogPosition = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, position);
    assert!(serde_json::from_str::<BinlogPosition>("\"0-1\"").is_err());
}
