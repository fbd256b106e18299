//! The person's settings and refusals: the webhook target (set by call or by the binary's
//! flags, the secret never shown), spreadsheets made in one call, and every request a person
//! could not make refused with its status and nothing changed.

mod person_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use person_support::{
    assert_all_valid, emulator, get, post, values, Receiver, SECRET, SPREADSHEET, TAB,
};

#[tokio::test]
async fn the_webhook_settings_are_shown_without_the_secret() {
    let emulator = emulator().await;
    let base = &emulator.base_url;
    assert_eq!(
        get(base, "/_emulator/person/webhook").await,
        (200, json!({"configured": false}))
    );
    let (status, view) = post(
        base,
        "/_emulator/person/webhook",
        json!({"url": "http://127.0.0.1:9/webhook", "secret": SECRET, "key_columns": ["id"], "sheets": ["Orders"], "user": "ada@example.com"}),
    )
    .await;
    assert_eq!(status, 200);
    let expected = json!({"configured": true, "url": "http://127.0.0.1:9/webhook", "key_columns": ["id"],
        "sheets": ["Orders"], "user": "ada@example.com", "secret_set": true});
    assert_eq!(view, expected);
    let (_, shown) = get(base, "/_emulator/person/webhook").await;
    assert_eq!(shown, expected);
    assert!(!shown.to_string().contains("person-secret"));
    let debug = format!(
        "{:?}",
        sheets_emulator::person::WebhookTarget::new("http://x", SECRET)
    );
    assert!(!debug.contains("person-secret"), "{debug}");

    for invalid in [
        json!({"url": "ftp://x", "secret": "s"}),
        json!({"url": "http://x", "secret": ""}),
        json!({"url": "http://x", "secret": "s", "key_columns": []}),
        json!({"url": "http://x", "secret": "s", "color": "red"}),
    ] {
        let (status, body) = post(base, "/_emulator/person/webhook", invalid.clone()).await;
        assert_eq!(status, 400, "{invalid} → {body}");
    }
    let response = reqwest::Client::new()
        .delete(format!("{base}/_emulator/person/webhook"))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        get(base, "/_emulator/person/webhook").await.1,
        json!({"configured": false})
    );
}

#[tokio::test]
async fn without_a_webhook_a_person_call_is_refused_and_changes_nothing() {
    let emulator = emulator().await;
    let before = values(&emulator);
    let (status, body) = post(
        &emulator.base_url,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2", "value": 99}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["status"], "FAILED_PRECONDITION");
    assert!(body["error"]["message"]
        .as_str()
        .expect("text")
        .contains("/_emulator/person/webhook"));
    assert_eq!(values(&emulator), before);
    let (status, _) = post(&emulator.base_url, "/_emulator/person/retry", json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn requests_a_person_could_not_make_are_refused_with_nothing_sent() {
    let emulator = emulator().await;
    let receiver = Receiver::start().await;
    let base = &emulator.base_url;
    post(
        base,
        "/_emulator/person/webhook",
        json!({"url": receiver.url, "secret": SECRET}),
    )
    .await;
    let before = values(&emulator);
    let cases = [
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2", "value": 1, "colour": "red"}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2"}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2", "value": 1, "values": [[1]]}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2:D3", "value": 1}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 0, "column": 1, "value": 1}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "values": [[]], "cell": "A2"}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "A1000", "values": [[1], [2]]}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2", "value": "x".repeat(50_001)}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": "Nope", "cell": "C2", "value": 1}),
            404,
        ),
        (
            "edit",
            json!({"spreadsheet_id": "missing", "sheet": TAB, "cell": "C2", "value": 1}),
            404,
        ),
        (
            "add-row",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "values": {"customer": "M", "colour": "red"}}),
            400,
        ),
        (
            "add-row",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "values": {}}),
            400,
        ),
        (
            "add-row",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "values": {"customer": "y".repeat(50_001)}}),
            400,
        ),
        (
            "delete-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 0}),
            400,
        ),
        (
            "delete-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 1, "count": 1000}),
            400,
        ),
        (
            "delete-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 999, "count": 5}),
            400,
        ),
        (
            "insert-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 2, "count": 0}),
            400,
        ),
        // Row numbers near u32::MAX are refused, never an overflow.
        (
            "insert-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": u32::MAX, "count": 2}),
            400,
        ),
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": u32::MAX, "column": u32::MAX, "values": [[1, 2], [3, 4]]}),
            400,
        ),
        (
            "add-row",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": u32::MAX, "values": {"customer": "M"}}),
            400,
        ),
        (
            "sort",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "column": "id", "first_row": u32::MAX, "last_row": u32::MAX}),
            400,
        ),
        (
            "sort",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "column": "no such column!"}),
            400,
        ),
        (
            "sort",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "column": "id", "last_row": 5000}),
            400,
        ),
        (
            "spreadsheets",
            json!({"sheets": [{"title": "A"}, {"title": "A"}]}),
            400,
        ),
        (
            "spreadsheets",
            json!({"spreadsheet_id": "has space", "sheets": []}),
            400,
        ),
        (
            "spreadsheets",
            json!({"sheets": [{"title": "A", "sheet_id": -1}]}),
            400,
        ),
    ];
    for (call, body, expected) in cases {
        let (status, answer) = post(base, &format!("/_emulator/person/{call}"), body.clone()).await;
        let shown: String = body.to_string().chars().take(120).collect();
        assert_eq!(status, expected, "{call} {shown} → {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    assert_eq!(values(&emulator), before, "nothing changed");
    assert!(receiver.received().is_empty(), "nothing sent");
}

#[tokio::test]
async fn a_tab_outside_the_synced_tabs_sends_nothing() {
    let emulator = emulator().await;
    let receiver = Receiver::start().await;
    post(
        &emulator.base_url,
        "/_emulator/person/webhook",
        json!({"url": receiver.url, "secret": SECRET, "sheets": ["Customers"]}),
    )
    .await;
    for (call, body) in [
        (
            "edit",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "B2", "value": "Ada L."}),
        ),
        (
            "insert-rows",
            json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 2}),
        ),
    ] {
        let (status, outcome) = post(
            &emulator.base_url,
            &format!("/_emulator/person/{call}"),
            body,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(outcome["deliveries"], json!([]));
        assert_eq!(
            outcome["log"],
            json!(["tab \"Orders\" is not among the synced tabs (SHEETS)"])
        );
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_spreadsheet_made_in_one_call_has_its_id_tabs_and_typed_values() {
    let emulator = emulator().await;
    let (status, created) = post(
        &emulator.base_url,
        "/_emulator/person/spreadsheets",
        json!({"spreadsheet_id": "demo-shop", "title": "Demo", "sheets": [
            {"title": "Orders", "rows": [["id", "placed"], [1, "2026-01-02"], [2, "'007"]]},
            {"title": "Notes"}]}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["spreadsheet_id"], "demo-shop");
    assert_eq!(
        created["sheets"][0],
        json!({"title": "Orders", "sheet_id": 0})
    );
    assert!(created["sheets"][1]["sheet_id"].as_i64().expect("id") > 0);
    let store = &emulator.state.store;
    assert_eq!(
        store.sheet_values("demo-shop", "Orders").expect("tab"),
        [
            vec![json!("id"), json!("placed")],
            vec![json!(1), json!(46024)],
            vec![json!(2), json!("007")],
        ]
    );
    // Replacing it by id starts it over.
    let (status, _) = post(
        &emulator.base_url,
        "/_emulator/person/spreadsheets",
        json!({"spreadsheet_id": "demo-shop", "sheets": [{"title": "Orders"}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(store.sheet_values("demo-shop", "Orders"), Some(vec![]));
}

/// Start the binary with extra flags; returns the child and its base URL.
fn spawn_binary(arguments: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
        .args(["--listen", "127.0.0.1:0", "--exit-after-secs", "60"])
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sheets-emulator");
    let stdout = child.stdout.take().expect("stdout");
    // Read both announcement lines: closing the pipe earlier would fail the binary's second
    // write, and it would exit.
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("text");
    lines.next().expect("a second line").expect("text");
    let url = first
        .strip_prefix("sheets-emulator listening on ")
        .expect("URL line")
        .to_string();
    (child, url)
}

#[tokio::test]
async fn the_binary_takes_the_webhook_from_its_flags() {
    let receiver = Receiver::start().await;
    let mut secret_file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(secret_file, "{SECRET}").expect("write the secret");
    let secret_path = secret_file.path().to_str().expect("utf-8").to_string();
    let (mut child, base) = spawn_binary(&[
        "--webhook-url",
        &receiver.url,
        "--webhook-secret-file",
        &secret_path,
        "--webhook-key-columns",
        "id",
    ]);
    let (_, view) = get(&base, "/_emulator/person/webhook").await;
    assert_eq!(view["url"], Value::String(receiver.url.clone()));
    assert_eq!(view["secret_set"], true);
    let (status, _) = post(
        &base,
        "/_emulator/person/spreadsheets",
        serde_json::to_value(json!({"spreadsheet_id": SPREADSHEET, "sheets": [{"title": TAB, "rows": [["id", "name"], [1, "Ada"]]}]})).expect("json"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, outcome) = post(
        &base,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "B2", "value": "Ada L."}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["deliveries"][0]["status"], 200);
    assert_all_valid(&receiver);
    assert_eq!(
        receiver.received().len(),
        1,
        "the secret's trailing newline was dropped"
    );
    let _ = child.kill();
    let _ = child.wait();

    let refused = Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
        .args([
            "--webhook-url",
            "http://127.0.0.1:9/webhook",
            "--exit-after-secs",
            "1",
        ])
        .output()
        .expect("run");
    assert!(
        !refused.status.success(),
        "a URL without a secret is refused"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--webhook-secret-file"));

    let missing = Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
        .args([
            "--webhook-url",
            "http://127.0.0.1:9/webhook",
            "--webhook-secret-file",
            "/nonexistent/secret",
            "--exit-after-secs",
            "1",
        ])
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read --webhook-secret-file"));
}
