//! Sheets failing while rows are inserted, updated and deleted: 30 % of writes answered 503
//! *after* the emulator applied them, 10 % refused with 500 before (the faults' generators are
//! seeded, so which write fails is the same every run), and a 429 storm from a quota far below
//! sheetsync's. The tab converges to the table, no key is on two rows, the
//! request log shows the faults really struck, and no batch was applied twice (each flush id,
//! carried by the checkpoint in the batch, appears in at most one applied write).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sheets_emulator::control::{ClassFilter, FaultSpec, FaultStage, LoggedRequest, QuotaSettings};
use sheetsync::sync::checkpoint::Checkpoint;

use crate::sync_support::{
    assert_no_key_twice, execute, log_to_test_output, wait_for, wait_for_tab_to_equal_table,
    RunningSync, SyncBed,
};

const COLUMNS: &str = "id, name, qty";
/// Transactions of the workload, 40 ms apart: about 10 s of flushes under faults, so the
/// workload still writes well after the 429 storm starts at 5 s (with 150 rounds it could end
/// first, and the storm then waited for a write that never came).
const ROUNDS: u32 = 250;

/// The flush id of the checkpoint a `batchUpdate` body stores, if it stores one.
fn flush_id(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    body["requests"].as_array()?.iter().find_map(|request| {
        let metadata = request
            .get("updateDeveloperMetadata")
            .or_else(|| request.get("createDeveloperMetadata"))?;
        let value = metadata["developerMetadata"]["metadataValue"].as_str()?;
        Some(Checkpoint::decode("", value).ok()?.flush)
    })
}

fn is_batch_update(entry: &LoggedRequest) -> bool {
    entry.method == "POST" && entry.path.ends_with(":batchUpdate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_503_after_apply_and_429_storms_without_doubling() {
    log_to_test_output();
    let mut statements =
        vec!["CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40), qty INT)".to_string()];
    statements.push(format!(
        "INSERT INTO items VALUES {}",
        (0..100)
            .map(|id| format!("({id}, 'item {id}', {id})"))
            .collect::<Vec<_>>()
            .join(",")
    ));
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    let bed = SyncBed::start("sync_faults", &statements).await;
    let url = bed.database.url.clone();
    let config_text = bed.config_text(
        &[("items", "Items")],
        "write_requests_per_minute = 1200\nread_requests_per_minute = 1200",
    );
    let config = sheetsync::config::Config::from_toml(&config_text).expect("config");
    let sync = RunningSync::start(config);
    wait_for_tab_to_equal_table(&bed, "Items", "items", COLUMNS, Duration::from_secs(20)).await;

    let control = &bed.emulator.state.control;
    let since = control.last_seq();
    control
        .add_fault(FaultSpec::random(
            0.3,
            7,
            ClassFilter::Write,
            503,
            FaultStage::After,
        ))
        .expect("503 after apply");
    control
        .add_fault(FaultSpec::random(
            0.1,
            8,
            ClassFilter::Write,
            500,
            FaultStage::Before,
        ))
        .expect("500 before apply");

    // The workload: inserts, updates and deletes in small transactions.
    let workload = {
        let url = url.clone();
        tokio::spawn(async move {
            for round in 0..ROUNDS {
                let first = 100 + round * 5;
                let inserts = (first..first + 5)
                    .map(|id| format!("({id}, 'item {id}', 0)"))
                    .collect::<Vec<_>>()
                    .join(",");
                let insert = format!("INSERT INTO items VALUES {inserts}");
                let update = format!(
                    "UPDATE items SET qty = qty + 1, name = 'round {round}' WHERE id % 13 = {}",
                    round % 13
                );
                let delete = format!("DELETE FROM items WHERE id = {}", round * 7 % first);
                execute(&url, &["BEGIN", &insert, &update, &delete, "COMMIT"]).await;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    // A 429 storm late in the workload (so the flushes before it meet the 5xx faults): the
    // emulator's quota drops to one write per 5 s (sheetsync believes it may send 20 a
    // second) until the first 429 has been answered.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let storm_started = control.last_seq();
    control.set_quota(QuotaSettings {
        read_requests_per_minute: None,
        write_requests_per_minute: Some(1),
        window_ms: 5_000,
    });
    wait_for(Duration::from_secs(20), "a 429 from the storm", || {
        control
            .requests(Some(storm_started))
            .iter()
            .any(|entry| entry.status == 429)
    })
    .await;
    control.set_quota(QuotaSettings::default());
    workload.await.expect("workload");
    let last_commit = Instant::now();

    // After a 429 sheetsync waits at least 30 s (Google sends no Retry-After): allow for it.
    wait_for_tab_to_equal_table(&bed, "Items", "items", COLUMNS, Duration::from_secs(90)).await;
    eprintln!(
        "converged {:?} after the last commit",
        last_commit.elapsed()
    );
    assert_no_key_twice(&bed.tab("Items"));
    sync.stop().await.expect("graceful stop");

    let writes: Vec<LoggedRequest> = control
        .requests(Some(since))
        .into_iter()
        .filter(is_batch_update)
        .collect();
    let count = |predicate: &dyn Fn(&LoggedRequest) -> bool| {
        writes.iter().filter(|entry| predicate(entry)).count()
    };
    let after = count(&|entry| entry.fault.as_deref() == Some("503 after apply"));
    let before = count(&|entry| entry.fault.as_deref() == Some("500 before apply"));
    let refused = count(&|entry| entry.status == 429);
    let succeeded = count(&|entry| entry.status == 200);
    eprintln!(
        "batchUpdates: {} ({succeeded} ok, {after} 503 after apply, {before} 500 before, {refused} 429)",
        writes.len()
    );
    assert!(after > 0, "no write got a 503 after applying");
    assert!(refused > 0, "no write got a 429");

    // Applied = answered 200, or 503 after applying. Each flush applies once.
    let mut applied: HashMap<String, usize> = HashMap::new();
    for entry in &writes {
        let landed = entry.status == 200 || entry.fault.as_deref() == Some("503 after apply");
        if let (true, Some(flush)) = (landed, flush_id(&entry.body)) {
            *applied.entry(flush).or_default() += 1;
        }
    }
    let twice: Vec<_> = applied.iter().filter(|(_, count)| **count > 1).collect();
    assert!(
        twice.is_empty(),
        "flushes applied more than once: {twice:?}"
    );
    assert!(
        !applied.is_empty(),
        "the log shows the flushes' checkpoints"
    );
}
