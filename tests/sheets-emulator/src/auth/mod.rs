//! Service-account authentication: the OAuth token endpoint (`POST /token`, JWT-bearer grant)
//! and the bearer tokens it issues.
//!
//! Clients sign a JWT with their key file's private key and send it to the key file's
//! `token_uri`; the emulator checks it against the trusted public keys and answers with a random
//! `ya29.` access token valid for an hour. The control layer then checks that token on every API
//! call ([`Auth::authenticate`]).

pub mod assertion;
pub mod key_file;
pub mod oauth_error;
mod token_endpoint;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::routing::{delete, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;

use crate::{EmulatorConfig, SharedState};
pub use key_file::TrustedKey;

/// How long an issued access token is valid, as Google's (`expires_in` says 3599).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Google's token endpoint URLs, which Google accepts as the JWT `aud`.
pub const GOOGLE_TOKEN_AUDIENCES: [&str; 3] = [
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
];

/// Who made an API call: the service account a token was issued to, and the granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenIdentity {
    pub client_email: String,
    pub scopes: Vec<String>,
}

impl TokenIdentity {
    /// Whether the scopes allow a write (`spreadsheets`, `drive`, `drive.file`) or only reads.
    pub fn may_write(&self) -> bool {
        self.scopes
            .iter()
            .any(|scope| assertion::WRITE_SCOPES.contains(&scope.as_str()))
    }
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerRejection {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A token this emulator never issued (or revoked), or a malformed header.
    Invalid,
    /// A token past its expiry.
    Expired,
}

struct IssuedToken {
    identity: TokenIdentity,
    expires_at: Instant,
}

/// Trusted keys and issued tokens.
pub struct Auth {
    keys: Vec<TrustedKey>,
    /// Accepted JWT audiences: this emulator's `/token` URL first, then the trusted files'
    /// `token_uri`s, then Google's own token endpoint URLs.
    audiences: Vec<String>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    /// A generated key file this `Auth` put in the temp directory itself: removed on drop, so
    /// test runs leave no private keys behind. A file at a path the caller chose is the caller's.
    temporary_key_file: Option<PathBuf>,
}

impl Drop for Auth {
    fn drop(&mut self) {
        if let Some(path) = &self.temporary_key_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Auth {
    /// Trust the configured key files, or generate a key and write its file (returning the path).
    pub fn from_config(
        config: &EmulatorConfig,
        base_url: &str,
    ) -> anyhow::Result<(Auth, Option<PathBuf>)> {
        let mut keys = Vec::new();
        for path in &config.service_account_files {
            keys.push(key_file::load(path)?);
        }
        if !keys.is_empty() {
            return Ok((Auth::with_keys(keys, base_url), None));
        }
        let path = config
            .generated_key_path
            .clone()
            .unwrap_or_else(|| key_file::default_path(base_url));
        keys.push(key_file::generate(&path, base_url)?);
        let mut auth = Auth::with_keys(keys, base_url);
        if config.generated_key_path.is_none() {
            auth.temporary_key_file = Some(path.clone());
        }
        Ok((auth, Some(path)))
    }

    /// An `Auth` trusting exactly `keys`.
    pub fn with_keys(keys: Vec<TrustedKey>, base_url: &str) -> Auth {
        let mut audiences = vec![format!("{base_url}/token")];
        // google-auth (Python) always signs for Google's endpoint whatever the key file's
        // token_uri says (it only POSTs to token_uri), and Google accepts its older URLs too.
        let google_audiences = GOOGLE_TOKEN_AUDIENCES
            .iter()
            .map(|audience| audience.to_string());
        for token_uri in keys
            .iter()
            .filter_map(|key| key.token_uri.clone())
            .chain(google_audiences)
        {
            if !audiences.contains(&token_uri) {
                audiences.push(token_uri);
            }
        }
        Auth {
            keys,
            audiences,
            tokens: Mutex::new(HashMap::new()),
            temporary_key_file: None,
        }
    }

    /// The service accounts whose assertions are accepted.
    pub fn trusted_accounts(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| key.client_email.clone())
            .collect()
    }

    /// Issue a fresh access token for `identity`, valid for `lifetime`. The token endpoint uses
    /// it; tests may too, to skip the JWT dance or to get a short-lived token.
    pub fn issue_token(&self, identity: TokenIdentity, lifetime: Duration) -> String {
        let mut random = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let token = format!("ya29.{}", URL_SAFE_NO_PAD.encode(random));
        let issued = IssuedToken {
            identity,
            expires_at: Instant::now() + lifetime,
        };
        self.lock_tokens().insert(token.clone(), issued);
        token
    }

    /// A token for the first trusted account with the `spreadsheets` scope, valid for an hour:
    /// for tests that exercise the API rather than authentication. `None` with no trusted key.
    pub fn issue_full_access_token(&self) -> Option<String> {
        let account = self.keys.first()?.client_email.clone();
        let identity = TokenIdentity {
            client_email: account,
            scopes: vec![assertion::WRITE_SCOPES[0].to_string()],
        };
        Some(self.issue_token(identity, TOKEN_LIFETIME))
    }

    /// Check an `Authorization` header value.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<TokenIdentity, BearerRejection> {
        let Some(header) = authorization else {
            return Err(BearerRejection::Missing);
        };
        let mut words = header.split_whitespace();
        let (Some(scheme), Some(token), None) = (words.next(), words.next(), words.next()) else {
            return Err(BearerRejection::Invalid);
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BearerRejection::Invalid);
        }
        let tokens = self.lock_tokens();
        let issued = tokens.get(token).ok_or(BearerRejection::Invalid)?;
        if issued.expires_at <= Instant::now() {
            return Err(BearerRejection::Expired);
        }
        Ok(issued.identity.clone())
    }

    /// Make every issued token expired (clients must fetch new ones).
    pub fn expire_all_tokens(&self) {
        let now = Instant::now();
        for issued in self.lock_tokens().values_mut() {
            issued.expires_at = now;
        }
    }

    /// Forget every issued token (they become invalid).
    pub fn revoke_all_tokens(&self) {
        self.lock_tokens().clear();
    }

    fn verify_assertion(
        &self,
        assertion: &str,
        now: i64,
    ) -> Result<assertion::VerifiedAssertion, oauth_error::OAuthError> {
        assertion::verify(assertion, &self.keys, &self.audiences, now)
    }

    /// The token map. A panic while holding the lock cannot leave it inconsistent (every update
    /// is a single insert or assignment), so a poisoned lock is still usable.
    fn lock_tokens(&self) -> MutexGuard<'_, HashMap<String, IssuedToken>> {
        self.tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `POST /token`, plus `/_emulator/tokens` to expire or revoke the issued tokens.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/token", post(token_endpoint::token))
        .route("/_emulator/tokens", delete(token_endpoint::revoke_all))
        .route("/_emulator/tokens/expire", post(token_endpoint::expire_all))
}
