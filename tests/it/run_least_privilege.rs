//! `sheetsync run` as the user `mysql-conf/grants.sql` creates, exactly as it says (the
//! database name and password filled in; the optional lines left commented out; `schema.sql`
//! run once by an administrator, as its comment asks), never as root: the initial load,
//! streaming, a signed webhook edit applied, and its echo suppressed.

use std::time::{Duration, Instant};

use serde_json::json;
use sheetsync_testbed::MariaDb;

use crate::run_support::{
    cell_edit, free_port, post_webhook, wait_for_readyz, with_ports, Process,
};
use crate::sheets_support::writes_since;
use crate::support::write_config;
use crate::sync_support::{execute, wait_for_tab_to_equal_table, SyncBed};

const SECRET: &str = "least-privilege-webhook";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_needs_no_more_than_the_documented_grants() {
    let server = MariaDb::start().expect("own MariaDB");
    let bed = SyncBed::start_on(
        &server,
        "shop",
        &[
            "CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40), total INT)",
            "INSERT INTO orders VALUES (1, 'ada', 10), (2, 'grace', 20)",
        ],
    )
    .await;
    let root = mysql_async::Pool::new(server.root_url().as_str());
    sheetsync::apply::schema::ensure(&root)
        .await
        .expect("schema.sql, as an administrator");
    let grants = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mysql-conf/grants.sql"
    ))
    .expect("grants.sql")
    .replace("`shop`", &format!("`{}`", bed.database.name))
    .replace("'change-me'", "'least-privilege'");
    server.execute(&grants).await;
    let _ = root.disconnect().await;
    let url = format!(
        "mysql://sheetsync:least-privilege@127.0.0.1:{}",
        server.port()
    );
    let (metrics_port, webhook_port) = (free_port(), free_port());
    let text = with_ports(
        &bed.config_text(&[("orders", "Orders")], ""),
        metrics_port,
        webhook_port,
        SECRET,
    )
    .replace(
        &format!("url = \"{}\"", bed.mysql_url),
        &format!("url = \"{url}\""),
    );
    assert!(text.contains("sheetsync:least-privilege@"), "{text}");
    let (directory, config) = write_config(&text);
    let service = Process::run(
        &config,
        &directory.path().join("sheetsync.log"),
        metrics_port,
    );
    let orders = format!("{}.orders", bed.database.name);

    // Initial load and streaming.
    wait_for_readyz(&service, 200, Duration::from_secs(60)).await;
    wait_for_tab_to_equal_table(
        &bed,
        "Orders",
        &orders,
        "id, customer, total",
        Duration::from_secs(30),
    )
    .await;
    execute(
        &bed.database.url,
        &[
            "INSERT INTO orders VALUES (3, 'linus', 30)",
            "UPDATE orders SET total = 21 WHERE id = 2",
        ],
    )
    .await;
    wait_for_tab_to_equal_table(
        &bed,
        "Orders",
        &orders,
        "id, customer, total",
        Duration::from_secs(30),
    )
    .await;

    // A person's edit, applied to MySQL by the least-privileged user.
    crate::sync_support::wait_past_the_load_allowance().await;
    bed.emulator
        .state
        .store
        .set_values(
            &bed.spreadsheet_id,
            "Orders!B2",
            vec![vec![json!("Ada L.")]],
            false,
        )
        .expect("the person's edit");
    let since = bed.emulator.state.control.last_seq();
    let message = cell_edit(
        &bed.spreadsheet_id,
        "Orders",
        &["id", "customer", "total"],
        (2, 1),
        ("customer", json!("Ada L."), json!("ada")),
        "least-1",
    );
    let (status, body) = post_webhook(webhook_port, SECRET, &message).await;
    assert_eq!(status, 200, "{body}\n{}", service.log_tail(4000));
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let rows = crate::sync_support::table_rows(&bed.database.url, &orders, "id, customer").await;
    assert_eq!(rows[0], ["1", "Ada L."]);

    // The echo is dropped: a later change reaches the sheet, the edited value is never written.
    execute(
        &bed.database.url,
        &["UPDATE orders SET total = 31 WHERE id = 3"],
    )
    .await;
    wait_for_tab_to_equal_table(
        &bed,
        "Orders",
        &orders,
        "id, customer, total",
        Duration::from_secs(30),
    )
    .await;
    let deadline = Instant::now() + Duration::from_millis(600);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let writes = writes_since(&bed.emulator, since);
    assert!(
        writes.iter().all(|entry| !entry.body.contains("Ada L.")),
        "the echo was written back"
    );
    let status = crate::run_support::status_json(&service)
        .await
        .expect("status");
    assert_eq!(status["role"], "leader");
    let log = service.log_text();
    assert!(
        !log.contains("denied") && !log.contains(" ERROR "),
        "a privilege was missing:\n{}",
        service.log_tail(6000)
    );
    service.terminate();
}
