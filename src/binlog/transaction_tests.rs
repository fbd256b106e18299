//! The assembler's decisions that need no server: a rolled-back group. Parts of real
//! transactions are tested against MariaDB in `tests/it/binlog_parts.rs`.

use super::*;

fn location() -> EventLocation {
    EventLocation {
        table: None,
        position: None,
        event: Some(("binlog.000002".into(), 900)),
    }
}

fn assembler_with(pending: PendingTransaction) -> TransactionAssembler {
    let mut assembler = TransactionAssembler::new(
        BinlogPosition::File {
            file: "binlog.000002".into(),
            offset: 4,
        },
        false,
    );
    assembler.pending = Some(pending);
    assembler
}

#[test]
fn a_rolled_back_group_is_dropped_whole() {
    let mut assembler = assembler_with(PendingTransaction {
        began: true,
        ..PendingTransaction::default()
    });
    assert_eq!(assembler.rollback(location()).expect("dropped"), None);
    assert!(!assembler.in_transaction());
    assert_eq!(assembler.committed().to_string(), "binlog.000002:4");
    // A ROLLBACK outside any group changes nothing.
    assert_eq!(assembler.rollback(location()).expect("nothing"), None);
}

#[test]
fn a_rolled_back_group_whose_parts_were_sent_asks_for_a_re_snapshot() {
    let mut assembler = assembler_with(PendingTransaction {
        began: true,
        streamed: ["shop.orders".to_string(), "shop.audit".to_string()]
            .into_iter()
            .collect(),
        ..PendingTransaction::default()
    });
    let error = assembler.rollback(location()).expect_err("parts were sent");
    match &error {
        BinlogError::RolledBackAfterParts { tables, .. } => {
            assert_eq!(tables, &["shop.audit", "shop.orders"]);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(!error.is_transient());
    let text = error.to_string();
    assert!(text.contains("shop.audit, shop.orders"), "{text}");
    assert!(text.contains("binlog.000002"), "{text}");
    assert!(!assembler.in_transaction());
}
