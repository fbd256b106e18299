//! High availability with real processes: two `sheetsync run` with one config. Exactly one
//! streams, the other's `/readyz` is 503 saying it stands by. `kill -9` of the leader while rows
//! are being written: the standby takes over within seconds, the tab converges to the table
//! with no key twice, and at no sampled moment were two writers active — neither by the lease
//! (`IS_USED_LOCK`), nor by the roles the processes report. A flush the killed leader sent just
//! before it died may still be applied after the successor's (a 2 MB body takes the debug
//! emulator seconds, as Google may): the successor must notice it by reading its checkpoint
//! back, and write the later changes again (`sync/writer/fence.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use crate::run_support::{
    free_port, late_flushes, logged_flush_ids, run_id, status_json, wait_for_readyz, Process,
};
use crate::support::write_config;
use crate::sync_support::{
    assert_no_key_twice, execute, stored_checkpoint, try_wait_for_tab_to_equal_table, SyncBed,
};

const ROWS: usize = 6_000;

#[derive(Default)]
struct Samples {
    /// Distinct lease holders (connection ids) in the order seen.
    holders: Vec<u64>,
    /// Moments both processes said `leader`.
    both_leaders: usize,
    /// Flush ids of the stored checkpoint, in the order seen.
    flushes: Vec<String>,
    taken: usize,
}

async fn role(process: &Process) -> Option<String> {
    let status = status_json(process).await?;
    status["role"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_after_kill_minus_nine_and_two_never_write() {
    let bed = SyncBed::start(
        "run_ha_takeover",
        &["CREATE TABLE burst (id INT PRIMARY KEY, name VARCHAR(20), qty INT)"],
    )
    .await;
    // Every flush body stays readable in the emulator's log (2 MB at most).
    bed.emulator
        .state
        .control
        .set_logged_body_limit(4 * 1024 * 1024);
    let (directory, config) = write_config(&bed.config_text(&[("burst", "Burst")], ""));
    let (first_port, second_port) = (free_port(), free_port());
    let mut first = Process::run(&config, &directory.path().join("first.log"), first_port);
    wait_for_readyz(&first, 200, Duration::from_secs(60)).await;
    let second = Process::run(&config, &directory.path().join("second.log"), second_port);
    let body = wait_for_readyz(&second, 503, Duration::from_secs(30)).await;
    // The admin listener answers before the lease is asked for: wait for the standby reason.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut body = body;
    while !body.contains("standby") {
        assert!(Instant::now() < deadline, "no standby reason: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        body = second
            .get("/readyz")
            .await
            .map(|(_, body)| body)
            .unwrap_or_default();
    }
    assert_eq!(role(&first).await.as_deref(), Some("leader"));
    assert_eq!(role(&second).await.as_deref(), Some("standby"));

    // Sample the lease, the roles and the stored checkpoint until the end.
    let lease = format!("sheetsync:{}", bed.server_id);
    let samples = Arc::new(Mutex::new(Samples::default()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (samples, sampling, url) = (samples.clone(), sampling.clone(), bed.mysql_url.clone());
        let (emulator_state, spreadsheet_id) =
            (bed.emulator.state.clone(), bed.spreadsheet_id.clone());
        tokio::spawn(async move {
            let mut connection = mysql_async::Conn::from_url(url).await.expect("connect");
            while sampling.load(Ordering::Relaxed) {
                let holder: Option<Option<u64>> = connection
                    .exec_first("SELECT IS_USED_LOCK(?)", (lease.as_str(),))
                    .await
                    .expect("IS_USED_LOCK");
                let roles = futures_roles(first_port, second_port).await;
                let flush = checkpoint_flush(&emulator_state, &spreadsheet_id);
                {
                    let mut samples = samples.lock().expect("samples");
                    samples.taken += 1;
                    if let Some(holder) = holder.flatten() {
                        if samples.holders.last() != Some(&holder) {
                            samples.holders.push(holder);
                        }
                    }
                    if roles == (true, true) {
                        samples.both_leaders += 1;
                    }
                    if let Some(flush) = flush {
                        if samples.flushes.last() != Some(&flush) {
                            samples.flushes.push(flush);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = connection.disconnect().await;
        })
    };

    // The burst: small transactions, so flushes stay small and keep coming.
    let url = bed.database.url.clone();
    let burst = tokio::spawn(async move {
        let mut next = 0;
        while next < ROWS {
            let values: Vec<String> = (next..next + 20)
                .map(|id| format!("({id}, 'row {id}', {id})"))
                .collect();
            execute(
                &url,
                &[&format!("INSERT INTO burst VALUES {}", values.join(","))],
            )
            .await;
            next += 20;
            if next % 200 == 0 {
                execute(
                    &url,
                    &[&format!("UPDATE burst SET qty = qty + 1 WHERE id < {next}")],
                )
                .await;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    // Kill the leader once it has flushed part of the burst.
    let deadline = Instant::now() + Duration::from_secs(60);
    while bed.tab("Burst").len() < 300 {
        assert!(Instant::now() < deadline, "the leader never streamed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!burst.is_finished(), "the burst still runs at the kill");
    first.kill_9();
    let killed_at = Instant::now();
    wait_for_readyz(&second, 200, Duration::from_secs(20)).await;
    let takeover = killed_at.elapsed();
    assert!(
        takeover < Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
    assert_eq!(role(&second).await.as_deref(), Some("leader"));

    burst.await.expect("burst");
    let converged = tab_converged(&bed).await;
    sampling.store(false, Ordering::Relaxed);
    sampler.await.expect("sampler");
    if let Err(message) = converged {
        panic!("{message}\nsecond log:\n{}", second.log_tail(6000));
    }
    assert_no_key_twice(&bed.tab("Burst"));

    {
        let samples = samples.lock().expect("samples");
        eprintln!(
            "takeover in {takeover:?}; {} samples, lease holders {:?}, {} checkpoints seen",
            samples.taken,
            samples.holders,
            samples.flushes.len()
        );
        assert_eq!(samples.both_leaders, 0, "two processes said leader at once");
        assert_eq!(
            samples.holders.len(),
            2,
            "the lease went from one holder to the other once: {:?}",
            samples.holders
        );
    }
    let (logged, unreadable) = logged_flush_ids(&bed.emulator);
    eprintln!(
        "{} logged checkpoints, {unreadable} unreadable",
        logged.len()
    );
    assert_eq!(unreadable, 0);
    assert!(logged.len() >= 3, "{logged:?}");
    let runs: Vec<&str> = {
        let mut runs: Vec<&str> = logged.iter().map(|flush| run_id(flush)).collect();
        runs.dedup();
        runs
    };
    assert!(runs.len() >= 2, "both processes flushed: {runs:?}");
    let late = late_flushes(&logged);
    eprintln!("flushes that landed late: {late:?}");
    let first_run = runs[0];
    assert!(
        late.iter().all(|flush| run_id(flush) == first_run),
        "only the killed leader's last requests can land late: {logged:?}"
    );
    if !late.is_empty() {
        // The successor reads its checkpoint back 5, 15 and 60 s after it starts.
        let deadline = Instant::now() + Duration::from_secs(90);
        while !second.log_text().contains("was applied late") {
            assert!(
                Instant::now() < deadline,
                "the killed leader's late flush {late:?} went unnoticed\n{}",
                second.log_tail(4000)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let repaired = tab_converged(&bed).await;
        if let Err(message) = repaired {
            panic!("{message}\nsecond log:\n{}", second.log_tail(6000));
        }
        assert_no_key_twice(&bed.tab("Burst"));
    }
    let (logged, _) = logged_flush_ids(&bed.emulator);
    let final_checkpoint = stored_checkpoint(&bed.emulator, &bed.spreadsheet_id).expect("stored");
    assert_eq!(
        Some(&final_checkpoint.flush),
        logged.last(),
        "the stored checkpoint is the last flush applied"
    );
}

/// Waits up to 90 s for the tab to equal the table; `Err` says how they differ.
async fn tab_converged(bed: &SyncBed) -> Result<(), String> {
    try_wait_for_tab_to_equal_table(
        bed,
        "Burst",
        "burst",
        "id, name, qty",
        Duration::from_secs(90),
    )
    .await
}

/// (first is leader, second is leader), a process that does not answer counting as not.
async fn futures_roles(first_port: u16, second_port: u16) -> (bool, bool) {
    let leader = |port: u16| async move {
        let Some((_, body)) = crate::run_support::admin_get(port, "/status.json").await else {
            return false;
        };
        serde_json::from_str::<serde_json::Value>(&body)
            .map(|status| status["role"] == "leader")
            .unwrap_or(false)
    };
    tokio::join!(leader(first_port), leader(second_port))
}

fn checkpoint_flush(state: &sheets_emulator::SharedState, spreadsheet_id: &str) -> Option<String> {
    let entries = state.store.developer_metadata(spreadsheet_id)?;
    let entry = entries
        .iter()
        .find(|entry| entry["metadataKey"] == sheetsync::sync::checkpoint::CHECKPOINT_KEY)?;
    let value: serde_json::Value = serde_json::from_str(entry["metadataValue"].as_str()?).ok()?;
    value["flush"].as_str().map(str::to_string)
}
