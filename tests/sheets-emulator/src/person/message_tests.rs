//! The message builder against hand-written expectations (the byte-for-byte comparison with
//! the real script is in `apps-script/test/emulator-person.test.js`).

use super::*;
use crate::api::model::CellValue;

const NOW: &str = "2026-03-01T09:30:00.250Z";

fn orders() -> Sheet {
    let mut sheet = Sheet::new(1234, "Orders".into(), 1000, 26);
    let rows: [[Option<CellValue>; 3]; 3] = [
        [
            Some(CellValue::Text("id".into())),
            Some(CellValue::Text("customer".into())),
            Some(CellValue::Text("total".into())),
        ],
        [
            Some(CellValue::Number(7.0)),
            Some(CellValue::Text("Ada".into())),
            Some(CellValue::Number(12.5)),
        ],
        [
            Some(CellValue::Number(8.0)),
            Some(CellValue::Text("Grace".into())),
            None,
        ],
    ];
    for (row, values) in rows.into_iter().enumerate() {
        for (column, value) in values.into_iter().enumerate() {
            sheet.cell_mut(row as u32, column as u32).value = value;
        }
    }
    sheet
}

fn settings() -> Settings {
    Settings {
        key_columns: vec!["id".into()],
        sheets: Vec::new(),
    }
}

fn edit(sheet: &Sheet, event: EditEvent) -> Result<Vec<String>, NotSent> {
    let settings = settings();
    let context = Context {
        spreadsheet_id: "spreadsheet-1",
        sheet,
        settings: &settings,
        user: Some("ada@example.com"),
        now: NOW,
    };
    let mut count = 0;
    let mut ids = || {
        count += 1;
        format!("id-{count}")
    };
    edit_messages(&context, &event, &mut ids)
        .map(|messages| messages.iter().map(Js::stringify).collect())
}

fn cell_event(row: u32, column: u32, old_value: Option<&str>) -> EditEvent {
    EditEvent {
        first_row: row,
        first_column: column,
        rows: 1,
        columns: 1,
        old_value: old_value.map(str::to_string),
    }
}

#[test]
fn a_single_cell_edit_carries_the_old_value_in_the_scripts_field_order() {
    let messages = edit(&orders(), cell_event(2, 3, Some("10"))).expect("sent");
    assert_eq!(
        messages,
        [concat!(
            r#"{"version":1,"delivery_id":"id-1","kind":"edit","spreadsheet_id":"spreadsheet-1","#,
            r#""sheet":"Orders","sheet_id":1234,"sent_at":"2026-03-01T09:30:00.250Z","#,
            r#""user":"ada@example.com","edited_at":"2026-03-01T09:30:00.250Z","#,
            r#""header":["id","customer","total"],"header_edited":false,"#,
            r#""rows":[{"row":2,"key":{"id":7},"values":{"total":12.5},"old_values":{"total":"10"}}]}"#
        )]
    );
}

#[test]
fn an_empty_cell_before_the_edit_is_an_empty_old_value() {
    let messages = edit(&orders(), cell_event(3, 3, None)).expect("sent");
    assert!(
        messages[0].contains(r#""values":{"total":null},"old_values":{"total":""}"#),
        "{}",
        messages[0]
    );
}

#[test]
fn a_paste_has_no_old_values_and_skips_rows_empty_on_both_sides() {
    let event = EditEvent {
        first_row: 2,
        first_column: 2,
        rows: 3,
        columns: 2,
        old_value: Some("ignored".into()),
    };
    let messages = edit(&orders(), event).expect("sent");
    assert!(messages[0].contains(concat!(
        r#""rows":[{"row":2,"key":{"id":7},"values":{"customer":"Ada","total":12.5}},"#,
        r#"{"row":3,"key":{"id":8},"values":{"customer":"Grace","total":null}}]}"#
    )));
    assert!(!messages[0].contains("old_values"));
}

#[test]
fn pastes_over_500_rows_are_split() {
    let mut sheet = orders();
    for row in 1..1201 {
        sheet.cell_mut(row, 0).value = Some(CellValue::Number(f64::from(row)));
    }
    let event = EditEvent {
        first_row: 2,
        first_column: 1,
        rows: 1200,
        columns: 1,
        old_value: None,
    };
    let messages = edit(&sheet, event).expect("sent");
    let counts: Vec<usize> = messages
        .iter()
        .map(|message| message.matches(r#""row":"#).count())
        .collect();
    assert_eq!(counts, [500, 500, 200]);
    assert!(messages[1].contains(r#""delivery_id":"id-2""#));
}

#[test]
fn header_edits_and_edits_outside_the_header_follow_the_script() {
    let header = edit(&orders(), cell_event(1, 2, Some("customer"))).expect("sent");
    assert!(
        header[0].contains(r#""header_edited":true,"rows":[]"#),
        "{}",
        header[0]
    );
    assert_eq!(
        edit(&orders(), cell_event(2, 9, None)),
        Err(NotSent::NoHeaderedColumn)
    );
    assert_eq!(
        edit(&orders(), cell_event(9, 2, None)),
        Err(NotSent::NothingToSend)
    );
    let empty = Sheet::new(1, "Empty".into(), 10, 10);
    assert!(matches!(
        edit(&empty, cell_event(2, 2, None)),
        Err(NotSent::EmptyTab { .. })
    ));
}

#[test]
fn a_missing_key_column_sends_nothing() {
    let mut sheet = orders();
    sheet.cell_mut(0, 0).value = Some(CellValue::Text("number".into()));
    assert!(matches!(
        edit(&sheet, cell_event(2, 2, None)),
        Err(NotSent::KeyColumnsMissing { .. })
    ));
}

#[test]
fn a_structure_message_lists_every_data_rows_key() {
    let mut sheet = orders();
    sheet.insert_rows(2, 1);
    let settings = settings();
    let context = Context {
        spreadsheet_id: "spreadsheet-1",
        sheet: &sheet,
        settings: &settings,
        user: None,
        now: NOW,
    };
    let message = structure_message(&context, "INSERT_ROW", "id-9".into()).expect("built");
    assert!(message.stringify().ends_with(concat!(
        r#""user":null,"change_type":"INSERT_ROW","changed_at":"2026-03-01T09:30:00.250Z","#,
        r#""key_columns":["id"],"keys":[[7],[null],[8]]}"#
    )));
}

#[test]
fn old_values_are_the_text_google_reports() {
    assert_eq!(event_text(&CellValue::Number(10.0)), "10");
    assert_eq!(event_text(&CellValue::Number(46024.5)), "46024.5");
    assert_eq!(event_text(&CellValue::Bool(true)), "TRUE");
    assert_eq!(event_text(&CellValue::Text("Ada".into())), "Ada");
}
