//! The decode benchmark's baseline: python-mysql-replication (`bench/decode_python.py`, in the
//! venv `bench/run.sh` makes) streaming one binlog file from the server, as a child process.
//!
//! Consumes the Python to use, the server, the file and the row count; produces the Python
//! client's rates per wall-clock and per CPU second. Guarantees: a run that decodes fewer rows
//! than expected, fails, or does not finish within 15 minutes is an error with its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context as _};
use sheetsync_testbed::MariaDb;

use crate::decode::Rates;
use crate::process::ChildProcess;

/// Rates of python-mysql-replication streaming the same file, and when its first row came.
pub fn python_stream(
    python: &Path,
    server: &MariaDb,
    file: &str,
    database: &str,
    rows: u64,
) -> anyhow::Result<(Rates, f64)> {
    let directory = tempfile::tempdir()?;
    let log = directory.path().join("python.log");
    let mut command = Command::new(python);
    command
        .arg(script())
        .args(["--port", &server.port().to_string()])
        .args([
            "--server-id",
            &(7_000_000 + std::process::id() % 100_000).to_string(),
        ])
        .args([
            "--file",
            file,
            "--schema",
            database,
            "--rows",
            &rows.to_string(),
        ]);
    let child = ChildProcess::spawn("python-mysql-replication", command, &log)?;
    let status = child.wait(Duration::from_secs(900))?;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .with_context(|| {
            format!("python-mysql-replication printed no result ({status}):\n{output}")
        })?;
    let result: serde_json::Value = serde_json::from_str(line)?;
    let (seen, seconds) = (
        result["rows"].as_u64().unwrap_or(0),
        result["seconds"].as_f64().unwrap_or(0.0),
    );
    if !status.success() || seen != rows || seconds <= 0.0 {
        bail!("python-mysql-replication decoded {seen} of {rows} rows ({status}):\n{output}");
    }
    let cpu_seconds = result["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
    Ok((
        Rates {
            wall: rows as f64 / seconds,
            cpu: rows as f64 / cpu_seconds,
        },
        result["first_row_seconds"].as_f64().unwrap_or(0.0),
    ))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("decode_python.py")
}

pub fn python_version(python: &Path) -> String {
    Command::new(python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}
