//! A person typing and pasting: each admin call changes the sheet and the webhook receives the
//! exact JSON the Apps Script sends, signed as sheetsync's verifier expects.

mod person_support;

use serde_json::{json, Value};
use sheets_emulator::person::{DeliveryOutcome, Edit};

use person_support::{assert_all_valid, bed, masked, post, values, SPREADSHEET, TAB};

/// The envelope every edit message of the sample tab starts with, for `user`.
fn edit_prefix(user: &str) -> String {
    format!(
        concat!(
            r#"{{"version":1,"delivery_id":"…","kind":"edit","spreadsheet_id":"person-sheet-1","#,
            r#""sheet":"Orders","sheet_id":7,"sent_at":"…","user":{},"edited_at":"…","#,
            r#""header":["id","customer","total","paid"],"#
        ),
        user
    )
}

#[tokio::test]
async fn a_typed_cell_sends_its_key_new_value_and_old_value() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "cell": "C2", "value": "12.5", "user": "ada@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        masked(&received[0].body),
        edit_prefix(r#""ada@example.com""#)
            + r#""header_edited":false,"rows":[{"row":2,"key":{"id":1},"values":{"total":12.5},"old_values":{"total":"10"}}]}"#
    );
    assert_all_valid(&receiver);
    // The caller gets what was sent and the webhook's answer.
    let delivery = &outcome["deliveries"][0];
    assert_eq!(delivery["status"], 200);
    assert_eq!(delivery["outcome"], "answered");
    assert_eq!(
        delivery["request_body"],
        Value::String(received[0].body.clone())
    );
    assert_eq!(
        delivery["signature"],
        Value::String(received[0].signature.clone())
    );
    assert_eq!(
        serde_json::from_str::<Value>(delivery["body"].as_str().expect("text")).expect("json"),
        json!({"results": [{"row": 2, "status": "applied"}]})
    );
    assert_eq!(outcome["delivery_ids"][0], delivery["delivery_id"]);
    assert_eq!(outcome["queued"], 0);
    assert_eq!(values(&emulator)[1][2], json!(12.5));
}

#[tokio::test]
async fn a_paste_sends_every_row_without_old_values() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/edit",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 3, "column": 2,
               "values": [["Grace H.", "21"], ["Linus T.", "abc"]]}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    let received = receiver.received();
    assert_eq!(
        masked(&received[0].body),
        edit_prefix("null")
            + concat!(
                r#""header_edited":false,"rows":[{"row":3,"key":{"id":2},"values":{"customer":"Grace H.","total":21}},"#,
                r#"{"row":4,"key":{"id":3},"values":{"customer":"Linus T.","total":"abc"}}]}"#
            )
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn clearing_a_cell_and_ticking_a_checkbox_send_googles_old_values() {
    let (emulator, receiver) = bed().await;
    let person = emulator.state.person();
    person
        .edit(&Edit::cell(SPREADSHEET, TAB, "C3", Value::Null))
        .await
        .expect("clear");
    person
        .edit(&Edit::cell(SPREADSHEET, TAB, "D2", json!(true)).by("ada@example.com"))
        .await
        .expect("tick");
    let bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| masked(&r.body))
        .collect();
    assert_eq!(
        bodies,
        [
            edit_prefix("null")
                + r#""header_edited":false,"rows":[{"row":3,"key":{"id":2},"values":{"total":null},"old_values":{"total":"20"}}]}"#,
            edit_prefix(r#""ada@example.com""#)
                + r#""header_edited":false,"rows":[{"row":2,"key":{"id":1},"values":{"paid":true},"old_values":{"paid":"FALSE"}}]}"#,
        ]
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn a_new_row_typed_cell_by_cell_is_inserted_once_and_gets_its_key() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/add-row",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "values": {"total": "99", "customer": "Margaret"}}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    let bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| masked(&r.body))
        .collect();
    assert_eq!(
        bodies,
        [
            edit_prefix("null")
                + r#""header_edited":false,"rows":[{"row":5,"key":{"id":null},"values":{"customer":"Margaret"},"old_values":{"customer":""}}]}"#,
            edit_prefix("null")
                + r#""header_edited":false,"rows":[{"row":5,"key":{"id":1001},"values":{"total":99},"old_values":{"total":""}}]}"#,
        ],
        "left to right; the second cell carries the key written back after the first"
    );
    assert_eq!(
        outcome["keys_written"],
        json!([{"sheet": "Orders", "row": 5, "column": "id", "value": 1001}])
    );
    assert_eq!(outcome["deliveries"].as_array().expect("list").len(), 2);
    assert_eq!(
        values(&emulator)[4],
        [json!(1001), json!("Margaret"), json!(99)]
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn header_edits_are_flagged_and_edits_right_of_the_header_send_nothing() {
    let (emulator, receiver) = bed().await;
    let person = emulator.state.person();
    let outside = person
        .edit(&Edit::cell(SPREADSHEET, TAB, "F2", json!("scribble")))
        .await
        .expect("edit");
    assert!(outside.deliveries.is_empty());
    assert_eq!(outside.log, ["the edit touched no column with a header"]);
    assert_eq!(
        values(&emulator)[1][5],
        json!("scribble"),
        "the cell changed"
    );
    let header = person
        .edit(&Edit::cell(SPREADSHEET, TAB, "B1", json!("client")))
        .await
        .expect("edit");
    assert_eq!(header.deliveries.len(), 1);
    assert_eq!(header.deliveries[0].outcome, DeliveryOutcome::Answered);
    assert_eq!(
        masked(&receiver.received()[0].body),
        concat!(
            r#"{"version":1,"delivery_id":"…","kind":"edit","spreadsheet_id":"person-sheet-1","#,
            r#""sheet":"Orders","sheet_id":7,"sent_at":"…","user":null,"edited_at":"…","#,
            r#""header":["id","client","total","paid","",""],"header_edited":true,"rows":[]}"#
        )
    );
}

#[tokio::test]
async fn a_paste_of_20_by_5_is_one_message_of_20_rows() {
    let (emulator, receiver) = bed().await;
    let block: Vec<Vec<Value>> = (0..20)
        .map(|index| {
            vec![
                json!(100 + index),
                json!(format!("pasted {index}")),
                json!(index as f64 + 0.25),
                json!(index % 2 == 0),
                json!("2026-01-02 12:00"),
            ]
        })
        .collect();
    let outcome = emulator
        .state
        .person()
        .edit(&Edit::paste(SPREADSHEET, TAB, "A2", block))
        .await
        .expect("paste");
    assert_eq!(outcome.deliveries.len(), 1);
    let received = receiver.received();
    let message: Value = serde_json::from_str(&received[0].body).expect("json");
    let rows = message["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 20);
    // Column E has no header: the date typed there is the person's, not synced.
    assert_eq!(
        rows[19],
        json!({"row": 21, "key": {"id": 119}, "values": {"id": 119, "customer": "pasted 19", "total": 19.25, "paid": false}})
    );
    assert_all_valid(&receiver);
}
