//! Verifying a service-account JWT assertion (RFC 7523) the way Google's token endpoint does.
//!
//! Error descriptions start with the text Google sends for the same mistake, so a client's
//! error looks familiar, and end with what exactly was wrong, so a failing test says why.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::Deserialize;
use sha2::Sha256;

use super::key_file::TrustedKey;
use super::oauth_error::OAuthError;

/// Scopes that grant access to the Sheets API: reading and writing.
pub const WRITE_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
];
/// Scopes that grant read-only access to the Sheets API.
pub const READ_ONLY_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
];
/// Google rejects assertions valid for longer than an hour.
const MAX_LIFETIME_SECONDS: i64 = 3600;
/// Clock skew tolerated between the client and the emulator.
const ALLOWED_SKEW_SECONDS: i64 = 60;
const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<String>,
    scope: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
}

/// Who a valid assertion speaks for and what it asked for.
#[derive(Debug, Clone)]
pub struct VerifiedAssertion {
    pub client_email: String,
    pub scopes: Vec<String>,
}

/// Check `assertion` against the trusted keys. `audiences` are the accepted `aud` values;
/// `now` is Unix seconds.
pub fn verify(
    assertion: &str,
    keys: &[TrustedKey],
    audiences: &[String],
    now: i64,
) -> Result<VerifiedAssertion, OAuthError> {
    let segments: Vec<&str> = assertion.split('.').collect();
    let [header_segment, claims_segment, signature_segment] = segments[..] else {
        return Err(malformed(format!(
            "a JWT has three base64url segments separated by '.', this assertion has {}",
            segments.len()
        )));
    };
    let header: Header = decode_json(header_segment, "header")?;
    let claims: Claims = decode_json(claims_segment, "claim set")?;
    if header.alg.as_deref() != Some("RS256") {
        return Err(malformed(format!(
            "service-account assertions are signed with RS256, this one says alg {:?}",
            header.alg.unwrap_or_default()
        )));
    }
    let Some(issuer) = claims.iss else {
        return Err(malformed(
            "the claim set has no iss (the service account's client_email)".into(),
        ));
    };
    let key = find_key(keys, &issuer, header.kid.as_deref())?;
    verify_signature(key, header_segment, claims_segment, signature_segment)?;
    check_audience(claims.aud.as_deref(), audiences)?;
    check_times(claims.iat, claims.exp, now)?;
    let scopes = check_scopes(claims.scope.as_deref())?;
    Ok(VerifiedAssertion {
        client_email: issuer,
        scopes,
    })
}

fn malformed(detail: String) -> OAuthError {
    OAuthError::invalid_grant(format!("Invalid JWT: {detail}."))
}

fn decode_json<T: serde::de::DeserializeOwned>(segment: &str, what: &str) -> Result<T, OAuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|error| malformed(format!("the {what} is not base64url ({error})")))?;
    serde_json::from_slice(&bytes)
        .map_err(|error| malformed(format!("the {what} is not the expected JSON ({error})")))
}

/// Pick the key by `kid` when the client sent one (google-auth and yup-oauth2 do), else try the
/// issuer's keys in turn (an account may have several).
fn find_key<'a>(
    keys: &'a [TrustedKey],
    issuer: &str,
    kid: Option<&str>,
) -> Result<&'a TrustedKey, OAuthError> {
    let issuer_keys: Vec<&TrustedKey> = keys
        .iter()
        .filter(|key| key.client_email == issuer)
        .collect();
    if issuer_keys.is_empty() {
        return Err(OAuthError::invalid_grant(format!(
            "Invalid grant: account not found. (iss {issuer:?} is not a trusted service account of this emulator)"
        )));
    }
    match kid {
        Some(kid) => issuer_keys
            .into_iter()
            .find(|key| key.private_key_id.as_deref() == Some(kid))
            .ok_or_else(|| {
                OAuthError::invalid_grant(format!(
                    "Invalid JWT Signature. (kid {kid:?} is not a private_key_id of {issuer})"
                ))
            }),
        // Without a kid the signature check below decides; a single key is by far the usual case.
        None => Ok(issuer_keys[0]),
    }
}

fn verify_signature(
    key: &TrustedKey,
    header: &str,
    claims: &str,
    signature: &str,
) -> Result<(), OAuthError> {
    let bad_signature =
        |detail: &str| OAuthError::invalid_grant(format!("Invalid JWT Signature. ({detail})"));
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| bad_signature("the signature is not base64url"))?;
    let signature = Signature::try_from(signature_bytes.as_slice())
        .map_err(|_| bad_signature("the signature is malformed"))?;
    let verifying_key = VerifyingKey::<Sha256>::new(key.public_key.clone());
    let signed = format!("{header}.{claims}");
    verifying_key
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            bad_signature(&format!(
                "RS256 verification failed with the trusted key of {}",
                key.client_email
            ))
        })
}

fn check_audience(audience: Option<&str>, accepted: &[String]) -> Result<(), OAuthError> {
    let expected = accepted.first().map(String::as_str).unwrap_or_default();
    match audience {
        Some(audience) if accepted.iter().any(|candidate| candidate == audience) => Ok(()),
        actual => Err(OAuthError::invalid_grant(format!(
            "Invalid JWT: Failed audience check. The expected value was: {expected}, but the actual value was: {}",
            actual.unwrap_or("(none)")
        ))),
    }
}

fn check_times(iat: Option<i64>, exp: Option<i64>, now: i64) -> Result<(), OAuthError> {
    let (Some(iat), Some(exp)) = (iat, exp) else {
        return Err(malformed(
            "the claim set needs both iat and exp (Unix seconds)".into(),
        ));
    };
    let problem = if exp <= iat {
        Some(format!("exp {exp} is not after iat {iat}"))
    } else if exp - iat > MAX_LIFETIME_SECONDS {
        Some(format!(
            "exp - iat is {} s, more than {MAX_LIFETIME_SECONDS} s",
            exp - iat
        ))
    } else if iat > now + ALLOWED_SKEW_SECONDS {
        Some(format!("iat {iat} is in the future (now {now})"))
    } else if exp < now - ALLOWED_SKEW_SECONDS {
        Some(format!("the assertion expired at {exp} (now {now})"))
    } else {
        None
    };
    match problem {
        Some(detail) => Err(OAuthError::invalid_grant(format!(
            "{SHORT_LIVED} ({detail})"
        ))),
        None => Ok(()),
    }
}

fn check_scopes(scope: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let scopes: Vec<String> = scope
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let grants_sheets = scopes.iter().any(|scope| {
        WRITE_SCOPES.contains(&scope.as_str()) || READ_ONLY_SCOPES.contains(&scope.as_str())
    });
    if grants_sheets {
        return Ok(scopes);
    }
    Err(OAuthError::new(
        "invalid_scope",
        format!(
            "Invalid OAuth scope or ID token audience provided. (scope {:?} grants no access to the Sheets API; use {})",
            scope.unwrap_or_default(),
            WRITE_SCOPES[0]
        ),
    ))
}
