//! One MySQL transaction touching two mapped tables whose tabs live in two spreadsheets (one
//! table with a composite primary key): both tabs converge, and each spreadsheet's checkpoint
//! (developer metadata `sheetsync.checkpoint`) names its own mappings only and covers the
//! transaction.

use std::time::Duration;

use crate::sync_support::{
    execute, execute_returning_gtid, stored_checkpoint, tab_of, wait_for, wait_for_tab_in,
    wait_for_tab_to_equal_table, RunningSync, SyncBed,
};

const LIMIT: Duration = Duration::from_secs(20);
const ORDER_COLUMNS: &str = "id, customer, total_cents";
const LINE_COLUMNS: &str = "order_id, line, sku, qty";

#[tokio::test]
async fn one_transaction_reaches_two_spreadsheets_each_with_its_own_checkpoint() {
    let bed = SyncBed::start(
        "sync_two_sheets",
        &[
            "CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40), total_cents INT)",
            "CREATE TABLE order_lines (order_id INT, line INT, sku VARCHAR(20), qty INT,
               PRIMARY KEY (order_id, line))",
            "INSERT INTO orders VALUES (1, 'ada', 1250)",
            "INSERT INTO order_lines VALUES (1, 1, 'pen', 2), (1, 2, 'ink', 1)",
        ],
    )
    .await;
    let url = bed.database.url.clone();
    let lines_spreadsheet = bed
        .emulator
        .state
        .store
        .create_spreadsheet("lines", &["Sheet1"]);
    let config_text = bed.config_text_with(
        &[
            ("orders", &bed.spreadsheet_id, "Orders"),
            ("order_lines", &lines_spreadsheet, "Lines"),
        ],
        "",
    );
    let config = sheetsync::config::Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config);
    let lines_tab = |bed: &SyncBed| tab_of(&bed.emulator, &lines_spreadsheet, "Lines");
    wait_for_tab_to_equal_table(&bed, "Orders", "orders", ORDER_COLUMNS, LIMIT).await;
    wait_for(LIMIT, "the initial load of the lines", || {
        lines_tab(&bed).len() == 3
    })
    .await;
    assert_eq!(lines_tab(&bed)[0], ["order_id", "line", "sku", "qty"]);

    // One transaction across both tables: a new order with lines, a changed line, a deleted
    // line, and a composite key change (1, 2) → (1, 3).
    let gtid = execute_returning_gtid(
        &url,
        &[
            "BEGIN",
            "INSERT INTO orders VALUES (2, 'grace', 9999)",
            "INSERT INTO order_lines VALUES (2, 1, 'paper', 500), (2, 2, 'clip', 40), (2, 3, 'tape', 1)",
            "UPDATE orders SET total_cents = 1375 WHERE id = 1",
            "UPDATE order_lines SET qty = 3 WHERE order_id = 1 AND line = 1",
            "DELETE FROM order_lines WHERE order_id = 2 AND line = 2",
            "UPDATE order_lines SET line = 3 WHERE order_id = 1 AND line = 2",
            "COMMIT",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "Orders", "orders", ORDER_COLUMNS, LIMIT).await;
    wait_for_lines(&bed, &lines_spreadsheet).await;

    // Each checkpoint names its own mapping only, and both come to cover the transaction.
    wait_for(LIMIT, "both checkpoints to cover the transaction", || {
        [&bed.spreadsheet_id, &lines_spreadsheet].iter().all(|id| {
            stored_checkpoint(&bed.emulator, id).is_some_and(|checkpoint| {
                checkpoint
                    .mappings
                    .values()
                    .all(|position| position.covers(Some(&gtid), position))
            })
        })
    })
    .await;
    let orders_checkpoint =
        stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("orders checkpoint");
    let lines_checkpoint =
        stored_checkpoint(&bed.emulator, &lines_spreadsheet).expect("lines checkpoint");
    assert_eq!(
        orders_checkpoint.mappings.keys().collect::<Vec<_>>(),
        ["orders"]
    );
    assert_eq!(
        lines_checkpoint.mappings.keys().collect::<Vec<_>>(),
        ["order_lines"]
    );
    sync.stop().await.expect("graceful stop");

    // Restarted with a change to the lines only: each spreadsheet resumes from its own
    // checkpoint; nothing is lost or doubled on either side.
    execute(
        &url,
        &["INSERT INTO order_lines VALUES (3, 1, 'stamp', 10)"],
    )
    .await;
    let config = sheetsync::config::Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config);
    wait_for_lines(&bed, &lines_spreadsheet).await;
    wait_for_tab_to_equal_table(&bed, "Orders", "orders", ORDER_COLUMNS, LIMIT).await;
    sync.stop().await.expect("graceful stop");
}

/// Waits until the lines tab (in its own spreadsheet) equals the table.
async fn wait_for_lines(bed: &SyncBed, spreadsheet_id: &str) {
    wait_for_tab_in(
        bed,
        spreadsheet_id,
        "Lines",
        "order_lines",
        LINE_COLUMNS,
        LIMIT,
    )
    .await
}
