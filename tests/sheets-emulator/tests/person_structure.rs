//! A person rearranging rows: deletes, inserts and sorts change the sheet as the UI does and
//! send the `onChange` structure message with the key column snapshot, exactly as the script.

mod person_support;

use serde_json::json;
use sheets_emulator::person::{RowSpan, Sort};

use person_support::{assert_all_valid, bed, masked, post, values, SPREADSHEET, TAB};

fn structure(change_type: &str, keys: &str) -> String {
    format!(
        concat!(
            r#"{{"version":1,"delivery_id":"…","kind":"structure","spreadsheet_id":"person-sheet-1","#,
            r#""sheet":"Orders","sheet_id":7,"sent_at":"…","user":null,"change_type":"{}","#,
            r#""changed_at":"…","key_columns":["id"],"keys":{}}}"#
        ),
        change_type, keys
    )
}

#[tokio::test]
async fn deleting_a_row_sends_remove_row_with_the_remaining_keys() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/delete-rows",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 3}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        masked(&receiver.received()[0].body),
        structure("REMOVE_ROW", "[[1],[3]]")
    );
    assert_eq!(outcome["deliveries"][0]["body"], r#"{"results":[]}"#);
    assert_eq!(values(&emulator)[2][1], json!("Linus"));
    assert_eq!(
        emulator.state.store.grid_size(SPREADSHEET, TAB),
        Some((999, 26)),
        "the row is gone from the grid, not just cleared"
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn inserting_rows_sends_insert_row_with_empty_keys_in_place() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/insert-rows",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "row": 3, "count": 2}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        masked(&receiver.received()[0].body),
        structure("INSERT_ROW", "[[1],[null],[null],[2],[3]]")
    );
    assert_eq!(
        emulator.state.store.grid_size(SPREADSHEET, TAB),
        Some((1002, 26))
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn sorting_moves_whole_rows_and_sends_other() {
    let (emulator, receiver) = bed().await;
    let (status, outcome) = post(
        &emulator.base_url,
        "/_emulator/person/sort",
        json!({"spreadsheet_id": SPREADSHEET, "sheet": TAB, "column": "customer", "descending": true}),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        masked(&receiver.received()[0].body),
        structure("OTHER", "[[3],[2],[1]]")
    );
    assert_eq!(
        values(&emulator)[1..],
        [
            [json!(3), json!("Linus"), json!(30), json!(false)],
            [json!(2), json!("Grace"), json!(20), json!(true)],
            [json!(1), json!("Ada"), json!(10), json!(false)],
        ]
    );
    assert_all_valid(&receiver);
}

#[tokio::test]
async fn a_sort_by_column_letter_over_part_of_the_rows_keeps_the_rest() {
    let (emulator, receiver) = bed().await;
    let person = emulator.state.person();
    let sort = Sort {
        spreadsheet_id: SPREADSHEET.into(),
        sheet: TAB.into(),
        column: "C".into(),
        descending: true,
        first_row: Some(2),
        last_row: Some(3),
        user: Some("ada@example.com".into()),
    };
    person.sort(&sort).await.expect("sort");
    let ids: Vec<_> = values(&emulator)[1..]
        .iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(ids, [json!(2), json!(1), json!(3)]);
    assert!(receiver.received()[0]
        .body
        .contains(r#""user":"ada@example.com","change_type":"OTHER""#));
    // The Rust methods answer like the routes.
    let deleted = person
        .delete_rows(&RowSpan {
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            row: 2,
            count: 2,
            user: None,
        })
        .await
        .expect("delete");
    assert_eq!(deleted.deliveries[0].status, 200);
    assert_eq!(
        masked(&receiver.received()[1].body),
        structure("REMOVE_ROW", "[[3]]")
    );
}
