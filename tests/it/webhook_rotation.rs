//! Rotating the webhook secret: while `webhook.previous_secret` is set, deliveries signed with
//! either secret are accepted; any other key is still refused.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue};
use sheetsync::config::Secret;
use sheetsync::webhook::router::handle;
use sheetsync::webhook::signature::sign;
use sheetsync::webhook::WebhookState;

use crate::webhook_support::{edit_message, mapping, RecordingApply, TestClock, NOW};

fn headers(secret: &str, body: &[u8]) -> HeaderMap {
    let timestamp = NOW.to_string();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-sheetsync-timestamp",
        HeaderValue::from_str(&timestamp).expect("header"),
    );
    let signature = sign(secret.as_bytes(), &timestamp, body);
    headers.insert(
        "x-sheetsync-signature",
        HeaderValue::from_str(&signature).expect("header"),
    );
    headers
}

#[tokio::test]
async fn both_secrets_are_accepted_during_a_rotation_and_no_other() {
    let apply = Arc::new(RecordingApply::default());
    let mappings = [mapping("Orders", Some(&["id", "customer", "total"]))];
    let state = WebhookState::new(Secret::new("new-secret".into()), &mappings, apply.clone())
        .with_previous_secret(Some(Secret::new("old-secret".into())))
        .with_clock(Arc::new(TestClock(AtomicI64::new(NOW))));
    let cases = [
        ("new-secret", "rotation-1", "applied"),
        ("old-secret", "rotation-2", "applied"),
        ("other-secret", "rotation-3", "bad_signature"),
    ];
    for (secret, delivery, expected) in cases {
        let body = serde_json::to_vec(&edit_message(delivery)).expect("json");
        let (outcome, response) = handle(&state, &headers(secret, &body), Body::from(body)).await;
        assert_eq!(outcome, expected, "signed with {secret}");
        let status = response.status().as_u16();
        assert_eq!(
            status,
            if expected == "applied" { 200 } else { 401 },
            "signed with {secret}"
        );
    }
    assert_eq!(
        apply.calls(),
        2,
        "only the two accepted deliveries were applied"
    );

    // Without a previous secret the old one is refused.
    let state = WebhookState::new(Secret::new("new-secret".into()), &mappings, apply.clone())
        .with_clock(Arc::new(TestClock(AtomicI64::new(NOW))));
    let body = serde_json::to_vec(&edit_message("rotation-4")).expect("json");
    let (outcome, _) = handle(&state, &headers("old-secret", &body), Body::from(body)).await;
    assert_eq!(outcome, "bad_signature");
}
