//! Binlog positions: where the replication stream stands.
//!
//! Consumes the text form of a checkpoint (or a GTID seen in the stream) and produces a
//! [`BinlogPosition`]: a MariaDB GTID list (`0-1-17,1-2-5`, the last sequence per domain), a MySQL
//! GTID set (`uuid:1-5:7,uuid2:1-3`, with MySQL 8.4 tags `uuid:tag:1-5`) or a file and offset
//! (`binlog.000003:1234`). Guarantees: `Display` and `FromStr` round-trip exactly (text is
//! normalised: lower-case UUIDs, sorted, merged intervals), serde uses that same string, and
//! [`BinlogPosition::advance`] is the only way a position moves, called once per committed
//! transaction.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where the binlog stream stands. Saved with the data it covers, so resume is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinlogPosition {
    /// MariaDB: per replication domain, the last committed GTID (`domain-server-sequence`).
    MariaDbGtids(BTreeMap<u32, MariaDbGtid>),
    /// MySQL: the set of executed GTIDs.
    MySqlGtidSet(MySqlGtidSet),
    /// A binlog file and the byte offset of the next event to read.
    File { file: String, offset: u64 },
}

/// One MariaDB GTID, `domain-server-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MariaDbGtid {
    pub domain: u32,
    pub server_id: u32,
    pub sequence: u64,
}

/// The source and transaction number of one MySQL GTID; `tag` is MySQL 8.4's optional tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MySqlSource {
    /// Lower-case hyphenated UUID of the originating server.
    pub uuid: String,
    pub tag: Option<String>,
}

/// One MySQL GTID: `uuid[:tag]:gno`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MySqlGtid {
    pub source: MySqlSource,
    pub gno: u64,
}

/// A MySQL GTID set: per source, sorted disjoint inclusive intervals of transaction numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MySqlGtidSet {
    pub sources: BTreeMap<MySqlSource, Vec<(u64, u64)>>,
}

/// The GTID of one transaction, as the stream reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Gtid {
    MariaDb(MariaDbGtid),
    MySql(MySqlGtid),
}

/// Why a position string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    #[error("empty binlog position")]
    Empty,
    #[error("invalid MariaDB GTID `{0}`: expected domain-server-sequence, e.g. 0-1-17")]
    MariaDbGtid(String),
    #[error("MariaDB GTID list names domain {0} twice")]
    DuplicateDomain(u32),
    #[error("invalid MySQL GTID set `{text}`: {reason}")]
    MySqlGtidSet { text: String, reason: String },
    #[error("invalid binlog file position `{0}`: expected file:offset, e.g. binlog.000003:1234")]
    File(String),
}

impl fmt::Display for MariaDbGtid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}-{}-{}",
            self.domain, self.server_id, self.sequence
        )
    }
}

impl FromStr for MariaDbGtid {
    type Err = PositionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || PositionError::MariaDbGtid(text.to_owned());
        let mut parts = text.trim().split('-');
        let (Some(domain), Some(server_id), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(error());
        };
        Ok(MariaDbGtid {
            domain: parse_digits(domain).ok_or_else(error)?,
            server_id: parse_digits(server_id).ok_or_else(error)?,
            sequence: parse_digits(sequence).ok_or_else(error)?,
        })
    }
}

impl fmt::Display for MySqlGtid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.source.uuid)?;
        if let Some(tag) = &self.source.tag {
            write!(formatter, ":{tag}")?;
        }
        write!(formatter, ":{}", self.gno)
    }
}

impl fmt::Display for Gtid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gtid::MariaDb(gtid) => gtid.fmt(formatter),
            Gtid::MySql(gtid) => gtid.fmt(formatter),
        }
    }
}

/// Digits only: `u64::from_str` would also take a leading `+`, which is not a position.
fn parse_digits<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Accepts `8-4-4-4-12` hex digits in any case; returns the lower-case form MySQL prints.
fn normalise_uuid(text: &str) -> Option<String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let well_formed = groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(group, length)| {
            group.len() == length && group.bytes().all(|byte| byte.is_ascii_hexdigit())
        });
    well_formed.then(|| text.to_ascii_lowercase())
}

/// MySQL tags: a lower-case letter or `_` first, then letters, digits, `_`; at most 32.
fn is_valid_tag(text: &str) -> bool {
    let mut characters = text.chars();
    let first_ok = matches!(characters.next(), Some(c) if c.is_ascii_lowercase() || c == '_');
    first_ok
        && text.len() <= 32
        && characters.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl MySqlGtidSet {
    /// Adds one transaction number, merging it with adjacent or overlapping intervals.
    pub fn add(&mut self, source: MySqlSource, gno: u64) {
        self.add_interval(source, gno, gno);
    }

    /// Adds the inclusive interval `start..=end`, keeping the list sorted and disjoint.
    pub fn add_interval(&mut self, source: MySqlSource, start: u64, end: u64) {
        let intervals = self.sources.entry(source).or_default();
        intervals.push((start, end));
        intervals.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
        for &(start, end) in intervals.iter() {
            match merged.last_mut() {
                // Adjacent intervals merge too: 1-5 and 6 become 1-6.
                Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        *intervals = merged;
    }

    /// True when `gno` of `source` is in the set (the transaction was already applied).
    pub fn contains(&self, source: &MySqlSource, gno: u64) -> bool {
        self.sources.get(source).is_some_and(|intervals| {
            intervals
                .iter()
                .any(|&(start, end)| start <= gno && gno <= end)
        })
    }
}

impl fmt::Display for MySqlGtidSet {
    /// MySQL's own layout: one comma-separated entry per UUID, the untagged intervals first,
    /// then `:tag:intervals` per tag in tag order.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut previous_uuid: Option<&str> = None;
        for (source, intervals) in &self.sources {
            if previous_uuid == Some(source.uuid.as_str()) {
                // Same UUID continues the entry.
            } else {
                if previous_uuid.is_some() {
                    formatter.write_str(",")?;
                }
                formatter.write_str(&source.uuid)?;
                previous_uuid = Some(&source.uuid);
            }
            if let Some(tag) = &source.tag {
                write!(formatter, ":{tag}")?;
            }
            for &(start, end) in intervals {
                if start == end {
                    write!(formatter, ":{start}")?;
                } else {
                    write!(formatter, ":{start}-{end}")?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for MySqlGtidSet {
    type Err = PositionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| PositionError::MySqlGtidSet {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let mut set = MySqlGtidSet::default();
        // MySQL prints long sets with a newline after each comma.
        for entry in text.split(',').map(str::trim) {
            let mut parts = entry.split(':');
            let uuid = parts
                .next()
                .and_then(normalise_uuid)
                .ok_or_else(|| error("each entry must start with a server UUID"))?;
            let mut tag: Option<String> = None;
            let mut has_intervals = false;
            for part in parts {
                if part.starts_with(|c: char| c.is_ascii_digit()) {
                    let (start, end) = match part.split_once('-') {
                        Some((start, end)) => (parse_digits(start), parse_digits(end)),
                        None => (parse_digits(part), parse_digits(part)),
                    };
                    let (Some(start), Some(end)) = (start, end) else {
                        return Err(error("an interval must be N or N-M"));
                    };
                    if start == 0 || end < start {
                        return Err(error("intervals start at 1 and must not run backwards"));
                    }
                    let source = MySqlSource {
                        uuid: uuid.clone(),
                        tag: tag.clone(),
                    };
                    set.add_interval(source, start, end);
                    has_intervals = true;
                } else if is_valid_tag(part) {
                    tag = Some(part.to_owned());
                    has_intervals = false;
                } else {
                    return Err(error("expected an interval or a tag ([a-z_][a-z0-9_]*)"));
                }
            }
            if !has_intervals {
                return Err(error("a UUID or tag without intervals"));
            }
        }
        Ok(set)
    }
}

impl BinlogPosition {
    /// Moves the position past one committed transaction. A file position is moved by the
    /// caller with the event's end offset instead (GTIDs do not say where a file stands).
    pub fn advance(&mut self, gtid: &Gtid) {
        match (self, gtid) {
            (BinlogPosition::MariaDbGtids(domains), Gtid::MariaDb(gtid)) => {
                domains.insert(gtid.domain, *gtid);
            }
            (BinlogPosition::MySqlGtidSet(set), Gtid::MySql(gtid)) => {
                set.add(gtid.source.clone(), gtid.gno);
            }
            // Mixed kinds: the position keeps its own kind (a file position is moved by offset).
            _ => {}
        }
    }

    /// The MariaDB GTID list with one GTID, for starting from a stream's first transaction.
    pub fn from_mariadb_gtid(gtid: MariaDbGtid) -> Self {
        BinlogPosition::MariaDbGtids(BTreeMap::from([(gtid.domain, gtid)]))
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinlogPosition::MariaDbGtids(domains) => {
                for (index, gtid) in domains.values().enumerate() {
                    if index > 0 {
                        formatter.write_str(",")?;
                    }
                    gtid.fmt(formatter)?;
                }
                Ok(())
            }
            BinlogPosition::MySqlGtidSet(set) => set.fmt(formatter),
            BinlogPosition::File { file, offset } => write!(formatter, "{file}:{offset}"),
        }
    }
}

impl FromStr for BinlogPosition {
    type Err = PositionError;

    /// The three forms cannot be confused: a MySQL set starts with a UUID, a MariaDB list is only
    /// digits, `-` and `,`, and anything else must be `file:offset`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PositionError::Empty);
        }
        let first_part = text.split([':', ',']).next().unwrap_or_default();
        if normalise_uuid(first_part).is_some() {
            return text.parse().map(BinlogPosition::MySqlGtidSet);
        }
        if text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'-' || byte == b',')
        {
            let mut domains = BTreeMap::new();
            for entry in text.split(',') {
                let gtid: MariaDbGtid = entry.parse()?;
                if domains.insert(gtid.domain, gtid).is_some() {
                    return Err(PositionError::DuplicateDomain(gtid.domain));
                }
            }
            return Ok(BinlogPosition::MariaDbGtids(domains));
        }
        let (file, offset) = text
            .rsplit_once(':')
            .ok_or_else(|| PositionError::File(text.to_owned()))?;
        let offset = parse_digits(offset).ok_or_else(|| PositionError::File(text.to_owned()))?;
        if file.is_empty() {
            return Err(PositionError::File(text.to_owned()));
        }
        Ok(BinlogPosition::File {
            file: file.to_owned(),
            offset,
        })
    }
}

impl Serialize for BinlogPosition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BinlogPosition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

mod order;

#[cfg(test)]
mod tests;
