//! Service-account key files: loading the trusted ones and generating a throwaway one.
//!
//! The generated file has every field of a key file downloaded from the Cloud console, so
//! yup-oauth2, google-auth and gspread read it unchanged; only `token_uri` (and `auth_uri`)
//! point at this emulator instead of Google.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use rand::Rng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Deserialize;
use serde_json::json;

/// The account name used for a generated key.
pub const GENERATED_CLIENT_EMAIL: &str = "sheets-emulator@sheets-emulator.iam.gserviceaccount.com";
const GENERATED_PROJECT_ID: &str = "sheets-emulator";

/// A service-account public key whose signatures the token endpoint accepts.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub client_email: String,
    /// The key file's `private_key_id`; clients send it as the JWT header's `kid`.
    pub private_key_id: Option<String>,
    pub public_key: RsaPublicKey,
    /// The key file's `token_uri`: clients use it as the JWT `aud`, so it is accepted too.
    pub token_uri: Option<String>,
}

/// The fields of a key file that the emulator needs; the rest are ignored.
#[derive(Deserialize)]
struct KeyFileFields {
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// Read a service-account JSON key file and keep its public key.
pub fn load(path: &Path) -> anyhow::Result<TrustedKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading service-account key file {}", path.display()))?;
    let fields: KeyFileFields = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a service-account key file (needs client_email and private_key)",
            path.display()
        )
    })?;
    let private_key = RsaPrivateKey::from_pkcs8_pem(&fields.private_key).map_err(|error| {
        anyhow!(
            "{}: private_key is not a PKCS#8 RSA key: {error}",
            path.display()
        )
    })?;
    Ok(TrustedKey {
        client_email: fields.client_email,
        private_key_id: fields.private_key_id,
        public_key: private_key.to_public_key(),
        token_uri: fields.token_uri,
    })
}

/// Generate an RSA 2048 key, write a complete key file for it at `path` (mode 0600 on Unix,
/// as it holds a private key) and return the key to trust.
pub fn generate(path: &Path, base_url: &str) -> anyhow::Result<TrustedKey> {
    let mut rng = rand::rngs::OsRng;
    let private_key = RsaPrivateKey::new(&mut rng, 2048).context("generating an RSA key")?;
    let pem = private_key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| anyhow!("encoding the generated key as PKCS#8: {error}"))?;
    let private_key_id: String = (0..20)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect();
    let client_id: String = (0..21)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    let token_uri = format!("{base_url}/token");
    let file = json!({
        "type": "service_account",
        "project_id": GENERATED_PROJECT_ID,
        "private_key_id": private_key_id,
        "private_key": pem.as_str(),
        "client_email": GENERATED_CLIENT_EMAIL,
        "client_id": client_id,
        "auth_uri": format!("{base_url}/o/oauth2/auth"),
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/sheets-emulator%40sheets-emulator.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    });
    write_private(path, &serde_json::to_vec_pretty(&file)?)
        .with_context(|| format!("writing the generated key file {}", path.display()))?;
    Ok(TrustedKey {
        client_email: GENERATED_CLIENT_EMAIL.to_string(),
        private_key_id: Some(private_key_id),
        public_key: private_key.to_public_key(),
        token_uri: Some(token_uri),
    })
}

/// Where to write a generated key when the config names no path: unique per process and port,
/// so parallel emulators never share a file.
pub fn default_path(base_url: &str) -> PathBuf {
    let port = base_url.rsplit(':').next().unwrap_or("0");
    std::env::temp_dir().join(format!(
        "sheets-emulator-key-{}-{port}.json",
        std::process::id()
    ))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.flush()
}
