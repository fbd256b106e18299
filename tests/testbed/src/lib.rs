//! sheetsync's test bed: throwaway MariaDB servers for tests and benchmarks.
//!
//! A [`MariaDb`] is a real `mariadbd` (Debian's `mariadb-server`) started on a free 127.0.0.1 port
//! in its own temporary directory, with the binlog settings sheetsync needs (`log_bin`,
//! `binlog_format=ROW`, `binlog_row_image=FULL`, `binlog_row_metadata=FULL`) and a unique
//! `server_id`. A fresh data directory plus start takes about a second; a restart with data and
//! binlogs kept takes a fraction of that, so tests can restart the server to test reconnects.
//!
//! # The server never outlives the test process
//! Each `mariadbd` runs under a small watchdog shell whose standard input is a pipe held only by
//! the test process. When the test process ends, however it ends (normal exit, panic, `kill -9`),
//! the pipe closes; the watchdog then stops `mariadbd` and removes the directory. Dropping a
//! [`MariaDb`] does the same at once. So [`MariaDb::shared`], a `static` that is never dropped,
//! is still cleaned up.
//!
//! # Use
//! ```no_run
//! # async fn example() {
//! let server = sheetsync_testbed::MariaDb::shared();
//! let database = server.create_database("orders").await;   // own database per test
//! let pool = mysql_async::Pool::new(database.url.as_str());
//! # }
//! ```

mod database;
mod process;

pub use database::TestDatabase;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// Settings every test server gets: what sheetsync requires of a real deployment.
const BINLOG_ARGS: &[&str] = &[
    "--log-bin=binlog",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
];

/// How long a server may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A throwaway MariaDB server. See the crate documentation.
pub struct MariaDb {
    /// The instance directory (data, socket, logs). Removed when the server is dropped.
    directory: PathBuf,
    port: u16,
    server_id: u32,
    /// Extra `mariadbd` arguments given at start; they apply to every restart too.
    extra_args: Vec<String>,
    /// Whether the test bed's binlog settings ([`BINLOG_ARGS`]) are given.
    binlog_defaults: bool,
    /// The running watchdog and the write end of its pipe; `None` while stopped.
    running: Mutex<Option<Watchdog>>,
}

struct Watchdog {
    child: Child,
    /// Closing this tells the watchdog to stop `mariadbd`.
    pipe: ChildStdin,
}

static SHARED: OnceLock<MariaDb> = OnceLock::new();
static NEXT_SERVER_ID: AtomicU32 = AtomicU32::new(0);

impl MariaDb {
    /// One server shared by every test of this process, started on first use.
    ///
    /// # Panics
    /// If the server cannot be started (the message says why, e.g. `mariadbd` not installed).
    pub fn shared() -> &'static MariaDb {
        SHARED.get_or_init(|| MariaDb::start().expect("start the shared test MariaDB"))
    }

    /// A server of one's own, e.g. to restart it or to give it other settings.
    pub fn start() -> anyhow::Result<MariaDb> {
        Self::start_with(&[])
    }

    /// A server of one's own with extra `mariadbd` arguments; later ones override the defaults,
    /// e.g. `--binlog-format=STATEMENT` to test that sheetsync refuses it.
    pub fn start_with(extra_args: &[&str]) -> anyhow::Result<MariaDb> {
        Self::launch_new(extra_args, true)
    }

    /// A server with none of the test bed's binlog settings, only MariaDB's own defaults plus
    /// `arguments`: to prove that a my.cnf fragment alone is enough.
    pub fn start_plain(arguments: &[&str]) -> anyhow::Result<MariaDb> {
        Self::launch_new(arguments, false)
    }

    fn launch_new(extra_args: &[&str], binlog_defaults: bool) -> anyhow::Result<MariaDb> {
        let program = process::find_program("mariadbd")?;
        let directory = tempfile::Builder::new()
            .prefix("sheetsync-mariadb-")
            .tempdir()
            .context("create a directory for the test MariaDB")?
            .keep();
        process::install_data_directory(&directory)?;
        let server_id = 1000 + (std::process::id() % 100_000) * 10 + next_server_id();
        let mut last_error = None;
        // A free port is found by binding port 0 and letting it go, so another process may take
        // it before mariadbd binds it; try a few ports before giving up.
        for _ in 0..5 {
            let port = process::free_port()?;
            let server = MariaDb {
                directory: directory.clone(),
                port,
                server_id,
                extra_args: extra_args
                    .iter()
                    .map(|argument| argument.to_string())
                    .collect(),
                binlog_defaults,
                running: Mutex::new(None),
            };
            match server.launch(&program) {
                Ok(()) => return Ok(server),
                Err(error) => {
                    // Keep the initialised data directory for the next port.
                    server.keep_directory_on_stop(true);
                    drop(server);
                    let _ = std::fs::remove_file(directory.join(".keep"));
                    last_error = Some(error);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&directory);
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no port found")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `server_id` this server writes into its binlog.
    pub fn server_id(&self) -> u32 {
        self.server_id
    }

    /// `mysql://root@127.0.0.1:PORT` (root has an empty password).
    pub fn root_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// `mysql://root@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("{}/{}", self.root_url(), database)
    }

    /// The instance directory: `data/` (with the binlogs), `mysqld.sock`, `mariadbd.err`.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Stop gracefully (data and binlogs kept) and start again on the same port.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.stop()?;
        self.launch(&process::find_program("mariadbd")?)
    }

    /// Stop gracefully, keeping data and binlogs; [`MariaDb::resume`] starts it again.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.keep_directory_on_stop(true);
        let watchdog = self.lock_running().take();
        if let Some(mut watchdog) = watchdog {
            drop(watchdog.pipe);
            watchdog
                .child
                .wait()
                .context("wait for the MariaDB watchdog")?;
        }
        self.keep_directory_on_stop(false);
        Ok(())
    }

    /// Start again after [`MariaDb::stop`] or [`MariaDb::kill`], same port and data.
    pub fn resume(&self) -> anyhow::Result<()> {
        if self.is_running() {
            bail!("the test MariaDB on port {} is already running", self.port);
        }
        self.launch(&process::find_program("mariadbd")?)
    }

    /// Crash the server (`SIGKILL`), as a power cut would; [`MariaDb::resume`] recovers it.
    pub fn kill(&self) -> anyhow::Result<()> {
        let pid = process::read_pid(&self.directory.join("server.pid"))?;
        process::signal(pid, "KILL")?;
        // The watchdog reaps the dead server once told to stop.
        self.stop()
    }

    /// Whether the watchdog (and so the server) is still running.
    pub fn is_running(&self) -> bool {
        match self.lock_running().as_mut() {
            Some(watchdog) => matches!(watchdog.child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn launch(&self, program: &Path) -> anyhow::Result<()> {
        let mut arguments: Vec<String> = vec![
            "--no-defaults".into(),
            format!("--user={}", process::user_name()),
            format!("--datadir={}", self.directory.join("data").display()),
            format!("--socket={}", self.directory.join("mysqld.sock").display()),
            format!(
                "--pid-file={}",
                self.directory.join("mariadbd.pid").display()
            ),
            format!(
                "--log-error={}",
                self.directory.join("mariadbd.err").display()
            ),
            format!("--port={}", self.port),
            "--bind-address=127.0.0.1".into(),
            "--skip-name-resolve".into(),
            format!("--server-id={}", self.server_id),
            // Small and fast: test data is throwaway, so durability on power loss is not needed
            // (a SIGKILL of mariadbd still loses nothing committed: the OS keeps written pages).
            "--innodb-buffer-pool-size=128M".into(),
            "--sync-binlog=0".into(),
            "--max-allowed-packet=64M".into(),
            "--max-connections=500".into(),
        ];
        arguments.extend(
            process::INNODB_ARGS
                .iter()
                .map(|argument| argument.to_string()),
        );
        if self.binlog_defaults {
            arguments.extend(BINLOG_ARGS.iter().map(|argument| argument.to_string()));
        }
        arguments.extend(self.extra_args.iter().cloned());
        let _ = std::fs::remove_file(self.directory.join("mariadbd.pid"));
        let watchdog = process::spawn_watchdog(program, &arguments, &self.directory)?;
        *self.lock_running() = Some(watchdog);
        self.wait_until_ready()
    }

    fn wait_until_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if process::answers(self.port, &self.directory)? {
                return Ok(());
            }
            if !self.is_running() || Instant::now() > deadline {
                let log = std::fs::read_to_string(self.directory.join("mariadbd.err"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                let state = if self.is_running() {
                    "did not answer in time"
                } else {
                    "exited"
                };
                bail!(
                    "test MariaDB on port {} {state}; log:\n{}",
                    self.port,
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// While the `.keep` file exists, a watchdog that stops the server leaves the directory.
    fn keep_directory_on_stop(&self, keep: bool) {
        let marker = self.directory.join(".keep");
        if keep {
            let _ = std::fs::File::create(marker).and_then(|mut file| file.flush());
        } else {
            let _ = std::fs::remove_file(marker);
        }
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, Option<Watchdog>> {
        // A panic while holding this lock leaves plain data behind; keep using it.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let watchdog = self.lock_running().take();
        if let Some(mut watchdog) = watchdog {
            drop(watchdog.pipe);
            let _ = watchdog.child.wait();
        }
        if !self.directory.join(".keep").exists() {
            let _ = std::fs::remove_dir_all(&self.directory);
        }
    }
}

fn next_server_id() -> u32 {
    NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed) % 10
}
