//! The admin API under `/_emulator/`: each endpoint's JSON shape and effect.

mod control_support;

use axum::http::Method;
use control_support::TestEmulator;
use serde_json::json;

#[tokio::test]
async fn quota_defaults_to_unlimited_and_can_be_set_and_read_back() {
    let emulator = TestEmulator::start().await;
    let (status, body) = emulator.admin(Method::GET, "quota", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"read_requests_per_minute": null, "write_requests_per_minute": null, "window_ms": 60000})
    );
    let settings =
        json!({"read_requests_per_minute": 5, "write_requests_per_minute": 1, "window_ms": 1000});
    let (status, body) = emulator
        .admin(Method::PUT, "quota", Some(settings.clone()))
        .await;
    assert_eq!((status, body), (200, settings.clone()));
    assert_eq!(emulator.admin(Method::GET, "quota", None).await.1, settings);
    let (status, body) = emulator
        .admin(
            Method::PUT,
            "quota",
            Some(json!({"write_requests_per_minute": 2})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"read_requests_per_minute": null, "write_requests_per_minute": 2, "window_ms": 60000})
    );
    emulator.stop();
}

#[tokio::test]
async fn invalid_admin_bodies_get_400() {
    let emulator = TestEmulator::start().await;
    for (path, body) in [
        ("quota", json!({"write_requests_per_minute": -1})),
        ("quota", json!({"writes": 1})),
        ("quota", json!({"window_ms": 0})),
        ("faults", json!({"status": 404, "count": 1})),
        ("faults", json!({"count": 1, "probability": 0.5})),
        ("faults", json!({})),
        ("faults", json!({"probability": 1.5})),
        ("faults", json!({"count": 1, "stage": "during"})),
        ("latency", json!({"ms": "slow"})),
    ] {
        let method = if path == "faults" {
            Method::POST
        } else {
            Method::PUT
        };
        let (status, response) = emulator.admin(method, path, Some(body.clone())).await;
        assert_eq!(status, 400, "{path} {body}: {response}");
    }
    assert!(emulator.state.control.faults().is_empty());
    emulator.stop();
}

#[tokio::test]
async fn faults_can_be_added_listed_removed_and_cleared() {
    let emulator = TestEmulator::start().await;
    let (status, first) = emulator
        .admin(
            Method::POST,
            "faults",
            Some(json!({"count": 2, "class": "write"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        first,
        json!({"id": 1, "status": 503, "stage": "before", "class": "write", "count": 2, "probability": null, "seed": 0, "fired": 0})
    );
    let (_, second) = emulator
        .admin(
            Method::POST,
            "faults",
            Some(json!({"probability": 0.5, "seed": 3, "stage": "after", "status": 500})),
        )
        .await;
    assert_eq!(second["id"], 2);
    let (_, listed) = emulator.admin(Method::GET, "faults", None).await;
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        emulator.admin(Method::DELETE, "faults/1", None).await.0,
        204
    );
    assert_eq!(
        emulator.admin(Method::DELETE, "faults/1", None).await.0,
        404
    );
    assert_eq!(
        emulator.admin(Method::GET, "faults", None).await.1["faults"][0]["id"],
        2
    );
    assert_eq!(emulator.admin(Method::DELETE, "faults", None).await.0, 204);
    assert_eq!(
        emulator.admin(Method::GET, "faults", None).await.1,
        json!({"faults": []})
    );
    emulator.stop();
}

#[tokio::test]
async fn latency_can_be_set_and_read_back() {
    let emulator = TestEmulator::start().await;
    assert_eq!(
        emulator.admin(Method::GET, "latency", None).await.1,
        json!({"ms": 0, "read_ms": null, "write_ms": null})
    );
    let settings = json!({"ms": 5, "read_ms": 1, "write_ms": null});
    assert_eq!(
        emulator
            .admin(Method::PUT, "latency", Some(settings.clone()))
            .await,
        (200, settings)
    );
    emulator.stop();
}

#[tokio::test]
async fn the_request_log_filters_and_clears() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator.read(&token).await;
    emulator.write(&token).await;
    emulator.write(&token).await;
    let (status, all) = emulator.admin(Method::GET, "requests", None).await;
    assert_eq!(status, 200);
    assert_eq!(all["requests"].as_array().map(Vec::len), Some(3));
    assert_eq!(all["last_seq"], 3);
    let first = &all["requests"][0];
    for field in [
        "seq",
        "method",
        "path",
        "query",
        "body",
        "body_bytes",
        "body_truncated",
        "status",
        "duration_ms",
        "class",
        "client_email",
        "fault",
    ] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    let (_, since) = emulator.admin(Method::GET, "requests?since=2", None).await;
    assert_eq!(since["requests"].as_array().map(Vec::len), Some(1));
    assert_eq!(since["requests"][0]["seq"], 3);
    let (_, writes) = emulator
        .admin(Method::GET, "requests?class=write&status=200", None)
        .await;
    assert_eq!(writes["requests"].as_array().map(Vec::len), Some(2));
    let (_, summary) = emulator.admin(Method::GET, "summary", None).await;
    assert_eq!(
        summary,
        json!({"total": 3, "by_status": {"200": 3}, "by_class": {"read": 1, "write": 2},
               "by_class_and_status": {"read": {"200": 1}, "write": {"200": 2}}, "faults": 0})
    );
    assert_eq!(
        emulator.admin(Method::DELETE, "requests", None).await.0,
        204
    );
    let (_, cleared) = emulator.admin(Method::GET, "requests", None).await;
    assert_eq!(cleared, json!({"requests": [], "last_seq": 3}));
    assert_eq!(
        emulator.admin(Method::GET, "summary", None).await.1["total"],
        0
    );
    emulator.write(&token).await;
    assert_eq!(
        emulator.admin(Method::GET, "requests", None).await.1["requests"][0]["seq"],
        4
    );
    emulator.stop();
}

#[tokio::test]
async fn admin_calls_are_not_logged_limited_or_faulted() {
    let emulator = TestEmulator::start().await;
    emulator
        .admin(
            Method::PUT,
            "quota",
            Some(json!({"read_requests_per_minute": 0})),
        )
        .await;
    emulator
        .admin(Method::POST, "faults", Some(json!({"probability": 1.0})))
        .await;
    for _ in 0..3 {
        assert_eq!(emulator.admin(Method::GET, "quota", None).await.0, 200);
    }
    assert!(emulator.state.control.requests(None).is_empty());
    emulator.stop();
}

#[tokio::test]
async fn reset_restores_the_defaults() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator
        .admin(
            Method::PUT,
            "quota",
            Some(json!({"write_requests_per_minute": 0})),
        )
        .await;
    emulator
        .admin(Method::POST, "faults", Some(json!({"count": 5})))
        .await;
    emulator
        .admin(Method::PUT, "latency", Some(json!({"ms": 10})))
        .await;
    assert_eq!(emulator.write(&token).await.0, 429);
    assert_eq!(emulator.admin(Method::POST, "reset", None).await.0, 204);
    assert!(emulator.state.control.requests(None).is_empty());
    assert!(emulator.state.control.faults().is_empty());
    assert_eq!(
        emulator.admin(Method::GET, "latency", None).await.1["ms"],
        0
    );
    assert_eq!(
        emulator.write(&token).await.0,
        200,
        "the token survives a reset"
    );
    emulator.stop();
}
