//! The demo's grid page in a real browser (Debian's headless Chromium): a value written through
//! the store appears without a reload, notes are shown as text, and an edit made in the page
//! reaches the webhook signed exactly like an Apps Script edit, with the answer shown in the
//! page and a returned key appearing in the grid. Chromium missing: a failure under `CI=true`,
//! otherwise a loud skip (as `tests/it/admin_support.rs` does).

mod person_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::{self, Next};
use serde_json::json;

use person_support::{assert_all_valid, bed, emulator, masked, Answer, SPREADSHEET};

/// The `/data` request after which the store changes.
const CHANGE_AFTER_REQUEST: usize = 2;

fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|directory| directory.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = "`chromium` is not installed (Debian package `chromium`)";
        assert!(
            std::env::var("CI")
                .map(|value| value != "true")
                .unwrap_or(true),
            "{message}: required under CI"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    }
    found
}

/// One browser at a time: the tests of this file run in parallel, and three headless Chromiums
/// starting together on a loaded 2-core machine once took more than 90 s (a CI rehearsal).
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_chromium(chromium: &Path, profile: &Path, arguments: &[String]) -> String {
    let _one_browser = ONE_BROWSER.lock().await;
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(arguments)
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn dump_dom(chromium: &Path, profile: &Path, url: &str) -> String {
    let arguments = [
        "--virtual-time-budget=8000".to_string(),
        "--dump-dom".to_string(),
        url.to_string(),
    ];
    run_chromium(chromium, profile, &arguments).await
}

/// The text of the grid cell `name` (e.g. `B3`) in the dumped DOM.
fn cell_text(html: &str, name: &str) -> String {
    let marker = format!("data-cell=\"{name}\"");
    let Some(start) = html.find(&marker) else {
        panic!("no cell {name} in:\n{html}");
    };
    let rest = &html[start..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest.find("</td>").expect("cell end");
    rest[open..close].to_string()
}

/// The text of the element with `id`.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker).expect("element");
    let rest = &html[start..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest[open..].find("</").expect("element end") + open;
    rest[open..close].to_string()
}

#[tokio::test]
async fn a_value_written_through_the_store_appears_without_a_reload() {
    let Some(chromium) = chromium() else { return };
    let emulator = emulator().await;
    let requests = Arc::new(AtomicUsize::new(0));
    let changing = {
        let state = emulator.state.clone();
        let requests = requests.clone();
        middleware::from_fn(move |request: Request, next: Next| {
            let state = state.clone();
            let requests = requests.clone();
            async move {
                if request.uri().path().ends_with("/data")
                    && requests.fetch_add(1, Ordering::SeqCst) == CHANGE_AFTER_REQUEST
                {
                    // What sheetsync does when the database changes: a values write and a note.
                    let store = &state.store;
                    store
                        .set_values(
                            SPREADSHEET,
                            "Orders!B3",
                            vec![vec![json!("Grace Hopper")]],
                            true,
                        )
                        .expect("write");
                    let note = json!({"requests": [{"updateCells": {
                        "range": {"sheetId": 7, "startRowIndex": 2, "endRowIndex": 3, "startColumnIndex": 2, "endColumnIndex": 3},
                        "rows": [{"values": [{"note": "refused: <b>abc</b> is not a number"}]}],
                        "fields": "note"}}]});
                    store.batch_update(SPREADSHEET, &note).expect("note");
                }
                next.run(request).await
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = sheets_emulator::router(emulator.state.clone()).layer(changing);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let directory = tempfile::tempdir().expect("temp dir");
    let html = dump_dom(
        &chromium,
        directory.path(),
        &format!("http://{address}/_emulator/grid/{SPREADSHEET}"),
    )
    .await;
    let served = requests.load(Ordering::SeqCst);
    assert!(
        served > CHANGE_AFTER_REQUEST,
        "the page polled only {served} times"
    );
    assert_eq!(cell_text(&html, "B3"), "Grace Hopper", "{html}");
    assert_eq!(cell_text(&html, "A1"), "id");
    assert_eq!(cell_text(&html, "D2"), "FALSE");
    assert!(
        html.contains("refused: &lt;b&gt;abc&lt;/b&gt; is not a number"),
        "note shown as text:\n{html}"
    );
    assert!(!html.contains("<b>abc</b>"));
    assert!(html.contains("Shop — person-sheet-1"));
}

#[tokio::test]
async fn an_edit_in_the_page_reaches_the_webhook_as_the_script_sends_it() {
    let Some(chromium) = chromium() else { return };
    let (emulator, receiver) = bed().await;
    receiver.answer_next(Answer::Canned(
        200,
        json!({"results": [{"row": 2, "status": "rejected",
            "errors": [{"column": "total", "message": "\"abc\" is not a number"}]}]}),
    ));
    let directory = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "{}/_emulator/grid/{SPREADSHEET}?sheet=Orders&edit=C2&value=abc",
        emulator.base_url
    );
    let html = dump_dom(&chromium, directory.path(), &url).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "exactly one edit sent:\n{html}");
    assert_eq!(
        masked(&received[0].body),
        concat!(
            r#"{"version":1,"delivery_id":"…","kind":"edit","spreadsheet_id":"person-sheet-1","#,
            r#""sheet":"Orders","sheet_id":7,"sent_at":"…","user":null,"edited_at":"…","#,
            r#""header":["id","customer","total","paid"],"header_edited":false,"#,
            r#""rows":[{"row":2,"key":{"id":1},"values":{"total":"abc"},"old_values":{"total":"10"}}]}"#
        )
    );
    assert_all_valid(&receiver);
    let answer = element_text(&html, "answer");
    assert!(answer.contains("HTTP 200"), "{answer}");
    assert!(answer.contains("row 2: rejected"), "{answer}");
    assert!(
        answer.contains("total: \"abc\" is not a number"),
        "{answer}"
    );
    assert!(html.contains("data-status=\"200\""));
}

#[tokio::test]
async fn a_row_typed_in_the_page_shows_the_key_the_webhook_returned() {
    let Some(chromium) = chromium() else { return };
    let (emulator, receiver) = bed().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let page = format!("{}/_emulator/grid/{SPREADSHEET}", emulator.base_url);
    let html = dump_dom(
        &chromium,
        &directory.path().join("dom"),
        &format!("{page}?edit=B5&value=Margaret"),
    )
    .await;
    assert_eq!(receiver.received().len(), 1);
    assert!(receiver.received()[0].body.contains(r#""key":{"id":null}"#));
    assert_eq!(
        cell_text(&html, "A5"),
        "1001",
        "the key written back is shown"
    );
    assert_eq!(cell_text(&html, "B5"), "Margaret");
    assert!(element_text(&html, "answer").contains("key id=1001 written to row 5"));

    // A picture of the page for people to look at (and proof it renders as a grid).
    let screenshot = directory.path().join("grid-page.png");
    run_chromium(
        &chromium,
        &directory.path().join("shot"),
        &[
            "--window-size=1280,800".into(),
            "--virtual-time-budget=3000".into(),
            format!("--screenshot={}", screenshot.display()),
            page,
        ],
    )
    .await;
    let image = std::fs::read(&screenshot).expect("screenshot");
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        image.len() > 10_000,
        "suspiciously small: {} bytes",
        image.len()
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    if std::fs::create_dir_all(&target).is_ok()
        && std::fs::copy(&screenshot, target.join("grid-page.png")).is_ok()
    {
        eprintln!(
            "grid page screenshot: {}",
            target.join("grid-page.png").display()
        );
    }
    assert_eq!(
        receiver.received().len(),
        1,
        "looking at the page sends nothing"
    );
}
