//! Deliveries behave as the Apps Script's: a 503 or a network error is kept and retried in
//! order with the same body, a 4xx is not retried, a body too big to queue is sent once, the
//! webhook's answer (a refused value) reaches the caller, and a key is written back only where
//! the row still holds what was sent.

mod person_support;

use serde_json::json;
use sheets_emulator::person::{AddRow, DeliveryOutcome, Edit, WebhookTarget};

use person_support::{assert_all_valid, bed, get, post, values, Answer, SECRET, SPREADSHEET, TAB};

fn unavailable() -> Answer {
    Answer::Canned(
        503,
        json!({"error": {"status": 503, "message": "database unavailable"}}),
    )
}

#[tokio::test]
async fn a_503_is_kept_and_sent_again_first_with_the_same_body() {
    let (emulator, receiver) = bed().await;
    receiver.answer_next(unavailable());
    let person = emulator.state.person();
    let first = person
        .edit(&Edit::cell(SPREADSHEET, TAB, "C2", json!(11)))
        .await
        .expect("edit");
    assert_eq!(first.deliveries[0].status, 503);
    assert_eq!(first.deliveries[0].outcome, DeliveryOutcome::KeptForRetry);
    assert!(first.deliveries[0].body.contains("database unavailable"));
    assert_eq!(first.queued, 1);
    let (_, queue) = get(&emulator.base_url, "/_emulator/person/queue").await;
    assert_eq!(
        queue,
        json!({"queued": [{"delivery_id": first.delivery_ids[0], "kind": "edit"}]})
    );

    // The next edit's execution sends the queue oldest first: the kept delivery, then its own.
    let second = person
        .edit(&Edit::cell(SPREADSHEET, TAB, "C2", json!(12)))
        .await
        .expect("edit");
    let sent: Vec<&str> = second
        .deliveries
        .iter()
        .map(|delivery| delivery.delivery_id.as_str())
        .collect();
    assert_eq!(
        sent,
        [
            first.delivery_ids[0].as_str(),
            second.delivery_ids[0].as_str()
        ]
    );
    assert_eq!(
        second.deliveries[0].request_body,
        first.deliveries[0].request_body
    );
    assert!(second
        .deliveries
        .iter()
        .all(|delivery| delivery.outcome == DeliveryOutcome::Answered));
    assert_eq!(second.queued, 0);
    assert_eq!(receiver.received().len(), 3);
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn the_retry_call_is_the_one_minute_trigger() {
    let (emulator, receiver) = bed().await;
    receiver.answer_next(unavailable());
    receiver.answer_next(unavailable());
    post(
        &emulator.base_url,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "B2", "value": "Ada L."}),
    )
    .await;
    let (status, still) = post(&emulator.base_url, "/_emulator/person/retry", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(still["deliveries"][0]["outcome"], "kept_for_retry");
    assert_eq!(still["queued"], 1);
    let (_, retried) = post(&emulator.base_url, "/_emulator/person/retry", json!({})).await;
    assert_eq!(retried["deliveries"][0]["outcome"], "answered");
    assert_eq!(retried["queued"], 0);
    let bodies: Vec<String> = receiver.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|body| *body == bodies[0]),
        "same body each time"
    );
    assert_all_valid(&receiver);
    let (_, nothing) = post(&emulator.base_url, "/_emulator/person/retry", json!({})).await;
    assert_eq!(nothing["deliveries"], json!([]));
}

#[tokio::test]
async fn a_network_error_is_kept_until_the_webhook_answers() {
    let (emulator, receiver) = bed().await;
    let person = emulator.state.person();
    person
        .configure_webhook(WebhookTarget::new("http://127.0.0.1:1/webhook", SECRET))
        .expect("configure");
    let outcome = person
        .edit(&Edit::cell(SPREADSHEET, TAB, "C3", json!(21)))
        .await
        .expect("edit");
    assert_eq!(outcome.deliveries[0].status, 0);
    assert_eq!(outcome.deliveries[0].outcome, DeliveryOutcome::KeptForRetry);
    assert!(
        outcome.deliveries[0].body.contains("127.0.0.1:1"),
        "{}",
        outcome.deliveries[0].body
    );
    person
        .configure_webhook(WebhookTarget::new(&receiver.url, SECRET))
        .expect("configure");
    let retried = person.retry().await.expect("retry");
    assert_eq!(retried.deliveries[0].delivery_id, outcome.delivery_ids[0]);
    assert_eq!(retried.deliveries[0].status, 200);
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn a_4xx_is_refused_for_good_and_its_answer_reaches_the_caller() {
    let (emulator, receiver) = bed().await;
    receiver.answer_next(Answer::Canned(
        422,
        json!({"error": {"status": 422, "message": "unknown column \"paid\""}}),
    ));
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "D3", "value": false}),
    )
    .await;
    assert_eq!(status, 200, "the person call itself worked");
    assert_eq!(outcome["deliveries"][0]["status"], 422);
    assert_eq!(outcome["deliveries"][0]["outcome"], "refused");
    assert!(outcome["deliveries"][0]["body"]
        .as_str()
        .expect("text")
        .contains(r#"unknown column \"paid\""#));
    assert_eq!(outcome["queued"], 0);
    let retried = emulator.state.person().retry().await.expect("retry");
    assert!(retried.deliveries.is_empty(), "not retried");
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_refused_value_is_reported_with_the_services_reason() {
    let (emulator, receiver) = bed().await;
    let answer = json!({"results": [{"row": 2, "status": "rejected",
        "errors": [{"column": "total", "message": "\"abc\" is not a number"}]}]});
    receiver.answer_next(Answer::Canned(200, answer.clone()));
    let outcome = emulator
        .state
        .person()
        .edit(&Edit::cell(SPREADSHEET, TAB, "C2", json!("abc")))
        .await
        .expect("edit");
    assert_eq!(outcome.deliveries[0].answer(), Some(answer));
    assert!(outcome.keys_written.is_empty());
}

#[tokio::test]
async fn a_body_too_big_to_queue_is_sent_once_and_lost_on_failure() {
    let (emulator, receiver) = bed().await;
    receiver.answer_next(unavailable());
    let long = "x".repeat(40_000);
    let block = vec![vec![json!(long)], vec![json!(long)], vec![json!(long)]];
    let outcome = emulator
        .state
        .person()
        .edit(&Edit::paste(SPREADSHEET, TAB, "B2", block))
        .await
        .expect("paste");
    assert!(outcome.deliveries[0].request_body.len() > 100_000);
    assert_eq!(outcome.deliveries[0].status, 503);
    assert_eq!(outcome.deliveries[0].outcome, DeliveryOutcome::Lost);
    assert_eq!(outcome.queued, 0);
    assert!(emulator.state.person().queued().is_empty());
}

#[tokio::test]
async fn a_key_is_not_written_into_a_row_that_changed_before_it_arrived() {
    let (emulator, receiver) = bed().await;
    let state = emulator.state.clone();
    receiver.answer_next(Answer::After(Box::new(move || {
        // Someone retyped the name while the webhook was inserting the row.
        state
            .store
            .set_values(
                SPREADSHEET,
                "Orders!B5",
                vec![vec![json!("Margaret H.")]],
                true,
            )
            .expect("retype");
    })));
    let outcome = emulator
        .state
        .person()
        .add_row(&AddRow {
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            values: serde_json::from_value(json!({"customer": "Margaret"})).expect("map"),
            row: None,
            user: None,
        })
        .await
        .expect("add row");
    assert!(outcome.keys_written.is_empty());
    assert_eq!(
        outcome.log,
        ["row 5 changed before its key arrived; reconcile will fix it"]
    );
    assert_eq!(values(&emulator)[4], [json!(""), json!("Margaret H.")]);
}
