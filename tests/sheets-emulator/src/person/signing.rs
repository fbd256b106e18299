//! What makes a delivery look like the script's: the headers it signs with, a fresh delivery id
//! (`Utilities.getUuid()`) and the time as `Date.toISOString()` writes it.
//!
//! Consumes the secret, the body and the clock; produces header values. Guarantees the
//! signature is `sha256=` + lowercase hex HMAC-SHA256(secret as UTF-8, "<timestamp>.<body>"),
//! exactly what `signature_` in `apps-script/Delivery.js` computes and
//! `sheetsync::webhook::signature::verify` checks.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::api::serial_date::civil_from_days;

pub const TIMESTAMP_HEADER: &str = "X-Sheetsync-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Sheetsync-Signature";

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    // HMAC takes keys of any length, so keying cannot fail; the fallback is never taken.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Milliseconds since the unix epoch (the script's `now_().getTime()`).
pub fn now_milliseconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

/// `String(Math.floor(now / 1000))`: the timestamp header.
pub fn timestamp_header(milliseconds: i64) -> String {
    milliseconds.div_euclid(1000).to_string()
}

/// `new Date(milliseconds).toISOString()`: `2026-03-01T09:30:00.250Z`.
pub fn iso_time(milliseconds: i64) -> String {
    let days = milliseconds.div_euclid(86_400_000);
    let of_day = milliseconds.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000
    )
}

/// A random version-4 UUID, lowercase, as `Utilities.getUuid()` returns.
pub fn uuid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // Python: hmac.new("s3cr3t-ключ".encode(), '1767225600.{"a":"é"}'.encode(), sha256):
        // the secret and the body are UTF-8, joined to the timestamp by one dot.
        assert_eq!(
            signature("s3cr3t-ключ", "1767225600", "{\"a\":\"é\"}"),
            "sha256=41276207702a39444a952efac418fa0995977781c7a34e65473c39d7b7173960"
        );
    }

    #[test]
    fn times_are_written_like_javascript() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_772_357_400_250), "2026-03-01T09:30:00.250Z");
        assert_eq!(timestamp_header(1_772_357_400_999), "1772357400");
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(uuid(), id);
    }
}
