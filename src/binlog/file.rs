//! Binlog files on disk → events.
//!
//! Consumes a binlog file (as written by the server, e.g. `binlog.000001`); produces its events
//! in order, with MySQL `TRANSACTION_PAYLOAD` events followed by the events compressed inside
//! them, exactly as mysql_async's replication stream delivers them. Used by the decoding tests on
//! recorded binlogs and useful for offline inspection. Guarantees: a damaged payload is an error,
//! never silently skipped.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use mysql_async::binlog::events::{Event, TransactionPayloadEvent};
use mysql_async::binlog::BinlogVersion;
use mysql_common::binlog::BinlogFile;

use super::event_kinds::TRANSACTION_PAYLOAD_EVENT;

/// Reads every event of a binlog file, expanding compressed transaction payloads.
pub fn read_events(path: &Path) -> std::io::Result<Vec<Event>> {
    let file = File::open(path)?;
    let mut binlog = BinlogFile::new(BinlogVersion::Version4, BufReader::new(file))?;
    let mut events = Vec::new();
    while let Some(event) = binlog.next() {
        let event = event?;
        let mut inner_events = Vec::new();
        if event.header().event_type_raw() == TRANSACTION_PAYLOAD_EVENT {
            let payload = event.read_event::<TransactionPayloadEvent<'_>>()?;
            let mut reader = payload.decompressed()?;
            while let Some(inner) = binlog.reader_mut().read_decompressed(&mut reader)? {
                inner_events.push(inner);
            }
        }
        events.push(event);
        events.extend(inner_events);
    }
    Ok(events)
}
