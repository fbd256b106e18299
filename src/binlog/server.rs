//! What the source asks the server before streaming.
//!
//! Consumes a connection to the server; produces its flavor (MariaDB or MySQL), whether events
//! carry checksums, its current binlog position, and the GTID set in the form a MySQL dump
//! request sends. Guarantees: the binlog settings are checked here ([`check_settings`]) on every
//! (re)connect, so a server changed underneath is refused, not misread.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, GnoInterval, Sid};
use mysql_common::packets::Tag;

use super::error::BinlogError;
use super::settings::{check_settings, ServerFlavor, CHECKED_VARIABLES};
use crate::position::{BinlogPosition, MySqlGtidSet};

/// What we need to know about the server before streaming.
pub struct ServerInfo {
    pub flavor: ServerFlavor,
    /// `@@binlog_checksum = CRC32`: the fake ROTATE's name then ends in 4 checksum bytes.
    pub checksum: bool,
}

pub async fn inspect_server(conn: &mut Conn) -> Result<ServerInfo, BinlogError> {
    let version: Option<String> = conn.query_first("SELECT VERSION()").await?;
    let flavor = ServerFlavor::from_version(version.as_deref().unwrap_or_default());
    let names = CHECKED_VARIABLES
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<(String, String)> = conn
        .query(format!(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})"
        ))
        .await?;
    let variables: HashMap<String, String> = rows
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    check_settings(flavor, &variables)?;
    let checksum: Option<String> = conn.query_first("SELECT @@GLOBAL.binlog_checksum").await?;
    Ok(ServerInfo {
        flavor,
        checksum: checksum.is_some_and(|value| !value.eq_ignore_ascii_case("NONE")),
    })
}

/// The server's current end of binlog: a GTID position when the server has GTIDs, else
/// file and offset.
pub async fn current_position(
    conn: &mut Conn,
    flavor: ServerFlavor,
) -> Result<BinlogPosition, BinlogError> {
    let gtid_text: Option<String> = match flavor {
        ServerFlavor::MariaDb => conn.query_first("SELECT @@GLOBAL.gtid_binlog_pos").await?,
        ServerFlavor::MySql => {
            let mode: Option<String> = conn.query_first("SELECT @@GLOBAL.gtid_mode").await?;
            if mode.as_deref() == Some("ON") {
                conn.query_first("SELECT @@GLOBAL.gtid_executed").await?
            } else {
                None
            }
        }
    };
    if let Some(text) = gtid_text.filter(|text| !text.trim().is_empty()) {
        return text
            .parse()
            .map_err(
                |error: crate::position::PositionError| BinlogError::IncompatiblePosition {
                    position: text.clone(),
                    reason: error.to_string(),
                },
            );
    }
    // MySQL 8.4 renamed SHOW MASTER STATUS.
    let status: Option<mysql_async::Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(row) => row,
        Err(_) => conn.query_first("SHOW BINARY LOG STATUS").await?,
    };
    let (file, offset) = status
        .and_then(|row| Some((row.get::<String, _>(0)?, row.get::<u64, _>(1)?)))
        .ok_or_else(|| BinlogError::InvalidSystemSetting {
            setting: "log_bin".into(),
            expected: "ON".into(),
            actual: "no binlog status".into(),
        })?;
    Ok(BinlogPosition::File { file, offset })
}

pub fn check_position_kind(
    position: &BinlogPosition,
    flavor: ServerFlavor,
) -> Result<(), BinlogError> {
    let reason = match (position, flavor) {
        (BinlogPosition::MySqlGtidSet(_), ServerFlavor::MariaDb) => "a MySQL GTID set on MariaDB",
        (BinlogPosition::MariaDbGtids(_), ServerFlavor::MySql) => "a MariaDB GTID list on MySQL",
        _ => return Ok(()),
    };
    Err(BinlogError::IncompatiblePosition {
        position: position.to_string(),
        reason: reason.into(),
    })
}

/// The GTID set in the form COM_BINLOG_DUMP_GTID sends (intervals are half-open there).
pub fn mysql_sids(set: &MySqlGtidSet) -> Result<Vec<Sid<'static>>, BinlogError> {
    let invalid = |reason: String| BinlogError::IncompatiblePosition {
        position: set.to_string(),
        reason,
    };
    let mut sids = Vec::new();
    for (source, intervals) in &set.sources {
        let uuid: String = source.uuid.chars().filter(|c| *c != '-').collect();
        let mut bytes = [0u8; 16];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = uuid
                .get(index * 2..index * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| invalid(format!("bad UUID {}", source.uuid)))?;
        }
        let mut sid = Sid::new(bytes).with_intervals(
            intervals
                .iter()
                .map(|&(start, end)| GnoInterval::new(start, end.saturating_add(1)))
                .collect(),
        );
        if let Some(tag) = &source.tag {
            let tag = Tag::new(tag.clone()).map_err(|error| invalid(error.to_string()))?;
            sid = sid.with_tag(tag);
        }
        sids.push(sid);
    }
    Ok(sids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_from_set() {
        let set: MySqlGtidSet = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,3e11fa47-71ca-11e1-9e33-c80aa9429562:alpha:2"
            .parse()
            .expect("parse");
        let sids = mysql_sids(&set).expect("sids");
        let texts: Vec<String> = sids.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7",
                "3e11fa47-71ca-11e1-9e33-c80aa9429562:alpha:2"
            ]
        );
    }

    #[test]
    fn position_kind_must_match_server() {
        let mysql: BinlogPosition = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1"
            .parse()
            .expect("parse");
        assert!(check_position_kind(&mysql, ServerFlavor::MariaDb).is_err());
        assert!(check_position_kind(&mysql, ServerFlavor::MySql).is_ok());
        let file: BinlogPosition = "binlog.000001:4".parse().expect("parse");
        assert!(check_position_kind(&file, ServerFlavor::MariaDb).is_ok());
    }
}
