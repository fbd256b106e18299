//! `kill -9` of the real `sheetsync run` process at random points during a 20,000-row burst,
//! eleven times in one run: after the last restart the tab equals the table exactly — no row
//! missing, doubled or stale — because the sheet and its checkpoint change in one atomic batch,
//! and a transaction handed on in parts moves the checkpoint only at its commit.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::write_config;
use crate::sync_support::{
    execute, try_wait_for_tab_to_equal_table, wait_for_initial_load, SyncBed,
};

const KILLS: usize = 11;
const ROWS: usize = 20_000;

fn spawn_sheetsync(config: &std::path::Path, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SHEETSYNC_") {
            command.env_remove(name);
        }
    }
    command
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sheetsync")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_minus_nine_during_a_burst_never_loses_or_doubles_a_row() {
    let bed = SyncBed::start(
        "sync_kill",
        &["CREATE TABLE burst (id INT PRIMARY KEY, a INT, b VARCHAR(20), c DOUBLE, d INT)"],
    )
    .await;
    // Transactions over 64 KiB (the 500-row inserts, the updates with deletes) come in parts,
    // so kills also land between the parts of one transaction.
    let (directory, config) =
        write_config(&bed.config_text(&[("burst", "Burst")], "transaction_buffer_kib = 64"));
    let log = directory.path().join("sheetsync.log");
    let url = bed.database.url.clone();

    // The burst: 20,000 inserts in transactions of varied size, then updates and deletes,
    // paced over about 35 s so that it runs while sheetsync is killed and restarted.
    let burst = tokio::spawn(async move {
        let mut next = 0usize;
        let mut round = 0usize;
        while next < ROWS {
            let size = [1, 7, 50, 200, 500][round % 5].min(ROWS - next);
            let values: Vec<String> = (next..next + size)
                .map(|id| format!("({id}, {id}, 'row {id}', {id}.5, 0)"))
                .collect();
            let insert = format!("INSERT INTO burst VALUES {}", values.join(","));
            execute(&url, &[&insert]).await;
            next += size;
            round += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
            if round % 10 == 0 {
                let low = next.saturating_sub(400);
                let update = format!("UPDATE burst SET d = d + 1, b = 'updated {round}' WHERE id BETWEEN {low} AND {next}");
                let delete = format!(
                    "DELETE FROM burst WHERE id % 97 = {} AND id < {next}",
                    round % 97
                );
                execute(&url, &["BEGIN", &update, &delete, "COMMIT"]).await;
            }
        }
    });

    let mut child = spawn_sheetsync(&config, &log);
    // The kills are meant for the stream: a kill during the initial load only starts the load
    // again (the mapping has no checkpoint yet), and so would every later kill.
    wait_for_initial_load(&bed).await;
    for kill in 0..KILLS {
        // Each kill lands while the process streams: after it holds the lease (a restart
        // first waits out the lease's grace period, longer than the kill delays).
        wait_for_writer(&log, kill + 1).await;
        let delay = Duration::from_millis(fastrand::u64(150..1_500));
        tokio::time::sleep(delay).await;
        child.kill().expect("kill -9"); // SIGKILL: no flush, no cleanup
        let _ = child.wait();
        eprintln!("kill {kill} after {delay:?}");
        child = spawn_sheetsync(&config, &log);
    }
    burst.await.expect("burst");
    let converged = try_wait_for_tab_to_equal_table(
        &bed,
        "Burst",
        "burst",
        "id, a, b, c, d",
        Duration::from_secs(120),
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    if let Err(message) = converged {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: String = text
            .chars()
            .rev()
            .take(6000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        panic!("{message}\nsheetsync log tail:\n{tail}");
    }
    let tab = bed.tab("Burst");
    let mut keys: Vec<&String> = tab.iter().skip(1).map(|row| &row[0]).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(total, keys.len(), "a key appears twice in the tab");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("handed on in parts"),
        "no transaction of the burst came in parts"
    );
}

/// Waits until the log says `count` processes have held the lease and started writing.
async fn wait_for_writer(log: &std::path::Path, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches("lease held: this process writes").count() >= count {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process {count} never started writing; log:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
