//! `POST /token`: the service-account JWT grant, its success and every refusal.

mod control_support;

use control_support::{now, sign, TestEmulator, SPREADSHEETS_SCOPE};
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn assert_refused(status: u16, body: &Value, error: &str, description_start: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(
        description.starts_with(description_start),
        "{description:?} should start with {description_start:?}"
    );
}

#[tokio::test]
async fn a_valid_assertion_gets_a_bearer_token_for_an_hour() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator
        .exchange(&emulator.valid_header(), &emulator.valid_claims())
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"]
        .as_str()
        .expect("token")
        .starts_with("ya29."));
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(emulator.read(token).await.0, 200);
    emulator.stop();
}

#[tokio::test]
async fn tokens_are_random_and_distinct() {
    let emulator = TestEmulator::start().await;
    let first = emulator.token().await;
    let second = emulator.token().await;
    assert_ne!(first, second);
    assert!(first.len() > 40);
    emulator.stop();
}

#[tokio::test]
async fn an_assertion_without_kid_is_checked_against_the_issuers_key() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator
        .exchange(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &emulator.valid_claims(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    emulator.stop();
}

#[tokio::test]
async fn the_key_files_token_uri_is_an_accepted_audience() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    // The shared key file was generated for http://127.0.0.1:1.
    claims["aud"] = json!("http://127.0.0.1:1/token");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_eq!(status, 200, "{body}");
    emulator.stop();
}

#[tokio::test]
async fn googles_token_endpoint_is_an_accepted_audience() {
    // google-auth signs for Google's endpoint even when token_uri points elsewhere.
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["aud"] = json!("https://oauth2.googleapis.com/token");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_eq!(status, 200, "{body}");
    emulator.stop();
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let emulator = TestEmulator::start().await;
    let other_key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key");
    let assertion = sign(
        &emulator.valid_header(),
        &emulator.valid_claims(),
        &other_key,
    );
    let (status, body) = emulator
        .token_request(&[("grant_type", JWT_BEARER), ("assertion", &assertion)])
        .await;
    assert_refused(status, &body, "invalid_grant", "Invalid JWT Signature.");
    emulator.stop();
}

#[tokio::test]
async fn a_tampered_claim_set_is_refused() {
    let emulator = TestEmulator::start().await;
    let assertion = sign(
        &emulator.valid_header(),
        &emulator.valid_claims(),
        &emulator.identity.private_key,
    );
    let mut segments: Vec<String> = assertion.split('.').map(str::to_string).collect();
    let mut claims = emulator.valid_claims();
    claims["scope"] = json!("https://www.googleapis.com/auth/drive");
    segments[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    let (status, body) = emulator
        .token_request(&[
            ("grant_type", JWT_BEARER),
            ("assertion", &segments.join(".")),
        ])
        .await;
    assert_refused(status, &body, "invalid_grant", "Invalid JWT Signature.");
    emulator.stop();
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let emulator = TestEmulator::start().await;
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef"});
    let (status, body) = emulator.exchange(&header, &emulator.valid_claims()).await;
    assert_refused(status, &body, "invalid_grant", "Invalid JWT Signature.");
    emulator.stop();
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["aud"] = json!("https://example.com/token");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: Failed audience check.",
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("https://example.com/token"),
        "{description}"
    );
    assert!(
        description.contains(&format!("{}/token", emulator.base_url)),
        "{description}"
    );
    claims.as_object_mut().expect("object").remove("aud");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: Failed audience check.",
    );
    emulator.stop();
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["iat"] = json!(now() - 7200);
    claims["exp"] = json!(now() - 3600);
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes)",
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap_or_default()
        .contains("expired"));
    emulator.stop();
}

#[tokio::test]
async fn an_assertion_valid_for_more_than_an_hour_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["exp"] = json!(now() + 3601);
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes)",
    );
    emulator.stop();
}

#[tokio::test]
async fn an_assertion_issued_in_the_future_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["iat"] = json!(now() + 600);
    claims["exp"] = json!(now() + 1200);
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes)",
    );
    emulator.stop();
}

#[tokio::test]
async fn missing_times_are_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims.as_object_mut().expect("object").remove("exp");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: the claim set needs both iat and exp",
    );
    emulator.stop();
}

#[tokio::test]
async fn a_scope_without_sheets_access_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["scope"] = json!("https://www.googleapis.com/auth/gmail.readonly");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_scope",
        "Invalid OAuth scope or ID token audience provided.",
    );
    claims.as_object_mut().expect("object").remove("scope");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(status, &body, "invalid_scope", "Invalid OAuth scope");
    emulator.stop();
}

#[tokio::test]
async fn drive_and_read_only_scopes_are_accepted() {
    let emulator = TestEmulator::start().await;
    for scope in [
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/drive.file",
        "https://www.googleapis.com/auth/spreadsheets.readonly",
        "openid https://www.googleapis.com/auth/spreadsheets https://www.googleapis.com/auth/userinfo.email",
    ] {
        let mut claims = emulator.valid_claims();
        claims["scope"] = json!(scope);
        let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
        assert_eq!(status, 200, "{scope}: {body}");
    }
    emulator.stop();
}

#[tokio::test]
async fn an_unknown_issuer_is_refused() {
    let emulator = TestEmulator::start().await;
    let mut claims = emulator.valid_claims();
    claims["iss"] = json!("someone-else@example.iam.gserviceaccount.com");
    let (status, body) = emulator.exchange(&emulator.valid_header(), &claims).await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid grant: account not found.",
    );
    emulator.stop();
}

#[tokio::test]
async fn malformed_assertions_are_refused() {
    let emulator = TestEmulator::start().await;
    for assertion in ["not-a-jwt", "a.b", "!!!.e30.sig", "e30.e30.sig"] {
        let (status, body) = emulator
            .token_request(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
            .await;
        assert_refused(status, &body, "invalid_grant", "Invalid JWT");
    }
    let none_algorithm = json!({"alg": "none", "typ": "JWT"});
    let (status, body) = emulator
        .exchange(&none_algorithm, &emulator.valid_claims())
        .await;
    assert_refused(
        status,
        &body,
        "invalid_grant",
        "Invalid JWT: service-account assertions are signed with RS256",
    );
    emulator.stop();
}

#[tokio::test]
async fn a_missing_or_wrong_grant_type_is_refused() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator.token_request(&[("assertion", "x.y.z")]).await;
    assert_refused(
        status,
        &body,
        "unsupported_grant_type",
        "Invalid grant_type: ",
    );
    let (status, body) = emulator
        .token_request(&[("grant_type", "client_credentials"), ("assertion", "x.y.z")])
        .await;
    assert_refused(
        status,
        &body,
        "unsupported_grant_type",
        "Invalid grant_type: client_credentials",
    );
    emulator.stop();
}

#[tokio::test]
async fn a_missing_assertion_is_refused() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator.token_request(&[("grant_type", JWT_BEARER)]).await;
    assert_refused(
        status,
        &body,
        "invalid_request",
        "Missing required parameter: assertion",
    );
    emulator.stop();
}

#[tokio::test]
async fn a_json_body_is_refused() {
    let emulator = TestEmulator::start().await;
    let response = emulator
        .client
        .post(format!("{}/token", emulator.base_url))
        .json(&json!({"grant_type": JWT_BEARER, "assertion": "x"}))
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_refused(
        status,
        &body,
        "invalid_request",
        "The token request must be an application/x-www-form-urlencoded",
    );
    emulator.stop();
}

#[test]
fn the_spreadsheets_scope_constant_matches_the_auth_module() {
    assert_eq!(
        sheets_emulator::auth::assertion::WRITE_SCOPES[0],
        SPREADSHEETS_SCOPE
    );
}
