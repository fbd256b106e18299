//! Graceful shutdown of the real process: `kill -TERM` during a burst → exit code 0 within a
//! bounded time, having flushed what was pending and stored a checkpoint that covers every row
//! it wrote; a restart then writes no row a second time (every row it writes is one the tab did
//! not have at the stop) and the tab converges to the table.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::run_support::{free_port, wait_for_readyz, Process};
use crate::support::write_config;
use crate::sync_support::{
    assert_no_key_twice, execute, stored_checkpoint, tab_keys, try_wait_for_tab_to_equal_table,
    SyncBed,
};

const ROWS: usize = 4_000;
/// What the stop may take: the pipeline's flush bound (20 s) and slack.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// The `row N` names in a logged request body.
fn row_names(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (index, _) in body.match_indices("row ") {
        let digits: String = body[index + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            names.push(digits);
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_stores_the_checkpoint_and_a_restart_writes_nothing_twice() {
    let bed = SyncBed::start(
        "run_graceful_shutdown",
        // Inserts only, each row written once: a row written again after the restart can only
        // be a replay the checkpoint should have covered.
        &["CREATE TABLE burst (id INT PRIMARY KEY, name VARCHAR(20))"],
    )
    .await;
    // The restart's flushes carry up to 2 MB each; the test reads every row name in them.
    bed.emulator
        .state
        .control
        .set_logged_body_limit(4 * 1024 * 1024);
    let (directory, config) = write_config(&bed.config_text(&[("burst", "Burst")], ""));
    let log = directory.path().join("sheetsync.log");
    let port = free_port();
    let mut service = Process::run(&config, &log, port);
    wait_for_readyz(&service, 200, Duration::from_secs(60)).await;

    let url = bed.database.url.clone();
    let burst = tokio::spawn(async move {
        let mut next = 0;
        while next < ROWS {
            let values: Vec<String> = (next..next + 25)
                .map(|id| format!("({id}, 'row {id}')"))
                .collect();
            execute(
                &url,
                &[&format!("INSERT INTO burst VALUES {}", values.join(","))],
            )
            .await;
            next += 25;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while bed.tab("Burst").len() < 500 {
        assert!(Instant::now() < deadline, "never streamed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    service.terminate();
    let asked = Instant::now();
    let exit = service.wait_exit(STOP_LIMIT).await;
    let took = asked.elapsed();
    let exit =
        exit.unwrap_or_else(|| panic!("no exit within {STOP_LIMIT:?}\n{}", service.log_tail(4000)));
    assert_eq!(exit.code(), Some(0), "{}", service.log_tail(4000));
    eprintln!("stopped in {took:?}");
    assert!(
        service
            .log_text()
            .contains("stopping: flushing what is pending"),
        "{}",
        service.log_tail(2000)
    );

    // What the stop left: the tab's rows, and a checkpoint covering them. A flush the process
    // gave up on at its shutdown bound may still be applied by the server after the exit (as
    // Google may): wait for the tab to settle before taking it as what the stop left.
    // (The emulator in a debug build can take seconds to parse and apply a 2 MB body.)
    let settle_deadline = Instant::now() + Duration::from_secs(60);
    let mut at_stop = bed.tab("Burst");
    loop {
        tokio::time::sleep(Duration::from_secs(8)).await;
        let now = bed.tab("Burst");
        if now == at_stop || Instant::now() > settle_deadline {
            at_stop = now;
            break;
        }
        at_stop = now;
    }
    assert_no_key_twice(&at_stop);
    let written: HashSet<String> = tab_keys(&at_stop).into_iter().collect();
    assert!(!written.is_empty());
    let checkpoint = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("checkpoint");
    assert!(checkpoint.mappings.contains_key("burst"), "{checkpoint:?}");
    // Nothing writes while no process runs.
    let since = bed.emulator.state.control.last_seq();
    burst.await.expect("burst");
    assert_eq!(bed.tab("Burst"), at_stop);

    // The restart resumes from the checkpoint: only rows the tab lacked are written.
    let restarted = Process::run(&config, &log, free_port());
    let converged = try_wait_for_tab_to_equal_table(
        &bed,
        "Burst",
        "burst",
        "id, name",
        Duration::from_secs(90),
    )
    .await;
    if let Err(message) = converged {
        panic!("{message}\n{}", restarted.log_tail(6000));
    }
    let mut rewritten = Vec::new();
    let mut cells_written = 0;
    for entry in bed.emulator.state.control.requests(Some(since)) {
        // Applied batches only (a refused one changed nothing).
        if entry.method != "POST" || !entry.path.ends_with(":batchUpdate") || entry.status != 200 {
            continue;
        }
        assert!(!entry.body_truncated, "a flush too large to check");
        for name in row_names(&entry.body) {
            cells_written += 1;
            if written.contains(&name) {
                rewritten.push(name);
            }
        }
    }
    assert!(
        rewritten.is_empty(),
        "the restart wrote again {} rows the stop had flushed (first: {:?})",
        rewritten.len(),
        rewritten.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(
        cells_written,
        ROWS - written.len(),
        "each missing row written exactly once (writes since the stop: {:?})",
        bed.emulator
            .state
            .control
            .requests(Some(since))
            .iter()
            .map(|entry| format!(
                "{} {} {} {}B",
                entry.method, entry.path, entry.status, entry.body_bytes
            ))
            .collect::<Vec<_>>()
    );
    assert_no_key_twice(&bed.tab("Burst"));
    drop(restarted);
}
