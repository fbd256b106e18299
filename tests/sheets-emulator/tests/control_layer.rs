//! The control layer around API calls: authentication, scopes, classification, request log.

mod control_support;

use std::time::Duration;

use axum::http::Method;
use control_support::TestEmulator;
use sheets_emulator::auth::{TokenIdentity, TOKEN_LIFETIME};
use sheets_emulator::control::RequestClass;

const MISSING_MESSAGE: &str = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const INVALID_MESSAGE: &str = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

#[tokio::test]
async fn a_call_without_a_token_gets_googles_401() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator
        .call(Method::GET, "/v4/spreadsheets/abc", None, "")
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["message"], MISSING_MESSAGE);
    assert_eq!(body["error"]["details"][0]["reason"], "CREDENTIALS_MISSING");
    assert_eq!(emulator.applied(), 0);
    emulator.stop();
}

#[tokio::test]
async fn an_unknown_token_gets_401_with_a_challenge() {
    let emulator = TestEmulator::start().await;
    let response = emulator
        .client
        .post(format!(
            "{}/v4/spreadsheets/abc:batchUpdate",
            emulator.base_url
        ))
        .bearer_auth("ya29.not-issued-here")
        .body("{}")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status().as_u16(), 401);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .expect("challenge")
        .to_str()
        .expect("text");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["message"], INVALID_MESSAGE);
    assert_eq!(emulator.applied(), 0);
    emulator.stop();
}

#[tokio::test]
async fn a_malformed_authorization_header_gets_401() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    for header in [
        format!("Basic {token}"),
        token.clone(),
        format!("Bearer {token} extra"),
    ] {
        let response = emulator
            .client
            .get(format!("{}/v4/spreadsheets/abc", emulator.base_url))
            .header("authorization", header.as_str())
            .send()
            .await
            .expect("call");
        assert_eq!(response.status().as_u16(), 401, "{header}");
    }
    emulator.stop();
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_401() {
    let emulator = TestEmulator::start().await;
    let identity = TokenIdentity {
        client_email: emulator.identity.client_email.clone(),
        scopes: vec![control_support::SPREADSHEETS_SCOPE.to_string()],
    };
    let short_lived = emulator
        .state
        .auth
        .issue_token(identity, Duration::from_millis(50));
    assert_eq!(emulator.read(&short_lived).await.0, 200);
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (status, body) = emulator.read(&short_lived).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], INVALID_MESSAGE);

    let token = emulator.token().await;
    let (status, _) = emulator.admin(Method::POST, "tokens/expire", None).await;
    assert_eq!(status, 204);
    assert_eq!(emulator.read(&token).await.0, 401);
    let fresh = emulator.token().await;
    assert_eq!(emulator.read(&fresh).await.0, 200);
    let (status, _) = emulator.admin(Method::DELETE, "tokens", None).await;
    assert_eq!(status, 204);
    assert_eq!(emulator.read(&fresh).await.0, 401);
    emulator.stop();
}

#[tokio::test]
async fn a_read_only_token_may_read_but_not_write() {
    let emulator = TestEmulator::start().await;
    let identity = TokenIdentity {
        client_email: emulator.identity.client_email.clone(),
        scopes: vec!["https://www.googleapis.com/auth/spreadsheets.readonly".to_string()],
    };
    let token = emulator.state.auth.issue_token(identity, TOKEN_LIFETIME);
    assert_eq!(emulator.read(&token).await.0, 200);
    let (status, body) = emulator.write(&token).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(
        body["error"]["message"],
        "Request had insufficient authentication scopes."
    );
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
    assert_eq!(emulator.applied(), 0);
    emulator.stop();
}

#[tokio::test]
async fn reading_posts_count_as_reads() {
    assert_eq!(
        RequestClass::of(&Method::GET, "/v4/spreadsheets/a/values/A1"),
        RequestClass::Read
    );
    for path in [
        "/v4/spreadsheets/a/developerMetadata:search",
        "/v4/spreadsheets/a/values:batchGetByDataFilter",
        "/v4/spreadsheets/a:getByDataFilter",
    ] {
        assert_eq!(
            RequestClass::of(&Method::POST, path),
            RequestClass::Read,
            "{path}"
        );
    }
    for (method, path) in [
        (Method::POST, "/v4/spreadsheets"),
        (Method::POST, "/v4/spreadsheets/a:batchUpdate"),
        (Method::PUT, "/v4/spreadsheets/a/values/A1"),
        (Method::POST, "/v4/spreadsheets/a/values/A1:append"),
        (
            Method::POST,
            "/v4/spreadsheets/a/values:batchUpdateByDataFilter",
        ),
    ] {
        assert_eq!(
            RequestClass::of(&method, path),
            RequestClass::Write,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn the_log_records_each_call() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    let since = emulator.state.control.last_seq();
    emulator
        .call(
            Method::PUT,
            "/v4/spreadsheets/abc/values/Sheet1!A1?valueInputOption=RAW",
            Some(&token),
            r#"{"values":[[1]]}"#,
        )
        .await;
    emulator
        .call(Method::GET, "/v4/spreadsheets/abc", None, "")
        .await;
    let log = emulator.state.control.requests(Some(since));
    assert_eq!(log.len(), 2);
    let write = &log[0];
    assert_eq!(write.method, "PUT");
    assert_eq!(write.path, "/v4/spreadsheets/abc/values/Sheet1!A1");
    assert_eq!(write.query, "valueInputOption=RAW");
    assert_eq!(write.body, r#"{"values":[[1]]}"#);
    assert_eq!(write.body_bytes, 16);
    assert_eq!(write.status, 200);
    assert_eq!(write.class, RequestClass::Write);
    assert_eq!(
        write.client_email.as_deref(),
        Some(emulator.identity.client_email.as_str())
    );
    assert_eq!(write.fault, None);
    let unauthenticated = &log[1];
    assert_eq!(
        (unauthenticated.status, unauthenticated.class),
        (401, RequestClass::Read)
    );
    assert_eq!(unauthenticated.client_email, None);
    assert_eq!(unauthenticated.seq, write.seq + 1);
    let summary = emulator.state.control.summary();
    assert_eq!(summary.total, 2);
    assert_eq!(summary.by_status.get("401"), Some(&1));
    assert_eq!(summary.by_class_and_status["write"]["200"], 1);
    emulator.stop();
}

#[tokio::test]
async fn the_real_router_puts_every_api_path_behind_the_control_layer() {
    let config = sheets_emulator::EmulatorConfig {
        service_account_files: vec![control_support::shared_key_file().to_path_buf()],
        generated_key_path: None,
    };
    let emulator = sheets_emulator::start("127.0.0.1:0".parse().expect("address"), config)
        .await
        .expect("start");
    let client = control_support::client();
    let url = format!(
        "{}/v4/spreadsheets/no-such-spreadsheet/values/A1:unknownMethod",
        emulator.base_url
    );
    let response = client.get(&url).send().await.expect("call");
    assert_eq!(
        response.status().as_u16(),
        401,
        "even a path the API does not serve needs a token"
    );
    let identity = TokenIdentity {
        client_email: control_support::signing_identity(control_support::shared_key_file())
            .client_email,
        scopes: vec![control_support::SPREADSHEETS_SCOPE.to_string()],
    };
    let token = emulator.state.auth.issue_token(identity, TOKEN_LIFETIME);
    let response = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("call");
    assert_eq!(response.status().as_u16(), 404);
    let statuses: Vec<u16> = emulator
        .state
        .control
        .requests(None)
        .iter()
        .map(|entry| entry.status)
        .collect();
    assert_eq!(statuses, [401, 404]);
    // The admin API and /token stay outside the layer.
    let response = client
        .get(format!("{}/_emulator/summary", emulator.base_url))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status().as_u16(), 200);
    emulator.shutdown().await;
}
