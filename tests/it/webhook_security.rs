//! The webhook's gates over a real listener: a corpus of bad requests, each answered with the
//! exact status and a message naming the problem, and none of them reaching the apply step.
//! Then the good paths: replays answered idempotently, 503 retried, SQL-looking data passed on.

use serde_json::{json, Value};
use sheetsync::webhook::signature::sign;

use crate::webhook_support::{
    edit_message, error_message, TestServer, BODY_LIMIT_BYTES, NOW, SECRET,
};

/// How a case builds its request from a valid body.
pub(crate) enum Request {
    /// Sign this body correctly at the server's time.
    Signed(Vec<u8>),
    /// Full control: timestamp header, signature header, body.
    Raw(Option<String>, Option<String>, Vec<u8>),
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) request: Request,
    pub(crate) status: u16,
    pub(crate) message: &'static str,
}

fn body_with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut message = edit_message("bad-1");
    change(&mut message);
    message.to_string().into_bytes()
}

/// A valid edit with the value at a JSON pointer replaced, correctly signed.
fn set(pointer: &str, value: Value) -> Request {
    Request::Signed(body_with(|message| {
        *message.pointer_mut(pointer).expect("pointer into the edit") = value;
    }))
}

/// A valid edit with the field at a JSON pointer removed, correctly signed.
fn remove(pointer: &str) -> Request {
    Request::Signed(body_with(|message| remove_field(message, pointer)))
}

fn remove_field(message: &mut Value, pointer: &str) {
    let (parent, field) = pointer.rsplit_once('/').expect("pointer with a parent");
    message
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("parent object")
        .remove(field);
}

/// The first row's values replaced (and its old values dropped, which must match them).
fn set_values(values: Value) -> Request {
    Request::Signed(body_with(|message| {
        message["rows"][0]["values"] = values;
        remove_field(message, "/rows/0/old_values");
    }))
}

fn bytes(body: &[u8]) -> Request {
    Request::Signed(body.to_vec())
}

fn signed_at(timestamp: i64, body: &[u8]) -> (Option<String>, Option<String>) {
    let timestamp = timestamp.to_string();
    let signature = sign(SECRET.as_bytes(), &timestamp, body);
    (Some(timestamp), Some(signature))
}

/// Bad requests against the server of [`TestServer::start`] (its secret, clock, body limit and
/// mappings); also sent to the real MySQL apply by `webhook_corpus_mysql`.
pub(crate) fn corpus() -> Vec<Case> {
    let good = body_with(|_| {});
    let now = NOW.to_string();
    let good_signature = sign(SECRET.as_bytes(), &now, &good);
    let hex = good_signature.trim_start_matches("sha256=").to_string();
    // The good body with these headers.
    let headers = |timestamp: Option<&str>, signature: Option<String>| {
        Request::Raw(timestamp.map(str::to_string), signature, good.clone())
    };
    let signed = |signature: String| headers(Some(&now), Some(signature));
    let at = |timestamp: i64| {
        let (timestamp, signature) = signed_at(timestamp, &good);
        Request::Raw(timestamp, signature, good.clone())
    };
    let case = |name, request, status, message| Case {
        name,
        request,
        status,
        message,
    };
    let mismatch = "signature does not match the body";
    let no_scheme = "must start with \"sha256=\"";
    let duplicate_row = Request::Signed(body_with(|message| {
        let row = message["rows"][0].clone();
        if let Some(rows) = message["rows"].as_array_mut() {
            rows.push(row);
        }
    }));
    vec![
        // 401: authentication.
        case("missing signature", headers(Some(&now), None), 401, "missing header X-Sheetsync-Signature"),
        case("missing timestamp", headers(None, Some(good_signature.clone())), 401, "missing header X-Sheetsync-Timestamp"),
        case("empty signature", signed(String::new()), 401, no_scheme),
        case("wrong scheme", signed(format!("sha1={hex}")), 401, no_scheme),
        case("no scheme", signed(hex.clone()), 401, no_scheme),
        case("uppercase hex", signed(format!("sha256={}", hex.to_uppercase())), 401, "64 lowercase hex digits"),
        case("truncated signature", signed(format!("sha256={}", &hex[..63])), 401, "64 lowercase hex digits"),
        case("signature over another body", signed(sign(SECRET.as_bytes(), &now, b"{}")), 401, mismatch),
        case("signature with another secret", signed(sign(b"guess", &now, &good)), 401, mismatch),
        case("signed time differs from header", headers(Some(&(NOW + 1).to_string()), Some(good_signature.clone())), 401, mismatch),
        case("stale timestamp", at(NOW - 301), 401, "timestamp is 301 s away"),
        case("future timestamp", at(NOW + 301), 401, "timestamp is -301 s away"),
        case("non-numeric timestamp", headers(Some("yesterday"), Some(good_signature.clone())), 401, "not unix seconds"),
        case("negative timestamp", headers(Some("-1767225600"), Some(good_signature.clone())), 401, "not unix seconds"),
        case("timestamp in milliseconds", at(NOW * 1000), 401, "away from the server's clock"),
        // 400: the body.
        case("malformed JSON", bytes(b"{\"version\":1,"), 400, "body is not valid JSON"),
        case("empty body", bytes(b""), 400, "body is not valid JSON"),
        case("invalid UTF-8", bytes(b"{\"sheet\":\"Ord\xc3\x28rs\"}"), 400, "not valid UTF-8 (invalid byte at offset 13)"),
        case("body is an array", bytes(b"[1,2]"), 400, "expected an object, found an array"),
        case("deeply nested JSON", bytes("[".repeat(100_000).as_bytes()), 400, "recursion limit exceeded"),
        case("missing delivery_id", remove("/delivery_id"), 400, "field `delivery_id` is missing"),
        case("missing rows", remove("/rows"), 400, "field `rows` is missing"),
        case("missing row key", remove("/rows/0/key"), 400, "field `rows[0].key` is missing"),
        case("sheet_id is a string", set("/sheet_id", json!("0")), 400, "field `sheet_id`: expected an integer, found a string"),
        case("unknown version", set("/version", json!(2)), 400, "unsupported version 2; this service speaks version 1"),
        case("unknown kind", set("/kind", json!("truncate")), 400, "field `kind`: expected \"edit\" or \"structure\", found \"truncate\""),
        case("row zero", set("/rows/0/row", json!(0)), 400, "field `rows[0].row`: 0 is out of range 1..=10000000"),
        case("negative row", set("/rows/0/row", json!(-5)), 400, "field `rows[0].row`: -5 is out of range"),
        case("huge row", set("/rows/0/row", json!(10_000_001)), 400, "field `rows[0].row`: 10000001 is out of range"),
        case("astronomic row", set("/rows/0/row", json!(1e300)), 400, "field `rows[0].row`: 1e+300 is out of range"),
        case("row 1 is the header", set("/rows/0/row", json!(1)), 400, "row 1 is the header"),
        case("duplicate rows", duplicate_row, 400, "field `rows[1].row`: row 2 appears more than once"),
        case("row is a string", set("/rows/0", json!("2")), 400, "field `rows[0]`: expected an object, found a string"),
        case("value is an object", set("/rows/0/values/total", json!({"$gt": 1})), 400, "field `rows[0].values.total`: expected a string, number, boolean or null, found an object"),
        case("50,001-character value", set("/rows/0/values/total", json!("9".repeat(50_001))), 400, "field `rows[0].values.total`: 50001 characters, at most 50000 per cell"),
        case("old value is a number", set("/rows/0/old_values/total", json!(10)), 400, "field `rows[0].old_values.total`: expected a string, found a number"),
        case("edited_at is not ISO 8601", set("/edited_at", json!("1767225600")), 400, "field `edited_at`: expected an ISO 8601 UTC time"),
        case("delivery_id with spaces", set("/delivery_id", json!("a b")), 400, "field `delivery_id`: expected 1 to 128 characters"),
        // 413.
        case("oversize body", bytes(&vec![b' '; BODY_LIMIT_BYTES + 1]), 413, "body is larger than the limit of 262144 bytes"),
        // 422: well-formed, but not ours. Names that look like SQL are just names here.
        case("unknown spreadsheet", set("/spreadsheet_id", json!("someone-else")), 422, "unknown spreadsheet \"someone-else\""),
        case("unknown tab", set("/sheet", json!("Invoices")), 422, "unknown tab \"Invoices\" in spreadsheet \"sheet-1\""),
        case("unknown column", set_values(json!({"discount": 1})), 422, "mapping \"orders\" does not sync column(s) \"discount\""),
        case("SQL-looking tab", set("/sheet", json!("Orders'; DROP TABLE orders; --")), 422, "unknown tab \"Orders'; DROP TABLE orders; --\""),
        case("SQL-looking column", set_values(json!({"total = 0 WHERE 1=1; --": 1})), 422, "does not sync column(s) \"total = 0 WHERE 1=1; --\""),
        case("SQL-looking key column", set("/rows/0/key", json!({"id` OR 1=1 --": 1})), 422, "\"id` OR 1=1 --\""),
    ]
}

#[tokio::test]
async fn every_bad_request_gets_its_status_and_a_precise_message_and_applies_nothing() {
    let server = TestServer::start().await;
    let cases = corpus();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let (status, body, _) = match case.request {
            Request::Signed(body) => server.send_signed(body).await,
            Request::Raw(timestamp, signature, body) => {
                server
                    .send_raw(timestamp.as_deref(), signature.as_deref(), body)
                    .await
            }
        };
        let message = error_message(&body);
        let body_status = body["error"]["status"].as_u64();
        if status != case.status
            || body_status != Some(u64::from(case.status))
            || !message.contains(case.message)
        {
            failures.push(format!(
                "{}: got {status} {body}, expected {} containing {:?}",
                case.name, case.status, case.message
            ));
        }
        assert!(
            !message.contains(SECRET),
            "{}: the secret leaked",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        server.apply.calls(),
        0,
        "a bad request reached the apply step"
    );
}

#[tokio::test]
async fn a_repeated_delivery_gets_the_first_answer_and_is_applied_once() {
    let server = TestServer::start().await;
    let body = edit_message("delivery-7").to_string().into_bytes();
    let (status, first, replayed) = server.send_signed(body.clone()).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first, json!({"results": [{"row": 2, "status": "applied"}]}));

    // The script's retry: same body, re-signed with a fresh timestamp a minute later.
    server
        .clock
        .0
        .fetch_add(60, std::sync::atomic::Ordering::SeqCst);
    let (status, second, replayed) = server.send_signed(body.clone()).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(second, first);
    assert_eq!(server.apply.calls(), 1, "applied twice");

    // A captured copy replayed after its signature went stale is refused outright.
    let (timestamp, signature) = signed_at(NOW, &body);
    server
        .clock
        .0
        .fetch_add(300, std::sync::atomic::Ordering::SeqCst);
    let (status, refused, _) = server
        .send_raw(timestamp.as_deref(), signature.as_deref(), body)
        .await;
    assert_eq!(status, 401, "{refused}");
    assert!(error_message(&refused).contains("away from the server's clock"));
    assert_eq!(server.apply.calls(), 1);
}

#[tokio::test]
async fn concurrent_copies_of_one_delivery_are_applied_once() {
    let server = TestServer::start().await;
    server
        .apply
        .delay_milliseconds
        .store(200, std::sync::atomic::Ordering::SeqCst);
    let body = edit_message("delivery-11").to_string().into_bytes();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let server = server.clone();
            let body = body.clone();
            tokio::spawn(async move { server.send_signed(body).await })
        })
        .collect();
    let mut replayed_count = 0;
    for task in tasks {
        let (status, answer, replayed) = task.await.expect("request task");
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"results": [{"row": 2, "status": "applied"}]})
        );
        replayed_count += usize::from(replayed);
    }
    assert_eq!(replayed_count, 7);
    assert_eq!(server.apply.calls(), 1);
}

#[tokio::test]
async fn a_database_outage_is_503_and_the_retry_applies() {
    let server = TestServer::start().await;
    server
        .apply
        .unavailable
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let body = edit_message("delivery-8").to_string().into_bytes();
    let (status, answer, _) = server.send_signed(body.clone()).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        answer,
        json!({"error": {"status": 503, "message": "database unavailable, retry later"}})
    );
    let (status, answer, replayed) = server.send_signed(body).await;
    assert_eq!((status, replayed), (200, false), "{answer}");
    assert_eq!(server.apply.calls(), 1);
}

#[tokio::test]
async fn sql_looking_values_are_just_data() {
    let server = TestServer::start().await;
    let hostile = "'; DROP TABLE orders; -- \u{0}=HYPERLINK(\"x\")";
    let body = body_with(|m| {
        m["delivery_id"] = json!("delivery-9");
        m["rows"][0]["values"] = json!({"customer": hostile});
        m["rows"][0]
            .as_object_mut()
            .map(|row| row.remove("old_values"));
    });
    let (status, answer, _) = server.send_signed(body).await;
    assert_eq!(status, 200, "{answer}");
    let requests = server.apply.requests.lock().expect("lock");
    let sheetsync::webhook::ApplyRequest::Edit(edit) = &requests[0] else {
        panic!("not an edit")
    };
    assert_eq!(
        edit.message.rows[0].values.get("customer"),
        Some(&sheetsync::webhook::CellValue::Text(hostile.into()))
    );
}

#[tokio::test]
async fn an_unmapped_column_list_accepts_any_column_and_structure_messages_route() {
    let server = TestServer::start().await;
    let structure = json!({
        "version": 1, "delivery_id": "delivery-10", "kind": "structure",
        "spreadsheet_id": "sheet-1", "sheet": "Notes", "sheet_id": 3,
        "sent_at": "2026-01-01T00:00:00.000Z", "user": null,
        "change_type": "INSERT_ROW", "changed_at": "2026-01-01T00:00:00.000Z",
        "key_columns": ["anything"], "keys": [["a"], [null], [3]]
    });
    let (status, answer, _) = server.send_signed(structure.to_string().into_bytes()).await;
    assert_eq!((status, answer), (200, json!({"results": []})));
    assert_eq!(
        server.apply.requests.lock().expect("lock")[0]
            .mapping()
            .name,
        "notes"
    );
}
