//! Processes behind a test server: data directory creation, the watchdog, readiness.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _};

use crate::Watchdog;

/// The watchdog: starts the server in the background, then waits for its standard input to
/// close (the test process ended or asked it to stop), stops the server (`SIGTERM`, `SIGKILL`
/// after 30 s) and removes the directory unless `.keep` exists. Terminal signals are ignored so
/// that only the pipe decides.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT TERM HUP
directory="$1"; shift
"$@" </dev/null >>"$directory/stdout.log" 2>&1 &
server=$!
echo "$server" > "$directory/server.pid"
cat >/dev/null
kill -TERM "$server" 2>/dev/null
( sleep 30; kill -KILL "$server" 2>/dev/null ) &
timer=$!
wait "$server"
# SIGKILL: the timer inherited the ignored SIGTERM.
kill -KILL "$timer" 2>/dev/null
[ -e "$directory/.keep" ] || rm -rf "$directory"
"#;

/// Where a program is: the PATH, then `/usr/sbin` and `/usr/bin` (Debian puts `mariadbd` in
/// `/usr/sbin`, which is not on every user's PATH).
pub(crate) fn find_program(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::split_paths(&path).chain([
        "/usr/sbin".into(),
        "/usr/bin".into(),
        "/usr/local/bin".into(),
    ]);
    for directory in candidates {
        let candidate = directory.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "`{name}` not found: install MariaDB with `apt-get install -y mariadb-server` \
         (tests/run.sh does this on Debian)"
    )
}

/// InnoDB settings shared by the template and every server started from it (a different redo
/// log size would make each server resize it at start, which costs seconds).
pub(crate) const INNODB_ARGS: &[&str] = &[
    "--innodb-log-file-size=32M",
    "--innodb-doublewrite=0",
    "--innodb-flush-log-at-trx-commit=2",
];

/// Create `DIRECTORY/data` (system tables; root with an empty password).
///
/// `mariadb-install-db` takes about five seconds, nearly all of it waiting, so it runs once per
/// machine and MariaDB version into a template directory, and each server gets a copy (0.1 s).
pub(crate) fn install_data_directory(directory: &Path) -> anyhow::Result<()> {
    let template = template_directory()?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(&template)
        .arg(directory.join("data"))
        .status()
        .context("copy the MariaDB template data directory")?;
    if !status.success() {
        bail!("copying {} failed", template.display());
    }
    Ok(())
}

fn template_directory() -> anyhow::Result<PathBuf> {
    let version = Command::new(find_program("mariadbd")?)
        .arg("--version")
        .output()
        .context("run mariadbd --version")?;
    let version = String::from_utf8_lossy(&version.stdout);
    let tag: String = version
        .split_whitespace()
        .find(|word| {
            word.chars()
                .next()
                .is_some_and(|first| first.is_ascii_digit())
        })
        .unwrap_or("unknown")
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '.' {
                character
            } else {
                '-'
            }
        })
        .collect();
    let template = std::env::temp_dir().join(format!("sheetsync-mariadb-template-{tag}"));
    if template.join("mysql").is_dir() {
        return Ok(template);
    }
    // Build it beside the final name and rename it into place, so that concurrent test
    // processes never see a half-made template.
    let staging = tempfile::Builder::new()
        .prefix("sheetsync-mariadb-template-staging-")
        .tempdir()
        .context("create a staging directory")?;
    let data = staging.path().join("data");
    let output = Command::new(find_program("mariadb-install-db")?)
        .arg("--no-defaults")
        .arg(format!("--user={}", user_name()))
        .arg(format!("--datadir={}", data.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .args(INNODB_ARGS)
        .output()
        .context("run mariadb-install-db")?;
    if !output.status.success() {
        bail!(
            "mariadb-install-db failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if std::fs::rename(&data, &template).is_err() && !template.join("mysql").is_dir() {
        bail!(
            "could not move the MariaDB template into {}",
            template.display()
        );
    }
    Ok(template)
}

pub(crate) fn spawn_watchdog(
    program: &Path,
    arguments: &[String],
    directory: &Path,
) -> anyhow::Result<Watchdog> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("sheetsync-mariadb-watchdog")
        .arg(directory)
        .arg(program)
        .args(arguments)
        // std creates this pipe close-on-exec, so no other child of the test process holds it.
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start the MariaDB watchdog (sh)")?;
    let pipe = child.stdin.take().context("watchdog stdin")?;
    Ok(Watchdog { child, pipe })
}

/// A free TCP port on 127.0.0.1 (free now; another process may take it before we bind it).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether *our* server answers on `port`: its pid file names the process the watchdog started
/// (not some other server that took the port), and a query succeeds.
pub(crate) fn answers(port: u16, directory: &Path) -> anyhow::Result<bool> {
    let ours = read_pid(&directory.join("server.pid")).ok();
    let announced = read_pid(&directory.join("mariadbd.pid")).ok();
    if ours.is_none() || ours != announced {
        return Ok(false);
    }
    let status = Command::new(find_program("mariadb")?)
        .args([
            "--no-defaults",
            "--connect-timeout=2",
            "-h127.0.0.1",
            "-uroot",
        ])
        .arg(format!("-P{port}"))
        .args(["-e", "SELECT 1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("run the mariadb client")?;
    Ok(status.success())
}

pub(crate) fn read_pid(path: &Path) -> anyhow::Result<u32> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    text.trim()
        .parse()
        .with_context(|| format!("parse the pid in {}", path.display()))
}

pub(crate) fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .context("run kill")?;
    if !status.success() {
        bail!("kill -{signal} {pid} failed");
    }
    Ok(())
}

/// The user to run `mariadbd` as: the current one (`mariadbd` refuses root unless told).
pub(crate) fn user_name() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "root".to_string())
}
