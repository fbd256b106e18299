//! Request authentication: `X-Sheetsync-Signature: sha256=<hex HMAC-SHA256(secret,
//! "<timestamp>.<raw body>")>` and a fresh `X-Sheetsync-Timestamp`.
//!
//! Consumes the two header values, the raw body bytes, the secret and the current time; produces
//! the accepted timestamp or a [`SignatureError`]. Guarantees: the MAC is computed over the bytes
//! exactly as received (never a re-serialisation) and compared in constant time (`hmac`'s
//! `verify_slice`, built on `subtle`), so timing reveals nothing about the expected signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-sheetsync-timestamp";
pub const SIGNATURE_HEADER: &str = "x-sheetsync-signature";
pub const SIGNATURE_SCHEME: &str = "sha256=";
/// How far the sender's clock may be from ours, either way. Bounds how long a captured request
/// could be replayed if the replay store ever forgot it.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header X-Sheetsync-Timestamp")]
    MissingTimestamp,
    #[error("header X-Sheetsync-Timestamp is not unix seconds (decimal digits)")]
    InvalidTimestamp,
    #[error("timestamp is {skew_seconds} s away from the server's clock (at most {MAX_CLOCK_SKEW_SECONDS} s allowed)")]
    StaleTimestamp { skew_seconds: i64 },
    #[error("missing header X-Sheetsync-Signature")]
    MissingSignature,
    #[error("header X-Sheetsync-Signature must start with \"sha256=\"")]
    WrongScheme,
    #[error("header X-Sheetsync-Signature must be \"sha256=\" and 64 lowercase hex digits")]
    MalformedSignature,
    #[error("signature does not match the body")]
    Mismatch,
}

/// The signature header value for `body` sent at `timestamp` (used by tests and test servers;
/// the Apps Script computes the same thing).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "{SIGNATURE_SCHEME}{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Check the headers of one request. Returns the timestamp (unix seconds) on success.
pub fn verify(
    secret: &[u8],
    timestamp_header: Option<&[u8]>,
    signature_header: Option<&[u8]>,
    body: &[u8],
    now_unix_seconds: i64,
) -> Result<i64, SignatureError> {
    let timestamp_text = timestamp_header.ok_or(SignatureError::MissingTimestamp)?;
    let timestamp = parse_timestamp(timestamp_text)?;
    let signature = signature_header.ok_or(SignatureError::MissingSignature)?;
    let expected = decode_signature(signature)?;
    let mut mac = keyed(secret);
    mac.update(timestamp_text);
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)?;
    // Freshness after authenticity: a forged request learns nothing about our clock.
    let skew_seconds = now_unix_seconds.saturating_sub(timestamp);
    if skew_seconds.unsigned_abs() > MAX_CLOCK_SKEW_SECONDS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp { skew_seconds });
    }
    Ok(timestamp)
}

fn keyed(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long keys are hashed first), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn parse_timestamp(text: &[u8]) -> Result<i64, SignatureError> {
    // At most 18 digits: fits an i64, so the skew arithmetic cannot overflow.
    if text.is_empty() || text.len() > 18 || !text.iter().all(u8::is_ascii_digit) {
        return Err(SignatureError::InvalidTimestamp);
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or(SignatureError::InvalidTimestamp)
}

fn decode_signature(header: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let digits = header
        .strip_prefix(SIGNATURE_SCHEME.as_bytes())
        .ok_or(SignatureError::WrongScheme)?;
    // Only one spelling is valid, so a signature cannot be varied to probe the comparison.
    let lowercase_hex = |byte: &u8| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte);
    if digits.len() != 64 || !digits.iter().all(lowercase_hex) {
        return Err(SignatureError::MalformedSignature);
    }
    hex::decode(digits).map_err(|_| SignatureError::MalformedSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"it's a secret";
    const NOW: i64 = 1_767_225_600;

    fn check(timestamp: &str, signature: &str, body: &[u8]) -> Result<i64, SignatureError> {
        verify(
            SECRET,
            Some(timestamp.as_bytes()),
            Some(signature.as_bytes()),
            body,
            NOW,
        )
    }

    #[test]
    fn a_signature_from_sign_verifies() {
        let signature = sign(SECRET, &NOW.to_string(), b"{}");
        assert_eq!(check(&NOW.to_string(), &signature, b"{}"), Ok(NOW));
    }

    #[test]
    fn known_answer_matches_an_independent_hmac() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") from RFC 4231-style
        // published vectors: the timestamp/body split must not change the MAC input.
        let signature = sign(b"key", "The quick brown fox jumps over the lazy dog", b"")
            .replace(SIGNATURE_SCHEME, "");
        let mut mac = keyed(b"key");
        mac.update(b"The quick brown fox jumps over the lazy dog.");
        assert_eq!(signature, hex::encode(mac.finalize().into_bytes()));
        assert_eq!(
            hex::encode({
                let mut mac = keyed(b"key");
                mac.update(b"The quick brown fox jumps over the lazy dog");
                mac.finalize().into_bytes()
            }),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn skew_is_allowed_up_to_the_bound_either_way() {
        for offset in [-MAX_CLOCK_SKEW_SECONDS, 0, MAX_CLOCK_SKEW_SECONDS] {
            let timestamp = (NOW + offset).to_string();
            assert!(check(&timestamp, &sign(SECRET, &timestamp, b"x"), b"x").is_ok());
        }
        for offset in [-MAX_CLOCK_SKEW_SECONDS - 1, MAX_CLOCK_SKEW_SECONDS + 1] {
            let timestamp = (NOW + offset).to_string();
            assert!(matches!(
                check(&timestamp, &sign(SECRET, &timestamp, b"x"), b"x"),
                Err(SignatureError::StaleTimestamp { .. })
            ));
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        let timestamp = NOW.to_string();
        let good = sign(SECRET, &timestamp, b"x");
        assert_eq!(
            check("12a", &good, b"x"),
            Err(SignatureError::InvalidTimestamp)
        );
        assert_eq!(
            check("-5", &good, b"x"),
            Err(SignatureError::InvalidTimestamp)
        );
        assert_eq!(
            check(&timestamp, &good.replace("sha256=", "sha1="), b"x"),
            Err(SignatureError::WrongScheme)
        );
        assert_eq!(
            check(
                &timestamp,
                &good.to_uppercase().replace("SHA256=", "sha256="),
                b"x"
            ),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(
            check(&timestamp, &good[..good.len() - 2], b"x"),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(
            check(&timestamp, &good, b"y"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, None, Some(good.as_bytes()), b"x", NOW),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify(SECRET, Some(timestamp.as_bytes()), None, b"x", NOW),
            Err(SignatureError::MissingSignature)
        );
    }
}
