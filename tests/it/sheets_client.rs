//! The Sheets client against the emulator: token through the key file's `token_uri`, the
//! read and write calls with typed values, definite errors and key-file errors.

use serde_json::json;
use sheetsync::config::GoogleConfig;
use sheetsync::sheets::a1;
use sheetsync::sheets::model::{
    AppendDimensionRequest, CellData, CreateDeveloperMetadataRequest, DeveloperMetadata,
    DeveloperMetadataLocation, Dimension, GridCoordinate, Request, RowData, UpdateCellsRequest,
    Visibility,
};
use sheetsync::sheets::responses::CellValue;
use sheetsync::sheets::{SheetsClient, SheetsError};
use tokio_util::sync::CancellationToken;

use crate::sheets_support::{
    client, fast_options, key_file, start_emulator, statuses, writes_since,
};

fn update_row(sheet_id: i64, row_index: u32, values: Vec<CellData>) -> Request {
    Request::UpdateCells(UpdateCellsRequest {
        rows: vec![RowData { values }],
        fields: "userEnteredValue".into(),
        start: Some(GridCoordinate {
            sheet_id,
            row_index,
            column_index: 0,
        }),
        range: None,
    })
}

#[tokio::test]
async fn token_comes_from_the_key_files_token_uri_and_calls_run_as_the_account() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    client.check_token().await.expect("token from /token");
    let cancel = CancellationToken::new();
    let created = client
        .create_spreadsheet("Shop", &["Orders"], &cancel)
        .await
        .expect("create");
    client
        .get_spreadsheet(&created.spreadsheet_id, None, &cancel)
        .await
        .expect("get");
    let log = emulator.state.control.requests(None);
    assert_eq!(statuses(&log), vec![200, 200]);
    assert!(log
        .iter()
        .all(|entry| entry.client_email.as_deref() == Some(client.client_email())));
    // The only way to a token the emulator accepts is its /token, named by the key file.
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file(&emulator)).expect("key file"))
            .expect("key json");
    assert_eq!(key["token_uri"], format!("{}/token", emulator.base_url));
    assert_eq!(key["client_email"], client.client_email());
}

#[tokio::test]
async fn typed_values_round_trip_through_batch_update_and_values_get() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let cancel = CancellationToken::new();
    let created = client
        .create_spreadsheet("Shop", &["Orders", "Jon's Data"], &cancel)
        .await
        .expect("create");
    let id = created.spreadsheet_id.clone();
    let layout = client
        .get_spreadsheet(&id, None, &cancel)
        .await
        .expect("get");
    let orders = layout.sheet_by_title("Orders").expect("Orders tab");
    let sheet_id = orders.sheet_id.unwrap_or(0);
    let grid = orders.grid_properties.clone().expect("grid");
    assert_eq!((grid.row_count, grid.column_count), (Some(1000), Some(26)));
    let quoted = layout.sheet_by_title("Jon's Data").expect("second tab");
    let quoted_sheet_id = quoted.sheet_id.expect("sheet id");

    let requests = vec![
        update_row(
            sheet_id,
            0,
            vec![
                CellData::text("=1+2"),
                CellData::number(42.5),
                CellData::boolean(true),
                CellData::empty(),
                CellData::text("0050"),
            ],
        ),
        update_row(quoted_sheet_id, 0, vec![CellData::text("quoted")]),
        Request::AppendDimension(AppendDimensionRequest {
            sheet_id,
            dimension: Dimension::Rows,
            length: 100,
        }),
        Request::CreateDeveloperMetadata(CreateDeveloperMetadataRequest {
            developer_metadata: DeveloperMetadata {
                metadata_key: Some("sheetsync.checkpoint".into()),
                metadata_value: Some("0-1-42".into()),
                location: Some(DeveloperMetadataLocation::spreadsheet()),
                visibility: Some(Visibility::Document),
                ..DeveloperMetadata::default()
            },
        }),
    ];
    let response = client
        .batch_update(&id, &requests, &cancel)
        .await
        .expect("batch update");
    assert_eq!(response.replies.len(), requests.len());
    let created_metadata = response.replies[3]
        .create_developer_metadata
        .as_ref()
        .expect("create reply");
    assert!(created_metadata.developer_metadata.metadata_id.is_some());

    let values = client
        .get_values(&id, &a1::cell_range("Orders", (0, 0), (1, 4)), &cancel)
        .await
        .expect("values");
    assert_eq!(
        values.values,
        vec![vec![
            CellValue::Text("=1+2".into()),
            CellValue::Number(42.5),
            CellValue::Bool(true),
            CellValue::Text(String::new()),
            CellValue::Text("0050".into()),
        ]]
    );
    assert_eq!(
        emulator
            .state
            .store
            .sheet_values(&id, "Orders")
            .expect("sheet"),
        vec![vec![
            json!("=1+2"),
            json!(42.5),
            json!(true),
            json!(""),
            json!("0050")
        ]]
    );

    let both = client
        .batch_get_values(
            &id,
            &[
                a1::sheet_range("Jon's Data"),
                a1::columns_range("Orders", 1, 2),
            ],
            &cancel,
        )
        .await
        .expect("batch get");
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].values, vec![vec![CellValue::Text("quoted".into())]]);
    assert_eq!(
        both[1].values,
        vec![vec![CellValue::Number(42.5), CellValue::Bool(true)]]
    );

    let after = client
        .get_spreadsheet(&id, None, &cancel)
        .await
        .expect("get");
    let rows = after
        .sheet_by_title("Orders")
        .and_then(|sheet| sheet.grid_properties.as_ref())
        .and_then(|grid| grid.row_count);
    assert_eq!(rows, Some(1100));

    let found = client
        .search_developer_metadata(&id, "sheetsync.checkpoint", &cancel)
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].developer_metadata.metadata_value.as_deref(),
        Some("0-1-42")
    );
    assert!(client
        .search_developer_metadata(&id, "absent", &cancel)
        .await
        .expect("search")
        .is_empty());
    assert_eq!(client.retries_total(), 0);
}

#[tokio::test]
async fn a_write_past_the_grid_is_a_definite_error_with_googles_message_and_no_retry() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let cancel = CancellationToken::new();
    let id = client
        .create_spreadsheet("Shop", &["Orders"], &cancel)
        .await
        .expect("create")
        .spreadsheet_id;
    let layout = client
        .get_spreadsheet(&id, None, &cancel)
        .await
        .expect("get");
    let sheet_id = layout.sheets[0].properties.sheet_id.unwrap_or(0);
    let since = emulator.state.control.last_seq();
    let error = client
        .batch_update(
            &id,
            &[
                update_row(sheet_id, 0, vec![CellData::text("applied?")]),
                update_row(sheet_id, 5_000, vec![CellData::text("too far")]),
            ],
            &cancel,
        )
        .await
        .expect_err("past the grid");
    assert!(!error.is_transient(), "{error}");
    match &error {
        SheetsError::Http {
            status,
            google_status,
            message,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(google_status, "INVALID_ARGUMENT");
            assert!(message.contains("exceeds grid limits"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        statuses(&writes_since(&emulator, since)),
        vec![400],
        "sent once"
    );
    assert_eq!(client.retries_total(), 0);
    assert!(
        emulator
            .state
            .store
            .sheet_values(&id, "Orders")
            .expect("sheet")
            .is_empty(),
        "the batch is atomic: nothing applied"
    );
}

#[tokio::test]
async fn an_unknown_spreadsheet_is_a_definite_404() {
    let emulator = start_emulator().await;
    let client = client(&emulator).await;
    let error = client
        .get_values("no-such-id", "'Orders'!A:A", &CancellationToken::new())
        .await
        .expect_err("404");
    assert_eq!(error.status(), Some(404));
    assert!(!error.is_transient());
}

#[tokio::test]
async fn an_unreadable_or_invalid_key_file_is_a_clear_error_naming_the_file() {
    let directory = tempfile::tempdir().expect("temp dir");
    let missing = directory.path().join("missing-key.json");
    let config = GoogleConfig {
        credentials_file: Some(missing.clone()),
        api_base: "http://127.0.0.1:9".into(),
    };
    let error = SheetsClient::new(&config, fast_options())
        .await
        .expect_err("missing key file");
    assert!(matches!(error, SheetsError::KeyFile { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("missing-key.json") && text.contains("cannot read"),
        "{text}"
    );

    let invalid = directory.path().join("not-a-key.json");
    std::fs::write(&invalid, r#"{"type": "authorized_user"}"#).expect("write");
    let config = GoogleConfig {
        credentials_file: Some(invalid),
        ..config
    };
    let error = SheetsClient::new(&config, fast_options())
        .await
        .expect_err("invalid key file");
    let text = error.to_string();
    assert!(
        text.contains("not-a-key.json") && text.contains("service-account"),
        "{text}"
    );
    assert!(!error.is_transient());

    let unset = GoogleConfig::default();
    let error = SheetsClient::new(&unset, fast_options())
        .await
        .expect_err("no key file configured");
    assert!(error.to_string().contains("credentials_file"), "{error}");
}
