//! The control layer's quota (429), injected faults (before and after applying) and latency.

mod control_support;

use std::time::{Duration, Instant};

use axum::http::Method;
use control_support::TestEmulator;
use serde_json::json;
use sheets_emulator::control::{
    ClassFilter, FaultSpec, FaultStage, LatencySettings, QuotaSettings,
};

#[tokio::test]
async fn the_write_quota_gives_googles_exact_429_and_refills() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator.state.control.set_quota(QuotaSettings {
        read_requests_per_minute: None,
        write_requests_per_minute: Some(2),
        window_ms: 300,
    });
    assert_eq!(emulator.write(&token).await.0, 200);
    assert_eq!(emulator.write(&token).await.0, 200);
    let response = emulator
        .client
        .post(format!(
            "{}/v4/spreadsheets/abc:batchUpdate",
            emulator.base_url
        ))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status().as_u16(), 429);
    assert!(
        response.headers().get("retry-after").is_none(),
        "Google sends no Retry-After"
    );
    let body: serde_json::Value = response.json().await.expect("json");
    let expected = json!({"error": {
        "code": 429,
        "message": "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:100000000001'.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "consumer": "projects/100000000001",
                "quota_limit": "WriteRequestsPerMinutePerUser",
                "quota_metric": "sheets.googleapis.com/write_requests",
                "service": "sheets.googleapis.com",
            },
        }],
    }});
    assert_eq!(body, expected);
    assert_eq!(emulator.applied(), 2, "a refused write is not applied");
    // Reads have their own (unlimited) budget.
    assert_eq!(emulator.read(&token).await.0, 200);
    // A second token of the same account shares the account's budget, as at Google.
    let other_token = emulator.token().await;
    assert_eq!(emulator.write(&other_token).await.0, 429);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        emulator.write(&token).await.0,
        200,
        "the window rolled over"
    );
    emulator.stop();
}

#[tokio::test]
async fn the_read_quota_names_read_requests() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    let (status, _) = emulator
        .admin(
            Method::PUT,
            "quota",
            Some(json!({"read_requests_per_minute": 1, "window_ms": 60000})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(emulator.read(&token).await.0, 200);
    let (status, body) = emulator.read(&token).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["error"]["details"][0]["metadata"]["quota_limit"],
        "ReadRequestsPerMinutePerUser"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("'Read requests per minute per user'"));
    assert_eq!(
        emulator.write(&token).await.0,
        200,
        "writes are not limited"
    );
    emulator.stop();
}

#[tokio::test]
async fn a_fault_before_applying_fails_the_next_writes_and_applies_nothing() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::next_writes(2, 503, FaultStage::Before))
        .expect("fault");
    assert_eq!(emulator.read(&token).await.0, 200, "reads are not affected");
    let (status, body) = emulator.write(&token).await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})
    );
    assert_eq!(emulator.write(&token).await.0, 503);
    assert_eq!(emulator.applied(), 0);
    assert_eq!(emulator.write(&token).await.0, 200, "the fault is used up");
    assert_eq!(emulator.applied(), 1);
    assert!(emulator.state.control.faults().is_empty());
    emulator.stop();
}

#[tokio::test]
async fn a_fault_after_applying_applies_the_write_and_answers_an_error() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::next_writes(1, 500, FaultStage::After))
        .expect("fault");
    // A call the handler refuses was not applied, so the fault waits for one that is.
    let (status, _) = emulator
        .call(
            Method::POST,
            "/v4/spreadsheets/abc:batchUpdate",
            Some(&token),
            "fail",
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = emulator.write(&token).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}})
    );
    assert_eq!(
        emulator.applied(),
        1,
        "the write happened although the client saw 500"
    );
    let log = emulator.state.control.requests(None);
    assert_eq!(
        log.last().and_then(|entry| entry.fault.clone()).as_deref(),
        Some("500 after apply")
    );
    emulator.stop();
}

#[tokio::test]
async fn a_read_fault_leaves_writes_alone() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    let spec = FaultSpec {
        applies_to: ClassFilter::Read,
        ..FaultSpec::next_writes(1, 503, FaultStage::Before)
    };
    emulator.state.control.add_fault(spec).expect("fault");
    assert_eq!(emulator.write(&token).await.0, 200);
    assert_eq!(emulator.read(&token).await.0, 503);
    assert_eq!(emulator.read(&token).await.0, 200);
    emulator.stop();
}

async fn outcomes_with_seed(seed: u64) -> Vec<u16> {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    let spec = FaultSpec::random(0.3, seed, ClassFilter::All, 503, FaultStage::Before);
    emulator.state.control.add_fault(spec).expect("fault");
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        outcomes.push(emulator.write(&token).await.0);
    }
    emulator.stop();
    outcomes
}

#[tokio::test]
async fn probabilistic_faults_are_reproducible_with_a_seed() {
    let first = outcomes_with_seed(7).await;
    let second = outcomes_with_seed(7).await;
    assert_eq!(first, second);
    let failures = first.iter().filter(|status| **status == 503).count();
    assert!(
        (4..=22).contains(&failures),
        "about 30 % of 40 calls fail, got {failures}"
    );
    assert!(first.iter().all(|status| *status == 200 || *status == 503));
    assert_ne!(
        first,
        outcomes_with_seed(8).await,
        "another seed, another sequence"
    );
}

#[tokio::test]
async fn latency_is_added_per_class() {
    let emulator = TestEmulator::start().await;
    let token = emulator.token().await;
    emulator.state.control.set_latency(LatencySettings {
        ms: 0,
        read_ms: None,
        write_ms: Some(150),
    });
    let started = Instant::now();
    emulator.read(&token).await;
    assert!(
        started.elapsed() < Duration::from_millis(140),
        "reads are not delayed"
    );
    let started = Instant::now();
    emulator.write(&token).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let log = emulator.state.control.requests(None);
    assert!(log.last().expect("entry").duration_ms >= 150.0);
    emulator.stop();
}
