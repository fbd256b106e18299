//! Shared helpers of the control-plane tests: an emulator whose API is a small fake (so the
//! control layer is tested on its own, whatever the data plane does), JWT signing, HTTP client.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::routing::any;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;
use sheets_emulator::{api, auth, control, EmulatorConfig, EmulatorState, SharedState};

pub const SPREADSHEETS_SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// One generated key file per test binary: RSA key generation is the slow part of a start.
pub fn shared_key_file() -> &'static Path {
    static KEY_FILE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = KEY_FILE.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("key.json");
        auth::key_file::generate(&path, "http://127.0.0.1:1").expect("generate key file");
        (directory, path)
    });
    path
}

/// The fields of a key file that tests sign with.
pub struct SigningIdentity {
    pub client_email: String,
    pub private_key_id: String,
    pub private_key: RsaPrivateKey,
}

pub fn signing_identity(path: &Path) -> SigningIdentity {
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read key file")).expect("json");
    SigningIdentity {
        client_email: file["client_email"]
            .as_str()
            .expect("client_email")
            .to_string(),
        private_key_id: file["private_key_id"]
            .as_str()
            .expect("private_key_id")
            .to_string(),
        private_key: RsaPrivateKey::from_pkcs8_pem(
            file["private_key"].as_str().expect("private_key"),
        )
        .expect("pem"),
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A signed RS256 JWT with these header and claims.
pub fn sign(header: &Value, claims: &Value, key: &RsaPrivateKey) -> String {
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// An emulator around a fake API: `GET /v4/…` answers `{"read":path}`; other methods count an
/// applied write and answer `{"applied":n}`, except a body of `fail`, which gets a 400.
pub struct TestEmulator {
    pub base_url: String,
    pub state: SharedState,
    pub identity: SigningIdentity,
    pub applied_writes: Arc<AtomicUsize>,
    pub client: reqwest::Client,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestEmulator {
    /// Trusting the shared key file (whose token_uri is not this emulator's).
    pub async fn start() -> TestEmulator {
        Self::start_with(None).await
    }

    /// Generating a key file at `path` whose token_uri is this emulator's `/token`.
    pub async fn start_generating_key(path: &Path) -> TestEmulator {
        Self::start_with(Some(path)).await
    }

    async fn start_with(generated_key_path: Option<&Path>) -> TestEmulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let config = match generated_key_path {
            Some(path) => EmulatorConfig {
                service_account_files: vec![],
                generated_key_path: Some(path.to_path_buf()),
            },
            None => EmulatorConfig {
                service_account_files: vec![shared_key_file().to_path_buf()],
                generated_key_path: None,
            },
        };
        let (auth, generated) = auth::Auth::from_config(&config, &base_url).expect("auth");
        assert_eq!(
            generated.as_deref(),
            generated_key_path,
            "a key file is generated only when none is configured"
        );
        let key_path = generated.unwrap_or_else(|| shared_key_file().to_path_buf());
        let state = Arc::new(EmulatorState {
            store: api::Store::default(),
            auth,
            control: control::Control::default(),
        });
        let applied_writes = Arc::new(AtomicUsize::new(0));
        let app = control::wrap(fake_api(applied_writes.clone()), state.clone())
            .merge(auth::routes())
            .merge(control::admin_routes())
            .with_state(state.clone());
        let (shutdown, shutdown_receiver) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = shutdown_receiver.await;
                })
                .await;
        });
        TestEmulator {
            base_url,
            state,
            identity: signing_identity(&key_path),
            applied_writes,
            client: client(),
            shutdown,
        }
    }

    pub fn stop(self) {
        let _ = self.shutdown.send(());
    }

    /// Claims of a valid assertion for this emulator, to be altered by the error tests.
    pub fn valid_claims(&self) -> Value {
        let now = now();
        json!({
            "iss": self.identity.client_email,
            "scope": SPREADSHEETS_SCOPE,
            "aud": format!("{}/token", self.base_url),
            "iat": now,
            "exp": now + 3600,
        })
    }

    pub fn valid_header(&self) -> Value {
        json!({ "alg": "RS256", "typ": "JWT", "kid": self.identity.private_key_id })
    }

    /// POST /token with this form; returns status and JSON body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/token", self.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(form))
            .send()
            .await
            .expect("POST /token");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    pub async fn exchange(&self, header: &Value, claims: &Value) -> (u16, Value) {
        let assertion = sign(header, claims, &self.identity.private_key);
        self.token_request(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
        ])
        .await
    }

    /// A valid access token, got through `/token`.
    pub async fn token(&self) -> String {
        let (status, body) = self
            .exchange(&self.valid_header(), &self.valid_claims())
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("API call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn read(&self, token: &str) -> (u16, Value) {
        self.call(Method::GET, "/v4/spreadsheets/abc", Some(token), "")
            .await
    }

    pub async fn write(&self, token: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            "/v4/spreadsheets/abc/values:batchUpdate",
            Some(token),
            "{}",
        )
        .await
    }

    pub fn applied(&self) -> usize {
        self.applied_writes.load(Ordering::SeqCst)
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/_emulator/{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// `application/x-www-form-urlencoded` (reqwest's `form` feature is not enabled in the workspace).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(byte).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn fake_api(applied_writes: Arc<AtomicUsize>) -> Router<SharedState> {
    Router::new().route(
        "/v4/{*rest}",
        any(move |request: Request| {
            let applied_writes = applied_writes.clone();
            async move {
                let method = request.method().clone();
                let path = request.uri().path().to_string();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                if method == Method::GET {
                    return (StatusCode::OK, Json(json!({ "read": path })));
                }
                if body.as_ref() == b"fail" {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({ "error": { "code": 400 } })),
                    );
                }
                let applied = applied_writes.fetch_add(1, Ordering::SeqCst) + 1;
                (StatusCode::OK, Json(json!({ "applied": applied })))
            }
        }),
    )
}
