//! Helpers shared by the scenarios.

use std::path::{Path, PathBuf};
use std::process::Output;

/// Write `text` as a config file in a fresh temp directory; returns (directory guard, path).
pub fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("sheetsync.toml");
    std::fs::write(&path, text).expect("write config");
    (directory, path)
}

/// Run the real `sheetsync` binary with `arguments`, with no `SHEETSYNC_…` variables leaking in.
pub fn run_sheetsync(arguments: &[&str], config: &Path) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SHEETSYNC_") {
            command.env_remove(name);
        }
    }
    command
        .args(arguments)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run sheetsync")
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
