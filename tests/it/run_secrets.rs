//! No secret leaves the real process: with JSON logs (and sheetsync's debug lines on), through
//! start, initial load, streaming, a rejected and an accepted webhook, `/status.json`,
//! `/metrics` and a graceful stop — and a second start with a wrong database password that
//! fails — neither standard output, standard error nor the admin pages contain the webhook
//! secret, the database password or any line of the service account's private key.

use std::time::Duration;

use serde_json::json;

use crate::run_support::{
    cell_edit, free_port, post_webhook, wait_for_readyz, with_ports, Process,
};
use crate::sheets_support::key_file;
use crate::support::write_config;
use crate::sync_support::{execute, wait_for_tab_to_equal_table, SyncBed};

const WEBHOOK_SECRET: &str = "whs-7Qx2-secret-of-the-hook";
const DATABASE_PASSWORD: &str = "dbpw-K9m4-secret-of-mysql";
const WRONG_PASSWORD: &str = "dbpw-wrong-Z8v1-also-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_logs_or_admin_pages() {
    let bed = SyncBed::start(
        "run_secrets",
        &[
            "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40))",
            "INSERT INTO people VALUES (1, 'ada'), (2, 'grace')",
        ],
    )
    .await;
    let user = format!("secrets_{}", fastrand::u32(..));
    execute(
        &bed.mysql_url,
        &[
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{DATABASE_PASSWORD}'"),
            &format!("GRANT ALL ON *.* TO '{user}'@'%'"),
        ],
    )
    .await;
    let port = bed.mysql_url.rsplit(':').next().expect("port").to_string();
    let url = |password: &str| format!("mysql://{user}:{password}@127.0.0.1:{port}");
    let (metrics_port, webhook_port) = (free_port(), free_port());
    let text = with_ports(
        &bed.config_text(&[("people", "People")], ""),
        metrics_port,
        webhook_port,
        WEBHOOK_SECRET,
    )
    .replace(
        &format!("url = \"{}\"", bed.mysql_url),
        &format!("url = \"{}\"", url(DATABASE_PASSWORD)),
    ) + "[logging]\nformat = \"json\"\n";
    assert!(text.contains(DATABASE_PASSWORD));
    let (directory, config) = write_config(&text);
    let log = directory.path().join("sheetsync.log");
    let debug = [("RUST_LOG", "info,sheetsync=debug")];
    let service = Process::spawn_with(&["run"], &config, &log, metrics_port, &debug);
    wait_for_readyz(&service, 200, Duration::from_secs(60)).await;
    let people = format!("{}.people", bed.database.name);
    wait_for_tab_to_equal_table(&bed, "People", &people, "id, name", Duration::from_secs(30)).await;
    execute(
        &bed.database.url,
        &["INSERT INTO people VALUES (3, 'linus')"],
    )
    .await;
    wait_for_tab_to_equal_table(&bed, "People", &people, "id, name", Duration::from_secs(30)).await;

    let edit = cell_edit(
        &bed.spreadsheet_id,
        "People",
        &["id", "name"],
        (2, 1),
        ("name", json!("Ada L."), json!("ada")),
        "secret-1",
    );
    let (status, _) = post_webhook(webhook_port, "a-wrong-secret", &edit).await;
    assert_eq!(status, 401);
    let (status, body) = post_webhook(webhook_port, WEBHOOK_SECRET, &edit).await;
    assert_eq!(status, 200, "{body}");
    let mut pages = String::new();
    for path in ["/status.json", "/metrics", "/", "/readyz", "/healthz"] {
        let (_, page) = service.get(path).await.expect(path);
        pages.push_str(&page);
    }
    assert!(pages.contains("sheetsync_"), "the metrics page answered");
    service.terminate();
    let mut service = service;
    let exit = service.wait_exit(Duration::from_secs(30)).await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");

    // A start that cannot log in says why without the password it tried.
    let wrong_text = text.replace(DATABASE_PASSWORD, WRONG_PASSWORD);
    let (_wrong_directory, wrong_config) = write_config(&wrong_text);
    let mut failing = Process::spawn_with(&["run"], &wrong_config, &log, free_port(), &debug);
    let exit = failing.wait_exit(Duration::from_secs(60)).await;
    assert!(exit.is_some_and(|status| !status.success()), "{exit:?}");

    let output = std::fs::read_to_string(&log).expect("log");
    assert!(
        output.contains("Access denied"),
        "the failed start says why:\n{output}"
    );
    let json_lines = output
        .lines()
        .filter(|line| serde_json::from_str::<serde_json::Value>(line).is_ok())
        .count();
    assert!(json_lines > 10, "JSON log lines: {json_lines}");
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file(&bed.emulator)).expect("key file"))
            .expect("key json");
    let private_key = key["private_key"].as_str().expect("private_key");
    let mut secrets: Vec<&str> = vec![WEBHOOK_SECRET, DATABASE_PASSWORD, WRONG_PASSWORD];
    secrets.extend(
        private_key
            .lines()
            .filter(|line| !line.starts_with("-----") && line.len() >= 16),
    );
    assert!(secrets.len() > 10, "the key has body lines");
    for (name, text) in [("the process output", &output), ("the admin pages", &pages)] {
        for secret in &secrets {
            assert!(
                !text.contains(secret),
                "{name} contain the secret `{secret}`"
            );
        }
    }
}
