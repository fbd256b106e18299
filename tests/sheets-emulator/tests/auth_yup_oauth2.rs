//! The generated key file works with yup-oauth2, the client sheetsync uses, and with the real
//! `start()`; key generation stays fast.

mod control_support;

use std::time::{Duration, Instant};

use control_support::{TestEmulator, SPREADSHEETS_SCOPE};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sheets_emulator::EmulatorConfig;
use yup_oauth2::{CustomHyperClientBuilder, ServiceAccountAuthenticator};

/// A yup-oauth2 authenticator over plain HTTP: no CA certificates needed on the host.
async fn authenticator(
    key_file: &std::path::Path,
) -> yup_oauth2::authenticator::Authenticator<HttpConnector> {
    let key = yup_oauth2::read_service_account_key(key_file)
        .await
        .expect("read key file");
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build::<_, String>(HttpConnector::new());
    ServiceAccountAuthenticator::with_client(key, CustomHyperClientBuilder::from(client))
        .build()
        .await
        .expect("authenticator")
}

#[tokio::test]
async fn yup_oauth2_gets_a_token_that_the_api_accepts() {
    let directory = tempfile::tempdir().expect("temp dir");
    let emulator = TestEmulator::start_generating_key(&directory.path().join("key.json")).await;
    let authenticator = authenticator(&directory.path().join("key.json")).await;
    let token = authenticator
        .token(&[SPREADSHEETS_SCOPE])
        .await
        .expect("token");
    let token = token.token().expect("access token").to_string();
    assert!(token.starts_with("ya29."));
    let (status, body) = emulator.read(&token).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = emulator.write(&token).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.applied(), 1);
    let log = emulator.state.control.requests(None);
    assert!(log.iter().all(
        |entry| entry.client_email.as_deref() == Some(emulator.identity.client_email.as_str())
    ));
    emulator.stop();
}

#[tokio::test]
async fn start_generates_a_complete_key_file() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("generated.json");
    let config = EmulatorConfig {
        service_account_files: vec![],
        generated_key_path: Some(path.clone()),
    };
    let started = Instant::now();
    let emulator = sheets_emulator::start("127.0.0.1:0".parse().expect("address"), config)
        .await
        .expect("start");
    let elapsed = started.elapsed();
    eprintln!("start() with RSA 2048 key generation took {elapsed:?}");
    // A bound against a hang, not a speed target: RSA 2048 generation in a debug build takes
    // from under a second to several on a loaded 2-core machine (5 s failed a CI rehearsal).
    assert!(
        elapsed < Duration::from_secs(60),
        "key generation took {elapsed:?}"
    );
    assert_eq!(emulator.key_file.as_deref(), Some(path.as_path()));
    assert!(emulator.state.auth.trusted_accounts().len() == 1);

    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(file["type"], "service_account");
    assert_eq!(file["token_uri"], format!("{}/token", emulator.base_url));
    assert!(file["private_key"]
        .as_str()
        .expect("pem")
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    for field in [
        "project_id",
        "private_key_id",
        "client_email",
        "client_id",
        "auth_uri",
        "client_x509_cert_url",
    ] {
        assert!(
            file[field].as_str().is_some_and(|value| !value.is_empty()),
            "{field} missing"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key file is readable by others: {mode:o}"
        );
    }

    let authenticator = authenticator(&path).await;
    let token = authenticator
        .token(&[SPREADSHEETS_SCOPE])
        .await
        .expect("token");
    let response = reqwest::Client::new()
        .get(format!("{}/v4/spreadsheets/none", emulator.base_url))
        .bearer_auth(token.token().expect("access token"))
        .send()
        .await
        .expect("call");
    assert_ne!(
        response.status().as_u16(),
        401,
        "the real router accepts the token"
    );
    emulator.shutdown().await;
    assert!(
        path.exists(),
        "a key file at a path the caller chose is the caller's to remove"
    );
}

#[tokio::test]
async fn start_without_a_path_writes_the_key_to_the_temp_directory() {
    let emulator = sheets_emulator::start(
        "127.0.0.1:0".parse().expect("address"),
        EmulatorConfig::default(),
    )
    .await
    .expect("start");
    let path = emulator.key_file.clone().expect("generated key file");
    assert!(path.starts_with(std::env::temp_dir()));
    assert!(path.exists());
    let token = emulator
        .state
        .auth
        .issue_full_access_token()
        .expect("a trusted account");
    let response = control_support::client()
        .get(format!("{}/v4/spreadsheets/none", emulator.base_url))
        .bearer_auth(token)
        .send()
        .await
        .expect("call");
    assert_eq!(
        response.status().as_u16(),
        404,
        "authenticated, and no such spreadsheet"
    );
    emulator.shutdown().await;
    // Once the last reference to the state goes (connection tasks end just after the server),
    // the Auth removes the key file it put in the temp directory.
    let deadline = Instant::now() + Duration::from_secs(5);
    while path.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!path.exists(), "the temporary key file was left behind");
}

#[tokio::test]
async fn an_unreadable_key_file_fails_the_start() {
    let directory = tempfile::tempdir().expect("temp dir");
    let bad = directory.path().join("bad.json");
    std::fs::write(&bad, r#"{"client_email":"a@b","private_key":"not a pem"}"#).expect("write");
    let config = EmulatorConfig {
        service_account_files: vec![bad],
        generated_key_path: None,
    };
    let error = sheets_emulator::start("127.0.0.1:0".parse().expect("address"), config)
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("not a PKCS#8 RSA key"),
        "{error}"
    );
    let missing = EmulatorConfig {
        service_account_files: vec![directory.path().join("missing.json")],
        generated_key_path: None,
    };
    assert!(
        sheets_emulator::start("127.0.0.1:0".parse().expect("address"), missing)
            .await
            .is_err()
    );
}
