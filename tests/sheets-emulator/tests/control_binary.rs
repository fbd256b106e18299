//! The `sheets-emulator` binary: what it prints, that port 0 works, and that it stops by itself
//! (`--exit-after-secs`) and on SIGTERM.

mod control_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use control_support::{client, shared_key_file};

/// Start the binary and read its two announcement lines: (child, base URL, key file).
fn spawn(arguments: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sheets-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("text");
    let second = lines.next().expect("a second line").expect("text");
    let url = first
        .strip_prefix("sheets-emulator listening on ")
        .expect("URL line")
        .to_string();
    let key_file = second
        .strip_prefix("service-account key file: ")
        .expect("key file line")
        .to_string();
    (child, url, key_file)
}

/// Wait (bounded) for the child to exit.
fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn port_zero_prints_the_real_url_and_the_generated_key_file_and_exits_by_itself() {
    let directory = tempfile::tempdir().expect("temp dir");
    let key_out = directory.path().join("key.json");
    let key_out_text = key_out.to_str().expect("utf-8 path");
    let (mut child, url, key_file) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--key-out",
        key_out_text,
        "--exit-after-secs",
        "3",
    ]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(url, "http://127.0.0.1:0");
    assert_eq!(key_file, key_out_text);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key_out).expect("key")).expect("json");
    assert_eq!(file["token_uri"], format!("{url}/token"));

    let response = client()
        .get(format!("{url}/_emulator/quota"))
        .send()
        .await
        .expect("admin call");
    assert_eq!(response.status().as_u16(), 200);
    let status = wait_for_exit(&mut child, Duration::from_secs(15));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.expect("exited by itself").success());
}

#[tokio::test]
async fn sigterm_stops_it_and_a_given_key_file_is_trusted() {
    let key = shared_key_file().to_str().expect("utf-8 path").to_string();
    let (mut child, url, key_file) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--service-account",
        &key,
        "--exit-after-secs",
        "60",
    ]);
    assert_eq!(key_file, key);
    let response = client()
        .get(format!("{url}/_emulator/summary"))
        .send()
        .await
        .expect("admin call");
    assert_eq!(response.status().as_u16(), 200);
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(10));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.expect("stopped on SIGTERM").success());
}

#[test]
fn a_bad_listen_address_fails() {
    let output = Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
        .args(["--listen", "not-an-address"])
        .output()
        .expect("run");
    assert!(!output.status.success());
}
