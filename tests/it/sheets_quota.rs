//! The client's own budget keeps it under the emulator's quota: with the emulator refusing
//! more than N writes per window, many concurrent writes all succeed without a single 429,
//! and the budget (not the server) is what spaced them out.

use std::time::{Duration, Instant};

use sheets_emulator::control::QuotaSettings as EmulatorQuota;
use sheetsync::sheets::model::{CellData, GridCoordinate, Request, RowData, UpdateCellsRequest};
use sheetsync::sheets::{ClientOptions, QuotaSettings};
use tokio_util::sync::CancellationToken;

use crate::sheets_support::{client_with, fast_options, start_emulator, statuses, writes_since};

const LIMIT: u32 = 3;
const CLIENT_WINDOW: Duration = Duration::from_millis(500);

fn write_row(sheet_id: i64, row_index: u32) -> Vec<Request> {
    vec![Request::UpdateCells(UpdateCellsRequest {
        rows: vec![RowData {
            values: vec![CellData::number(f64::from(row_index))],
        }],
        fields: "userEnteredValue".into(),
        start: Some(GridCoordinate {
            sheet_id,
            row_index,
            column_index: 0,
        }),
        range: None,
    })]
}

#[tokio::test]
async fn the_client_never_sends_more_writes_per_window_than_its_budget() {
    let emulator = start_emulator().await;
    let options = ClientOptions {
        quota: QuotaSettings {
            read_requests_per_window: 100,
            write_requests_per_window: LIMIT,
            window: CLIENT_WINDOW,
            burst: None,
        },
        ..fast_options()
    };
    let client = client_with(&emulator, options).await;
    let cancel = CancellationToken::new();
    let created = client
        .create_spreadsheet("Shop", &["Orders"], &cancel)
        .await
        .expect("create");
    let id = created.spreadsheet_id.clone();
    let sheet_id = created.sheets[0].properties.sheet_id.unwrap_or(0);
    // The create took a write token; wait until the budget is whole again.
    tokio::time::sleep(client.quota().writes.time_until_available() + CLIENT_WINDOW).await;
    assert_eq!(client.quota().writes.available(), LIMIT);
    // The emulator's window is half the client's: a write can reach the emulator later than
    // the client took its token (a new connection, a busy machine: CI saw more than 50 ms),
    // and this test is about the client's spacing, not that skew. Nine writes sent at once
    // would still all arrive within one such window and be refused.
    emulator.state.control.set_quota(EmulatorQuota {
        read_requests_per_minute: None,
        write_requests_per_minute: Some(LIMIT),
        window_ms: 250,
    });
    let since = emulator.state.control.last_seq();
    let started = Instant::now();
    let calls: Vec<_> = (0..3 * LIMIT)
        .map(|row| {
            let client = client.clone();
            let id = id.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                client
                    .batch_update(&id, &write_row(sheet_id, row), &cancel)
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("write");
    }
    let elapsed = started.elapsed();
    let writes = writes_since(&emulator, since);
    assert_eq!(statuses(&writes), vec![200; 3 * LIMIT as usize], "no 429");
    assert_eq!(client.retries_total(), 0);
    // Nine writes at three per window: the last three waited two full windows.
    assert!(elapsed >= CLIENT_WINDOW * 2, "{elapsed:?}");
    let rows = emulator
        .state
        .store
        .sheet_values(&id, "Orders")
        .expect("rows");
    assert_eq!(rows.len(), 3 * LIMIT as usize);
}
