//! A person removes a row the writer appended after the webhook last saw the tab's keys (found
//! by the convergence harness: the database kept the row). The webhook deletes only keys it
//! knows were in the tab, and it learned the tab's keys from structure reports and edits only,
//! so a row inserted by SQL and deleted by the person before any report was never deleted.
//! Now each flush tells it which keys the writer put in the tab.

use std::time::{Duration, Instant};

use sheets_emulator::person::{RowSpan, WebhookTarget};

use crate::sync_support::{execute, table_rows, try_wait_for_tab_to_equal_table};
use crate::twoway_echo::{people_service, SECRET};

const COLUMNS: &str = "id, name, qty";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_writer_appended_is_deleted_when_the_person_removes_it() {
    let (bed, service) = people_service(
        "twoway_delete_appended",
        &["ada", "grace"],
        "deletes = true\n",
    )
    .await;
    let limit = Duration::from_secs(30);
    let person = bed.emulator.state.person();
    person
        .configure_webhook(WebhookTarget::new(
            &format!("http://127.0.0.1:{}/webhook", service.port),
            SECRET,
        ))
        .expect("webhook target");

    // A row from the database, appended by the writer at sheet row 4; no report since.
    execute(
        &bed.database.url,
        &["INSERT INTO people (name, qty) VALUES ('from the database', 7)"],
    )
    .await;
    try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit)
        .await
        .expect("the database row in the tab");
    assert_eq!(bed.tab("People")[3][0], "3", "{:?}", bed.tab("People"));

    let outcome = person
        .delete_rows(&RowSpan {
            spreadsheet_id: bed.spreadsheet_id.clone(),
            sheet: "People".into(),
            row: 4,
            count: 1,
            user: None,
        })
        .await
        .expect("the person removes row 4");
    assert_eq!(outcome.deliveries.len(), 1, "{outcome:?}");
    assert_eq!(outcome.deliveries[0].status, 200, "{outcome:?}");

    let table = format!("{}.people", bed.database.name);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = table_rows(&bed.database.url, &table, COLUMNS).await;
        if rows.len() == 2 {
            assert!(rows.iter().all(|row| row[0] != "3"), "{rows:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the removed row is still in the table: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit)
        .await
        .expect("tab equals table");
    service.stop().await.expect("graceful stop");
}
