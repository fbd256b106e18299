//! Ordering of positions: which transactions a checkpoint already covers, and the earliest of
//! several checkpoints (where one stream serving several spreadsheets must start).
//!
//! Each spreadsheet stores its own checkpoint. One binlog stream serves them all, so it starts
//! at the earliest of them, and each writer skips the transactions its own checkpoint already
//! covers. Guarantees: `covers` is never true for a transaction that was not applied (when in
//! doubt — mixed position kinds — it says "not covered" and the transaction is replayed, which is
//! harmless because writes are keyed by primary key); `earliest` never starts after any input.

use std::collections::BTreeMap;

use super::{BinlogPosition, Gtid, MySqlGtidSet};

impl BinlogPosition {
    /// True when the transaction with `gtid`, ending at `position_after`, is already included
    /// in this checkpoint.
    pub fn covers(&self, gtid: Option<&Gtid>, position_after: &BinlogPosition) -> bool {
        match (self, gtid) {
            // Within one MariaDB domain, sequence numbers grow in binlog order.
            (BinlogPosition::MariaDbGtids(domains), Some(Gtid::MariaDb(gtid))) => domains
                .get(&gtid.domain)
                .is_some_and(|saved| saved.sequence >= gtid.sequence),
            (BinlogPosition::MySqlGtidSet(set), Some(Gtid::MySql(gtid))) => {
                set.contains(&gtid.source, gtid.gno)
            }
            (BinlogPosition::File { .. }, _) => file_order(position_after)
                .zip(file_order(self))
                .is_some_and(|(transaction, saved)| transaction <= saved),
            _ => false,
        }
    }

    /// The position to start one stream from so that no checkpoint misses a transaction:
    /// per MariaDB domain the lowest sequence (a domain missing from one checkpoint is left
    /// out, so the server sends it from the start of the retained binlog), for MySQL the
    /// intersection of the GTID sets, for files the lowest file and offset. `None` when the
    /// checkpoints are of different kinds (a server switched flavour or GTID mode).
    pub fn earliest<'a>(
        positions: impl IntoIterator<Item = &'a BinlogPosition>,
    ) -> Option<BinlogPosition> {
        let mut positions = positions.into_iter();
        let mut earliest = positions.next()?.clone();
        for position in positions {
            earliest = match (earliest, position) {
                (BinlogPosition::MariaDbGtids(left), BinlogPosition::MariaDbGtids(right)) => {
                    let mut domains = BTreeMap::new();
                    for (domain, gtid) in left {
                        if let Some(other) = right.get(&domain) {
                            let lower = if other.sequence < gtid.sequence {
                                *other
                            } else {
                                gtid
                            };
                            domains.insert(domain, lower);
                        }
                    }
                    BinlogPosition::MariaDbGtids(domains)
                }
                (BinlogPosition::MySqlGtidSet(left), BinlogPosition::MySqlGtidSet(right)) => {
                    BinlogPosition::MySqlGtidSet(intersection(&left, right))
                }
                (left @ BinlogPosition::File { .. }, right @ BinlogPosition::File { .. }) => {
                    if file_order(right) < file_order(&left) {
                        right.clone()
                    } else {
                        left
                    }
                }
                _ => return None,
            };
        }
        Some(earliest)
    }
}

/// (file sequence number, offset): binlog files are `base.NNNNNN`, and the number can outgrow
/// its zero padding, so compare numerically rather than as text.
fn file_order(position: &BinlogPosition) -> Option<(u64, u64)> {
    match position {
        BinlogPosition::File { file, offset } => {
            let number = file
                .rsplit_once('.')
                .map_or(file.as_str(), |(_, number)| number);
            number.parse().ok().map(|number| (number, *offset))
        }
        _ => None,
    }
}

fn intersection(left: &MySqlGtidSet, right: &MySqlGtidSet) -> MySqlGtidSet {
    let mut result = MySqlGtidSet::default();
    for (source, left_intervals) in &left.sources {
        let Some(right_intervals) = right.sources.get(source) else {
            continue;
        };
        for &(left_start, left_end) in left_intervals {
            for &(right_start, right_end) in right_intervals {
                let start = left_start.max(right_start);
                let end = left_end.min(right_end);
                if start <= end {
                    result.add_interval(source.clone(), start, end);
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::{MariaDbGtid, MySqlGtid, MySqlSource};

    fn position(text: &str) -> BinlogPosition {
        text.parse().expect("valid position")
    }

    fn mariadb(domain: u32, sequence: u64) -> Gtid {
        Gtid::MariaDb(MariaDbGtid {
            domain,
            server_id: 1,
            sequence,
        })
    }

    const UUID: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    fn mysql(gno: u64) -> Gtid {
        Gtid::MySql(MySqlGtid {
            source: MySqlSource {
                uuid: UUID.into(),
                tag: None,
            },
            gno,
        })
    }

    #[test]
    fn covers_table() {
        let after = position("binlog.000001:4");
        let mysql_checkpoint = format!("{UUID}:1-5:7");
        let cases: Vec<(&str, Option<Gtid>, BinlogPosition, bool)> = vec![
            ("0-1-10", Some(mariadb(0, 10)), after.clone(), true),
            ("0-1-10", Some(mariadb(0, 11)), after.clone(), false),
            ("0-1-10", Some(mariadb(1, 3)), after.clone(), false),
            ("0-1-10,1-1-5", Some(mariadb(1, 3)), after.clone(), true),
            (&mysql_checkpoint, Some(mysql(7)), after.clone(), true),
            (&mysql_checkpoint, Some(mysql(6)), after.clone(), false),
            (
                "binlog.000002:100",
                None,
                position("binlog.000002:100"),
                true,
            ),
            (
                "binlog.000002:100",
                None,
                position("binlog.000002:101"),
                false,
            ),
            (
                "binlog.999999:100",
                None,
                position("binlog.1000000:4"),
                false,
            ),
            (
                "binlog.1000000:100",
                None,
                position("binlog.999999:400"),
                true,
            ),
            // Mixed kinds: not covered, so the transaction is replayed.
            ("0-1-10", Some(mysql(1)), after.clone(), false),
            ("0-1-10", None, after, false),
        ];
        for (checkpoint, gtid, after, expected) in cases {
            assert_eq!(
                position(checkpoint).covers(gtid.as_ref(), &after),
                expected,
                "{checkpoint} covers {gtid:?} / {after}"
            );
        }
    }

    #[test]
    fn earliest_table() {
        let mysql_wide = format!("{UUID}:1-10");
        let mysql_narrow = format!("{UUID}:1-5:8");
        let cases: Vec<(Vec<&str>, Option<&str>)> = vec![
            (vec!["0-1-10,1-1-5", "0-1-7,1-1-9"], Some("0-1-7,1-1-5")),
            (vec!["0-1-10,1-1-5", "0-1-12"], Some("0-1-10")),
            (vec![&mysql_wide, &mysql_narrow], Some(&mysql_narrow)),
            (
                vec!["binlog.000010:4", "binlog.000009:900"],
                Some("binlog.000009:900"),
            ),
            (vec!["binlog.000010:4"], Some("binlog.000010:4")),
            (vec!["binlog.000010:4", "0-1-1"], None),
            (vec![], None),
        ];
        for (inputs, expected) in cases {
            let positions: Vec<BinlogPosition> = inputs.iter().map(|text| position(text)).collect();
            assert_eq!(
                BinlogPosition::earliest(&positions),
                expected.map(position),
                "{inputs:?}"
            );
        }
    }
}
