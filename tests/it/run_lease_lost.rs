//! The real `sheetsync run` survives losing its lease to a MariaDB restart while a Sheets call
//! waits to be retried (found by the convergence harness): the cut-short call is the lost
//! lease's own consequence, so the process stops writing, competes for the lease again and goes on syncing
//! — it does not exit with "sheets call cancelled".

use std::sync::Arc;
use std::time::{Duration, Instant};

use sheets_emulator::control::{ClassFilter, FaultSpec, FaultStage};
use sheetsync_testbed::MariaDb;

use crate::run_support::{free_port, Process};
use crate::support::write_config;
use crate::sync_support::{execute, try_wait_for_tab_to_equal_table, SyncBed};

const COLUMNS: &str = "id, name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_mid_call_is_competed_for_again_not_an_exit() {
    let server = Arc::new(MariaDb::start().expect("own MariaDB"));
    let bed = SyncBed::start_on(
        &server,
        "run_lease_lost",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40))",
            "INSERT INTO people VALUES (1, 'ada'), (2, 'grace')",
        ],
    )
    .await;
    let (directory, config) = write_config(&bed.config_text(&[("people", "People")], ""));
    let log = directory.path().join("sheetsync.log");
    let mut process = Process::run(&config, &log, free_port());
    let limit = Duration::from_secs(60);
    let converged = try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit);
    if let Err(difference) = converged.await {
        panic!("{difference}\n{}", process.log_tail(4000));
    }

    // Restarted while every Sheets read fails for a while: the new holder's pipeline is
    // waiting out a read's retry backoff (a wait the lost lease cuts short) when the server
    // restarts.
    process.kill_9();
    let control = &bed.emulator.state.control;
    let since = control.last_seq();
    control
        .add_fault(FaultSpec {
            applies_to: ClassFilter::Read,
            ..FaultSpec::next_writes(1_000, 503, FaultStage::Before)
        })
        .expect("fault");
    let mut process = Process::run(&config, &log, free_port());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !control
        .requests(Some(since))
        .iter()
        .any(|request| request.status == 503)
    {
        assert!(
            Instant::now() < deadline,
            "no read was tried: {}",
            process.log_tail(3000)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let restarting = server.clone();
    tokio::task::spawn_blocking(move || restarting.restart())
        .await
        .expect("restart task")
        .expect("MariaDB restart");
    control.clear_faults();

    // Still running well after the lease check failed, and syncing again.
    let exited = process.wait_exit(Duration::from_secs(6)).await;
    assert!(
        exited.is_none(),
        "sheetsync exited ({exited:?}) after losing its lease:\n{}",
        process.log_tail(4000)
    );
    execute(
        &bed.database.url,
        &["UPDATE people SET name = 'Grace' WHERE id = 2"],
    )
    .await;
    let converged = try_wait_for_tab_to_equal_table(&bed, "People", "people", COLUMNS, limit);
    if let Err(difference) = converged.await {
        panic!("{difference}\n{}", process.log_tail(4000));
    }
}
