//! The whole system under fire: the real `sheetsync run` process, its own MariaDB and an
//! emulated person at the sheet, both sides changing the same table at once (conflicts on
//! purpose) for `SHEETSYNC_CONVERGE_SECONDS` (default 60), while faults strike on a schedule:
//! `kill -9`, MariaDB restart, 429s, 503s before and after the write, a webhook outage (the
//! script's queue delivers later), added Sheets latency, and the binlog purged past the saved
//! position while sheetsync is down (it re-snapshots). Switches to isolate one divergence are in
//! `converge_profile.rs` (faults, actions, seed). Then:
//! the tab equals the table cell for cell, no key twice, conflicts recorded, and no Sheets write
//! in a 2 s window after quiescence (no echo loop). Prints a JSON summary and writes it to
//! `target/converge/summary.json`; `tests/converge-long.sh` runs the long profile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::json;
use sheets_emulator::control::{FaultSpec, FaultStage, LatencySettings, QuotaSettings};
use sheets_emulator::person::WebhookTarget;
use sheetsync_testbed::MariaDb;

use crate::converge_forensics::{keep_forensics, watch_duplicates};
use crate::converge_profile::{Profile, DEFAULT_ACTIONS};
use crate::converge_support::{
    person_action, provoke_conflict, random_statements, table_ids, transaction, Counters, Service,
};
use crate::sheets_support::writes_since;
use crate::support::write_config;
use crate::sync_purged::purge_binlogs;
use crate::sync_support::{tab_columns, tab_keys, table_rows, SyncBed};

const SECRET: &str = "converge-secret";
const SHEET: &str = "Items";
const COLUMNS: [&str; 3] = ["id", "name", "qty"];
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_under_faults_converge_cell_for_cell_without_echo() {
    run(Profile::from_environment(&DEFAULT_ACTIONS), "summary.json").await;
}

async fn run(profile: Profile, summary_file: &str) {
    eprintln!(
        "converge: {profile:?} (replay with SHEETSYNC_CONVERGE_SEED={})",
        profile.seed
    );
    let duration = profile.duration;
    let server = Arc::new(MariaDb::start().expect("own MariaDB"));
    let seed: Vec<String> = (0..30).map(|id| format!("('seed {id}', {id})")).collect();
    let seed = format!("INSERT INTO items (name, qty) VALUES {}", seed.join(","));
    let bed = SyncBed::start_on(
        &server,
        "converge",
        &[
            "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(60), qty INT)",
            &seed,
        ],
    )
    .await;
    // Whole bodies in the request log, so `target/converge/forensics` can replay every flush.
    bed.emulator
        .state
        .control
        .set_logged_body_limit(2 * 1024 * 1024);
    let port = free_port();
    let text = bed
        .config_text(&[("items", SHEET)], "write_requests_per_minute = 1200")
        .replace(
            "[webhook]\nlisten = \"127.0.0.1:0\"",
            &format!("[webhook]\nlisten = \"127.0.0.1:{port}\"\nsecret = \"{SECRET}\""),
        )
        + "deletes = true\n";
    let (directory, config) = write_config(&text);
    let url = bed.database.url.clone();
    let table = format!("{}.items", bed.database.name);
    let mut service = Service::start(&config, &directory.path().join("sheetsync.log"));
    wait_converged(&bed, &table, Duration::from_secs(60), &service).await;
    bed.emulator
        .state
        .person()
        .configure_webhook(WebhookTarget::new(
            &format!("http://127.0.0.1:{port}/webhook"),
            SECRET,
        ))
        .expect("webhook target");

    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let service_up = Arc::new(AtomicBool::new(true));
    let started = Instant::now();

    let sql = tokio::spawn({
        let (counters, stop, url) = (counters.clone(), stop.clone(), url.clone());
        let mut random = fastrand::Rng::with_seed(profile.seed);
        let enabled = profile.acts("sql");
        async move {
            let mut connection = None;
            let mut round = 0u64;
            while enabled && !stop.load(Ordering::Relaxed) {
                round += 1;
                let ids = table_ids(&mut connection, &url).await;
                let statements = random_statements(&mut random, &ids, round);
                transaction(&url, &mut connection, &statements, &counters).await;
                tokio::time::sleep(Duration::from_millis(random.u64(20..150))).await;
            }
        }
    });
    let emulator = bed.emulator.state.clone();
    let spreadsheet_id = bed.spreadsheet_id.clone();
    // Until the forensics are written, final convergence included.
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = watch_duplicates(
        emulator.clone(),
        spreadsheet_id.clone(),
        SHEET,
        counters.clone(),
        stop_watching.clone(),
    );
    let person = tokio::spawn({
        let (counters, stop, up, url) = (
            counters.clone(),
            stop.clone(),
            service_up.clone(),
            url.clone(),
        );
        let mut random = fastrand::Rng::with_seed(profile.seed.wrapping_add(1));
        let profile = profile.clone();
        async move {
            let mut connection = None;
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let adding = up.load(Ordering::Relaxed);
                if round % 10 == 0 && profile.acts("conflict") {
                    provoke_conflict(
                        &emulator,
                        &spreadsheet_id,
                        SHEET,
                        &url,
                        &mut connection,
                        (round, &mut random),
                        &counters,
                    )
                    .await;
                } else {
                    person_action(
                        &emulator,
                        &spreadsheet_id,
                        SHEET,
                        (round, &mut random),
                        (&profile, adding),
                        &counters,
                    )
                    .await;
                }
                if round % 15 == 0 && adding {
                    let result = emulator.person().retry().await;
                    counters.note_person("retry".into(), &result);
                }
                tokio::time::sleep(Duration::from_millis(random.u64(30..200))).await;
            }
        }
    });

    // Faults on a schedule, one kind after another, while the workload runs.
    let period = (duration / (profile.faults.len() as u32 + 1))
        .clamp(Duration::from_secs(4), Duration::from_secs(20));
    let control = &bed.emulator.state.control;
    let mut fault_random = fastrand::Rng::with_seed(profile.seed.wrapping_add(2));
    let mut next_fault = 0usize;
    while !profile.faults.is_empty() && period * (next_fault as u32 + 1) + period / 2 < duration {
        // On an absolute schedule, so a fault that lasts seconds does not push the last ones
        // past the end of a short run.
        tokio::time::sleep_until((started + period * (next_fault as u32 + 1)).into()).await;
        assert!(
            service.is_running(),
            "sheetsync exited by itself before fault {next_fault}:\n{}",
            service.log_tail(6000)
        );
        service.sample_peak_rss(&counters);
        let kind = profile.faults[next_fault % profile.faults.len()];
        next_fault += 1;
        counters.fault(kind);
        eprintln!("converge: fault {kind} at {:?}", started.elapsed());
        match kind {
            "kill_9" => {
                service.kill(&counters);
                tokio::time::sleep(Duration::from_millis(fault_random.u64(50..800))).await;
                service.spawn();
            }
            "mariadb_restart" => {
                let server = server.clone();
                tokio::task::spawn_blocking(move || server.restart())
                    .await
                    .expect("restart task")
                    .expect("MariaDB restart");
            }
            "sheets_429" => {
                control.set_quota(QuotaSettings {
                    read_requests_per_minute: None,
                    write_requests_per_minute: Some(1),
                    window_ms: 3_000,
                });
                tokio::time::sleep(Duration::from_secs(3)).await;
                control.set_quota(QuotaSettings::default());
            }
            "sheets_503" => {
                control
                    .add_fault(FaultSpec::next_writes(3, 503, FaultStage::Before))
                    .expect("fault");
            }
            "sheets_503_after_apply" => {
                control
                    .add_fault(FaultSpec::next_writes(2, 503, FaultStage::After))
                    .expect("fault");
            }
            "added_latency" => {
                control.set_latency(LatencySettings {
                    ms: 0,
                    read_ms: Some(300),
                    write_ms: Some(fault_random.u64(500..1_500)),
                });
                tokio::time::sleep(Duration::from_secs(3)).await;
                control.set_latency(LatencySettings::default());
            }
            "purged_binlog" => {
                // Down while the database moves on, and the binlog past the saved position
                // purged: the restart must re-snapshot (`on_binlog_gone = "resnapshot"`).
                service.kill(&counters);
                tokio::time::sleep(Duration::from_millis(500)).await;
                purge_binlogs(&server).await;
                service.spawn();
            }
            _ => {
                service_up.store(false, Ordering::Relaxed);
                service.kill(&counters);
                tokio::time::sleep(Duration::from_secs(3)).await;
                service.spawn();
                service_up.store(true, Ordering::Relaxed);
            }
        }
    }
    let remaining = duration.saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    stop.store(true, Ordering::Relaxed);
    sql.await.expect("sql workload");
    person.await.expect("person workload");
    control.clear_faults();
    control.set_quota(QuotaSettings::default());
    control.set_latency(LatencySettings::default());
    assert!(
        service.is_running(),
        "sheetsync exited by itself:\n{}",
        service.log_tail(6000)
    );

    // The person's queue (the script's one-minute trigger) delivers what the outages held.
    let deadline = Instant::now() + Duration::from_secs(60);
    let person = bed.emulator.state.person();
    while !person.queued().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the person's queue never emptied: {:?}",
            person.queued()
        );
        let _ = person.retry().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lag_started = Instant::now();
    let converged = try_converge(&bed, &table, Duration::from_secs(120)).await;
    counters.lag(lag_started.elapsed().as_millis() as u64);

    // Quiescence: two flush intervals of grace, then not one Sheets write for 2 s.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let since = bed.emulator.state.control.last_seq();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let echo_writes = writes_since(&bed.emulator, since);
    service.sample_peak_rss(&counters);

    let tab = bed.tab(SHEET);
    let keys = tab_keys(&tab);
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    let duplicated = keys.len() - unique.len();
    let expected = table_rows(&bed.database.url, &table, "id, name, qty").await;
    let actual = tab_columns(&tab, &COLUMNS);
    let lost = expected.iter().filter(|row| !actual.contains(row)).count();
    let conflicts = count_conflicts(&bed.mysql_url).await;
    let summary = json!({
        "seconds": duration.as_secs(),
        "seed": profile.seed,
        "actions": profile.actions,
        "sql_transactions": counters.sql_transactions.load(Ordering::Relaxed),
        "sql_statements": counters.sql_statements.load(Ordering::Relaxed),
        "sql_failed_during_faults": counters.sql_failed.load(Ordering::Relaxed),
        "sheet_edits": counters.person_edits.load(Ordering::Relaxed),
        "sheet_pastes": counters.person_pastes.load(Ordering::Relaxed),
        "sheet_added_rows": counters.person_added_rows.load(Ordering::Relaxed),
        "sheet_deleted_rows": counters.person_deleted_rows.load(Ordering::Relaxed),
        "sheet_actions_refused": counters.person_refused.load(Ordering::Relaxed),
        "faults": counters.faults_json(),
        "conflicts_provoked": counters.conflicts_provoked.load(Ordering::Relaxed),
        "conflicts_recorded": conflicts,
        "rows": expected.len(),
        "lost": lost,
        "duplicated": duplicated,
        "keys_seen_twice_during_the_run": counters.keys_seen_twice.load(Ordering::Relaxed),
        "echo_writes": echo_writes.len(),
        "max_lag_ms": counters.max_lag_milliseconds.load(Ordering::Relaxed),
        "peak_rss_kb": counters.peak_rss_kilobytes.load(Ordering::Relaxed),
    });
    println!("CONVERGE_SUMMARY {summary}");
    let summary_directory =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/converge");
    std::fs::create_dir_all(&summary_directory).expect("summary directory");
    std::fs::write(
        summary_directory.join(summary_file),
        format!("{summary:#}\n"),
    )
    .expect("summary");

    stop_watching.store(true, Ordering::Relaxed);
    watcher.await.expect("duplicate watcher");
    keep_forensics(
        &bed.emulator.state,
        (&bed.spreadsheet_id, SHEET),
        &counters,
        &directory.path().join("sheetsync.log"),
    );
    if let Err(difference) = converged {
        panic!(
            "{difference}\nsummary: {summary}\nsheetsync log tail:\n{}",
            service.log_tail(6000)
        );
    }
    assert_eq!(lost, 0, "{summary}");
    assert_eq!(duplicated, 0, "a key twice in the tab: {keys:?}");
    let bodies: Vec<String> = echo_writes
        .iter()
        .map(|entry| format!("{} {} {}", entry.method, entry.path, entry.body))
        .collect();
    assert!(bodies.is_empty(), "writes after quiescence: {bodies:#?}");
    if counters.conflicts_provoked.load(Ordering::Relaxed) > 0 {
        assert!(
            conflicts > 0,
            "conflicts provoked, none recorded: {summary}"
        );
    }
}

/// Polls until the tab's id, name, qty equal the table's; on timeout, fails with both and the
/// tail of sheetsync's log.
async fn wait_converged(bed: &SyncBed, table: &str, limit: Duration, service: &Service) {
    if let Err(difference) = try_converge(bed, table, limit).await {
        panic!(
            "{difference}\nsheetsync log tail:\n{}",
            service.log_tail(6000)
        );
    }
}

/// Polls until the tab's id, name, qty equal the table's; says how they differ otherwise.
async fn try_converge(bed: &SyncBed, table: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let expected = table_rows(&bed.database.url, table, "id, name, qty").await;
        let actual = tab_columns(&bed.tab(SHEET), &COLUMNS);
        if expected == actual {
            return Ok(());
        }
        if Instant::now() > deadline {
            let missing: Vec<_> = expected
                .iter()
                .filter(|row| !actual.contains(row))
                .collect();
            let extra: Vec<_> = actual
                .iter()
                .filter(|row| !expected.contains(row))
                .collect();
            return Err(format!(
                "the tab never equalled the table within {limit:?}\n in the table only: {missing:?}\n in the tab only: {extra:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count_conflicts(root_url: &str) -> u64 {
    let mut connection = mysql_async::Conn::from_url(root_url)
        .await
        .expect("connect");
    let count: Option<u64> = connection
        .query_first("SELECT COUNT(*) FROM sheetsync.conflicts")
        .await
        .expect("conflicts");
    let _ = connection.disconnect().await;
    count.unwrap_or(0)
}
