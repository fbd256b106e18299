//! Event kinds the assembler treats by hand: MariaDB's GTID events 162/163 (which
//! mysql_common does not know) parsed into [`crate::position::Gtid`] parts, MySQL GTIDs in
//! their text form (`uuid[:tag]:gno`), and the type numbers of compressed events.

use mysql_async::binlog::events::GtidEvent;
use mysql_async::binlog::EventType;

use crate::position::{MariaDbGtid, MySqlGtid, MySqlSource};

/// MariaDB event types that mysql_common does not know.
pub const MARIADB_GTID_EVENT: u8 = 162;
pub const MARIADB_GTID_LIST_EVENT: u8 = 163;
/// MariaDB GTID flags.
pub const FL_STANDALONE: u8 = 0x01;
pub const FL_GROUP_COMMIT_ID: u8 = 0x02;
/// QUERY_COMPRESSED_EVENT (165) up to UPDATE_ROWS_COMPRESSED_EVENT_V1 … (171).
pub const MARIADB_COMPRESSED_EVENTS: std::ops::RangeInclusive<u8> = 165..=171;
/// The event type of MySQL's compressed transaction payload.
pub const TRANSACTION_PAYLOAD_EVENT: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;

/// MariaDB GTID event body: sequence u64 LE, domain u32 LE, flags u8, then a commit id (8 bytes)
/// if `flags & FL_GROUP_COMMIT_ID`. The server id is the event header's.
pub fn parse_mariadb_gtid(data: &[u8], server_id: u32) -> Option<(MariaDbGtid, u8)> {
    let sequence = u64::from_le_bytes(data.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(data.get(8..12)?.try_into().ok()?);
    let flags = *data.get(12)?;
    if flags & FL_GROUP_COMMIT_ID != 0 && data.len() < 21 {
        return None;
    }
    Some((
        MariaDbGtid {
            domain,
            server_id,
            sequence,
        },
        flags,
    ))
}

pub fn mysql_gtid(event: &GtidEvent) -> MySqlGtid {
    let sid = event.sid();
    let hex: String = sid.iter().map(|byte| format!("{byte:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    MySqlGtid {
        source: MySqlSource {
            uuid,
            tag: event.tag().map(|tag| tag.as_str().to_owned()),
        },
        gno: event.gno(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_gtid_body() {
        let mut body = Vec::new();
        body.extend_from_slice(&17u64.to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.push(FL_STANDALONE);
        let (gtid, flags) = parse_mariadb_gtid(&body, 1).expect("parse");
        assert_eq!(gtid.to_string(), "3-1-17");
        assert_eq!(flags, FL_STANDALONE);
        // A commit id is promised by the flag but missing.
        body[12] = FL_GROUP_COMMIT_ID;
        assert_eq!(parse_mariadb_gtid(&body, 1), None);
        body.extend_from_slice(&99u64.to_le_bytes());
        assert!(parse_mariadb_gtid(&body, 1).is_some());
        assert_eq!(parse_mariadb_gtid(&body[..12], 1), None);
    }
}
