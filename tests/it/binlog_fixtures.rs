//! Decoding of binlog files recorded by real MySQL 5.6–9.x and MariaDB servers (see
//! `shared/fixtures/mysql-binlogs/README.md`), through the same transaction grouper and
//! decoder the live stream uses. Expected values come from the statements in the files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sheetsync::binlog::file::read_events;
use sheetsync::binlog::{BinlogError, ChangeKind, Transaction, TransactionAssembler};
use sheetsync::position::{BinlogPosition, Gtid, MySqlGtidSet};
use sheetsync::value::Value;

fn fixture(name: &str) -> PathBuf {
    let directory = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/mysql-binlogs"
    ));
    assert!(
        directory.is_dir(),
        "recorded binlogs are expected in {} (the `shared/` folder beside the project clone)",
        directory.display()
    );
    directory.join(name)
}

/// Decodes a whole file: the committed transactions, and the error that stopped decoding.
fn decode(name: &str, start: BinlogPosition) -> (Vec<Transaction>, Option<BinlogError>) {
    let events = read_events(&fixture(name)).expect("read binlog file");
    let mut assembler = TransactionAssembler::new(start, false);
    let mut transactions = Vec::new();
    for event in &events {
        match assembler.handle(event) {
            Ok(Some(transaction)) => transactions.push(transaction),
            Ok(None) => {}
            Err(error) => return (transactions, Some(error)),
        }
    }
    (transactions, None)
}

fn mysql_start() -> BinlogPosition {
    BinlogPosition::MySqlGtidSet(MySqlGtidSet::default())
}

fn file_start(name: &str) -> BinlogPosition {
    BinlogPosition::File {
        file: name.into(),
        offset: 4,
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.into())
}

/// All changes' after-images (or before-images for deletes) as name → value maps.
fn images(transactions: &[Transaction]) -> Vec<(ChangeKind, BTreeMap<String, Value>)> {
    transactions
        .iter()
        .flat_map(|transaction| &transaction.changes)
        .map(|change| {
            let row = change.after.as_ref().or(change.before.as_ref()).expect("an image");
            let columns = row
                .columns
                .iter()
                .map(|column| (column.name.to_string(), column.value.clone()))
                .collect();
            (change.kind, columns)
        })
        .collect()
}

#[test]
fn mysql_56_gtids_then_missing_metadata() {
    let (transactions, error) = decode("binlog_transaction_with_GTID.000001", mysql_start());
    // CREATE TABLE commits on its own; the INSERT's TABLE_MAP has no column names (5.6 has no
    // binlog_row_metadata), which must be the definite MissingRowMetadata error.
    assert_eq!(transactions.len(), 1, "{transactions:#?}");
    assert_eq!(transactions[0].statements[0].statement, "CREATE TABLE t1 (c1 INT)");
    let gtid = transactions[0].gtid.as_ref().expect("gtid").to_string();
    assert_eq!(transactions[0].position_after.to_string(), gtid);
    let error = error.expect("MINIMAL metadata error");
    assert!(matches!(error, BinlogError::MissingRowMetadata { .. }), "{error}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains("t1"), "{error}");
}

#[test]
fn mysql_57_anonymous_gtids_use_file_positions() {
    let name = "binlog_transaction_with_anonymous_GTID.000001";
    let (transactions, error) = decode(name, file_start(name));
    assert_eq!(transactions.len(), 1, "{transactions:#?}");
    assert_eq!(transactions[0].gtid, None);
    assert_eq!(transactions[0].statements[0].statement, "CREATE TABLE t2 (c1 INT)");
    let BinlogPosition::File { offset, .. } = &transactions[0].position_after else {
        panic!("file position expected")
    };
    assert!(*offset > 4);
    assert!(matches!(error, Some(BinlogError::MissingRowMetadata { .. })), "{error:?}");
}

/// `cargo test --test it dump_fixtures -- --ignored --nocapture` prints every decoded file.
#[test]
#[ignore]
fn dump_fixtures() {
    let directory = fixture("");
    let mut names: Vec<_> = std::fs::read_dir(&directory)
        .expect("list")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".md") && !name.starts_with("LICENSE"))
        .collect();
    names.sort();
    for name in names {
        let start = if name.starts_with("mariadb") {
            BinlogPosition::MariaDbGtids(BTreeMap::new())
        } else {
            mysql_start()
        };
        let (transactions, error) = decode(&name, start);
        println!("===== {name}");
        for transaction in &transactions {
            println!(
                "-- gtid {:?} after {} statements {:?}",
                transaction.gtid.as_ref().map(Gtid::to_string),
                transaction.position_after,
                transaction.statements
            );
            for change in &transaction.changes {
                println!("   {:?} {} before {:?}", change.kind, change.table, change.before);
                println!("      after {:?}", change.after);
            }
        }
        println!("   error: {error:?}");
    }
}

#[test]
#[ignore]
fn dump_table_maps() {
    use mysql_async::binlog::events::EventData;
    for name in ["mariadb-bin.000001", "vector.binlog", "binlog-invisible-columns.000001"] {
        for event in read_events(&fixture(name)).expect("read") {
            if let Ok(Some(EventData::TableMapEvent(table_map))) = event.read_data() {
                println!("{name} {}", table_map.table_name());
                for index in 0..table_map.columns_count() as usize {
                    println!("  {:?}", table_map.get_column_type(index));
                }
                for field in table_map.iter_optional_meta() {
                    println!("  {field:?}");
                }
            }
        }
    }
}
