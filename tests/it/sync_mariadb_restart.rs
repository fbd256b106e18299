//! MariaDB restarted twice while rows are being written and streamed: sheetsync reconnects on
//! its own (no restart of sheetsync) and the tab ends equal to the table — nothing lost,
//! doubled or stale.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use sheetsync_testbed::MariaDb;

use crate::sync_support::{tab_keys, wait_for_tab_to_equal_table, RunningSync, SyncBed};

const COLUMNS: &str = "id, name, n";

/// Runs `statement`, reconnecting and retrying while the server is down (bounded). Every
/// statement the writer below sends gives the same table whether it ran once or twice, so a
/// commit whose answer was lost to the restart may safely run again.
async fn execute_through_restarts(
    url: &str,
    connection: &mut Option<mysql_async::Conn>,
    statement: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if connection.is_none() {
            *connection = mysql_async::Conn::from_url(url).await.ok();
        }
        if let Some(open) = connection.as_mut() {
            if open.query_drop(statement).await.is_ok() {
                return;
            }
            *connection = None;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not come back within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheetsync_reconnects_after_mariadb_restarts_and_converges() {
    crate::sync_support::log_to_test_output();
    let server = Arc::new(MariaDb::start().expect("own MariaDB"));
    let bed = SyncBed::start_on(
        &server,
        "sync_restart",
        &["CREATE TABLE stream (id INT PRIMARY KEY, name VARCHAR(40), n INT)"],
    )
    .await;
    // A raised write quota (as for a project with more than Google's default): with 60 writes
    // a minute the first second of rows would spend the minute's budget and the tab would sit
    // still for a minute, which is correct but slow to wait for.
    let config_text = bed.config_text(&[("stream", "Stream")], "write_requests_per_minute = 1200");
    let config = sheetsync::config::Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config);
    crate::sync_support::wait_for(Duration::from_secs(20), "the header", || {
        bed.tab("Stream")
            .first()
            .is_some_and(|header| header == &["id", "name", "n"])
    })
    .await;

    // Rows keep coming, one transaction each, with updates of earlier rows mixed in.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (url, stop, written) = (bed.database.url.clone(), stop.clone(), written.clone());
        tokio::spawn(async move {
            let mut connection = None;
            let mut id = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let insert = format!(
                    "INSERT INTO stream VALUES ({id}, 'row {id}', 0) ON DUPLICATE KEY UPDATE name = VALUES(name)"
                );
                execute_through_restarts(&url, &mut connection, &insert).await;
                if id % 5 == 4 {
                    let update = format!(
                        "UPDATE stream SET n = {id}, name = 'updated' WHERE id = {}",
                        id - 3
                    );
                    execute_through_restarts(&url, &mut connection, &update).await;
                }
                id += 1;
                written.store(id, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if let Some(connection) = connection {
                let _ = connection.disconnect().await;
            }
        })
    };

    let started = Instant::now();
    for restart in 0..2 {
        // Mid-stream: rows are arriving in the tab when the server goes away.
        let seen = tab_keys(&bed.tab("Stream")).len();
        crate::sync_support::wait_for(
            Duration::from_secs(30),
            &format!(
                "more rows in the tab (written {})",
                written.load(Ordering::Relaxed)
            ),
            || tab_keys(&bed.tab("Stream")).len() >= seen + 50,
        )
        .await;
        let before = written.load(Ordering::Relaxed);
        let restarting = server.clone();
        tokio::task::spawn_blocking(move || restarting.restart())
            .await
            .expect("restart task")
            .expect("MariaDB restarts");
        eprintln!(
            "restart {restart} after {:?}, {before} rows written",
            started.elapsed()
        );
    }
    // Some rows after the last restart, then stop writing.
    let after = written.load(Ordering::Relaxed);
    crate::sync_support::wait_for(Duration::from_secs(30), "rows after the restarts", || {
        written.load(Ordering::Relaxed) >= after + 100
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("writer");
    eprintln!("{} rows written", written.load(Ordering::Relaxed));

    let converged_from = Instant::now();
    wait_for_tab_to_equal_table(&bed, "Stream", "stream", COLUMNS, Duration::from_secs(60)).await;
    eprintln!(
        "converged {:?} after the last write",
        converged_from.elapsed()
    );
    crate::sync_support::assert_no_key_twice(&bed.tab("Stream"));
    assert!(
        !sync.task.is_finished(),
        "the pipeline kept running through the restarts"
    );
    sync.stop().await.expect("graceful stop");
}
