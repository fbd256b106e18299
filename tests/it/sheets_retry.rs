//! Retries against the emulator's faults and quota: 503 before and after applying, 429 from
//! the quota, the retry limit, and cancellation during the backoff.

use std::time::{Duration, Instant};

use sheets_emulator::control::{ClassFilter, FaultSpec, FaultStage, QuotaSettings};
use sheets_emulator::RunningEmulator;
use sheetsync::sheets::model::{CellData, GridCoordinate, Request, RowData, UpdateCellsRequest};
use sheetsync::sheets::{ClientOptions, RetryPolicy, SheetsClient, SheetsError};
use tokio_util::sync::CancellationToken;

use crate::sheets_support::{
    client, client_with, fast_options, start_emulator, statuses, writes_since,
};

/// A spreadsheet with an "Orders" tab; returns (id, sheetId).
async fn spreadsheet(client: &SheetsClient) -> (String, i64) {
    let cancel = CancellationToken::new();
    let created = client
        .create_spreadsheet("Shop", &["Orders"], &cancel)
        .await
        .expect("create");
    let sheet_id = created
        .sheet_by_title("Orders")
        .and_then(|sheet| sheet.sheet_id)
        .unwrap_or(0);
    (created.spreadsheet_id, sheet_id)
}

/// An idempotent write: cell A1 := `text`.
fn write_a1(sheet_id: i64, text: &str) -> Vec<Request> {
    vec![Request::UpdateCells(UpdateCellsRequest {
        rows: vec![RowData {
            values: vec![CellData::text(text)],
        }],
        fields: "userEnteredValue".into(),
        start: Some(GridCoordinate {
            sheet_id,
            row_index: 0,
            column_index: 0,
        }),
        range: None,
    })]
}

fn cell_a1(emulator: &RunningEmulator, id: &str) -> Option<serde_json::Value> {
    emulator
        .state
        .store
        .sheet_values(id, "Orders")
        .and_then(|rows| rows.first().and_then(|row| row.first().cloned()))
}

#[tokio::test]
async fn a_503_before_applying_is_retried_and_the_write_lands_once() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let (id, sheet_id) = spreadsheet(&client).await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::next_writes(2, 503, FaultStage::Before))
        .expect("fault");
    let since = emulator.state.control.last_seq();
    client
        .batch_update(&id, &write_a1(sheet_id, "v1"), &CancellationToken::new())
        .await
        .expect("succeeds after retries");
    assert_eq!(
        statuses(&writes_since(&emulator, since)),
        vec![503, 503, 200]
    );
    assert_eq!(client.retries_total(), 2);
    assert_eq!(cell_a1(&emulator, &id), Some(serde_json::json!("v1")));
}

#[tokio::test]
async fn a_500_after_applying_is_retried_and_the_idempotent_batch_applies_twice_harmlessly() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let (id, sheet_id) = spreadsheet(&client).await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::next_writes(1, 500, FaultStage::After))
        .expect("fault");
    let since = emulator.state.control.last_seq();
    client
        .batch_update(&id, &write_a1(sheet_id, "v2"), &CancellationToken::new())
        .await
        .expect("succeeds after a retry");
    let writes = writes_since(&emulator, since);
    assert_eq!(statuses(&writes), vec![500, 200]);
    assert_eq!(writes[0].fault.as_deref(), Some("500 after apply"));
    assert_eq!(cell_a1(&emulator, &id), Some(serde_json::json!("v2")));
}

#[tokio::test]
async fn a_429_from_the_quota_is_retried_after_the_backoff_and_succeeds() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let (id, sheet_id) = spreadsheet(&client).await;
    emulator.state.control.set_quota(QuotaSettings {
        read_requests_per_minute: None,
        write_requests_per_minute: Some(1),
        window_ms: 600,
    });
    let since = emulator.state.control.last_seq();
    let cancel = CancellationToken::new();
    client
        .batch_update(&id, &write_a1(sheet_id, "first"), &cancel)
        .await
        .expect("first write");
    let started = Instant::now();
    client
        .batch_update(&id, &write_a1(sheet_id, "second"), &cancel)
        .await
        .expect("second write, after 429s");
    let elapsed = started.elapsed();
    let writes = statuses(&writes_since(&emulator, since));
    assert_eq!(writes.first(), Some(&200));
    assert_eq!(writes.last(), Some(&200));
    assert!(writes.contains(&429), "{writes:?}");
    assert!(client.retries_total() >= 1);
    // At least the policy's minimum after a 429 (200 ms), well under the 5 s budget.
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(cell_a1(&emulator, &id), Some(serde_json::json!("second")));
}

#[tokio::test]
async fn the_retry_limit_returns_the_last_transient_error() {
    let emulator = start_emulator().await;
    let options = ClientOptions {
        retry: RetryPolicy {
            max_retries: Some(2),
            ..fast_options().retry
        },
        ..fast_options()
    };
    let client = client_with(&emulator, options).await;
    let (id, sheet_id) = spreadsheet(&client).await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::random(
            1.0,
            1,
            ClassFilter::Write,
            503,
            FaultStage::Before,
        ))
        .expect("fault");
    let since = emulator.state.control.last_seq();
    let error = client
        .batch_update(&id, &write_a1(sheet_id, "never"), &CancellationToken::new())
        .await
        .expect_err("gives up");
    assert_eq!(error.status(), Some(503));
    assert!(error.is_transient());
    assert!(error.to_string().contains("UNAVAILABLE"), "{error}");
    assert_eq!(
        statuses(&writes_since(&emulator, since)),
        vec![503, 503, 503]
    );
    assert_eq!(client.retries_total(), 2);
}

#[tokio::test]
async fn cancellation_stops_the_retries() {
    let emulator = start_emulator().await;
    let options = ClientOptions {
        retry: RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(30),
            max_retries: None,
            ..fast_options().retry
        },
        ..fast_options()
    };
    let client = client_with(&emulator, options).await;
    let (id, sheet_id) = spreadsheet(&client).await;
    emulator
        .state
        .control
        .add_fault(FaultSpec::random(
            1.0,
            1,
            ClassFilter::Write,
            503,
            FaultStage::Before,
        ))
        .expect("fault");
    let cancel = CancellationToken::new();
    let call = {
        let client = client.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            client
                .batch_update(&id, &write_a1(sheet_id, "x"), &cancel)
                .await
        })
    };
    // Bounded wait for the backoff to start, then cancel.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.retries_total() < 2 {
        assert!(Instant::now() < deadline, "no retries happened");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends promptly")
        .expect("task");
    assert!(matches!(result, Err(SheetsError::Cancelled)), "{result:?}");
}
