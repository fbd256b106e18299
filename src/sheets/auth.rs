//! Service-account authentication: the key file, the OAuth 2.0 JWT-bearer grant against the
//! key's own `token_uri` (Google's, or the emulator's in tests), and access tokens cached and
//! refreshed by yup-oauth2 (within 60 s of expiry).
//!
//! Also the TLS setup shared with the API client: rustls with ring (the one crypto backend of
//! the workspace), Mozilla's roots compiled in plus the host's when it has any. So `https://`
//! works in a container without CA certificates, and `http://` (the emulator) needs none.

use std::path::Path;
use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use yup_oauth2::authenticator::Authenticator;
use yup_oauth2::{CustomHyperClientBuilder, ServiceAccountAuthenticator, ServiceAccountKey};

use super::error::{from_oauth, SheetsError};

/// The one scope sheetsync needs: read and write the spreadsheets shared with the account.
pub const SPREADSHEETS_SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";

/// Install ring as rustls' process-wide provider (reqwest is built without one). Installing
/// twice is harmless: the second attempt reports "already installed", which is fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls client config with ring, Mozilla's roots and the host's roots, no ALPN set.
pub fn tls_config() -> Result<rustls::ClientConfig, SheetsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // The host's roots matter behind TLS-inspecting proxies; a host without any is fine.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| SheetsError::Config(format!("tls: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Read and check a service-account key file; errors name the file.
pub async fn read_key_file(path: &Path) -> Result<ServiceAccountKey, SheetsError> {
    let key_file_error = |message: String| SheetsError::KeyFile {
        path: path.to_path_buf(),
        message,
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|error| key_file_error(format!("cannot read it: {error}")))?;
    let key = yup_oauth2::parse_service_account_key(&text).map_err(|error| {
        key_file_error(format!(
            "not a service-account key (JSON with client_email, private_key, token_uri): {error}"
        ))
    })?;
    if key.token_uri.is_empty() {
        return Err(key_file_error("token_uri is empty".into()));
    }
    Ok(key)
}

/// Access tokens for one service account.
#[derive(Clone)]
pub struct TokenSource {
    authenticator: Authenticator<HttpsConnector<HttpConnector>>,
    client_email: String,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenSource")
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// Read the key file and build the token source; `tls` must have no ALPN protocols
    /// (hyper-rustls sets its own). No token is fetched yet. `timeout` bounds each token
    /// request, so a stalled token endpoint is a transient error, not a hang.
    pub async fn from_key_file(
        path: &Path,
        tls: rustls::ClientConfig,
        timeout: std::time::Duration,
    ) -> Result<TokenSource, SheetsError> {
        let key = read_key_file(path).await?;
        let client_email = key.client_email.clone();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, String>(connector);
        let authenticator =
            ServiceAccountAuthenticator::with_client(key, CustomHyperClientBuilder::from(client))
                .with_timeout(timeout)
                .build()
                .await
                .map_err(|error| SheetsError::KeyFile {
                    path: path.to_path_buf(),
                    message: format!("unusable key: {error}"),
                })?;
        Ok(TokenSource {
            authenticator,
            client_email,
        })
    }

    /// The service account's email: the "user" Google's quota counts against.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// A valid access token (cached; fetched from `token_uri` when missing or near expiry).
    pub async fn token(&self) -> Result<String, SheetsError> {
        let token = self
            .authenticator
            .token(&[SPREADSHEETS_SCOPE])
            .await
            .map_err(from_oauth)?;
        token
            .token()
            .map(str::to_string)
            .ok_or_else(|| SheetsError::Auth {
                message: "the token endpoint answered without an access token".into(),
                transient: false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_config_builds_without_alpn() {
        let config = tls_config().expect("tls config");
        assert!(config.alpn_protocols.is_empty());
    }

    #[tokio::test]
    async fn key_file_errors_name_the_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("key.json");
        let error = read_key_file(&path).await.expect_err("missing");
        assert!(error.to_string().contains("key.json"), "{error}");
        std::fs::write(&path, "not json").expect("write");
        let error = read_key_file(&path).await.expect_err("not json");
        assert!(
            error.to_string().contains("not a service-account key"),
            "{error}"
        );
        assert!(!error.is_transient());
    }
}
