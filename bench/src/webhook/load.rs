//! The load and the checks of the `webhook` benchmark: signed messages sent over a fixed number
//! of connections, the baseline's direct UPDATEs, the checks afterwards, and the CPU and
//! server counters each phase is charged with.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use mysql_async::prelude::Queryable as _;
use serde_json::json;
use sheetsync::webhook::signature::sign;

use super::http::{address_and_path, Connection};
use super::{ORIGIN, SECRET, SHEET, SPREADSHEET};
use crate::stats::percentile;

/// One run of requests: wall time and each request's latency (ms).
pub struct Run {
    pub seconds: f64,
    pub latencies_ms: Vec<f64>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.seconds
    }

    pub fn percentile(&self, at: f64) -> f64 {
        percentile(&self.latencies_ms, at).unwrap_or(f64::NAN)
    }
}

/// A signed message (timestamp, signature, body) per row `first..first + count`.
pub fn signed_messages(first: usize, count: usize) -> Vec<(String, String, Vec<u8>)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let timestamp = now.to_string();
    let run = std::process::id();
    (first..first + count)
        .map(|id| {
            let body = json!({
                "version": 1, "delivery_id": format!("bench-{run}-{id}"), "kind": "edit",
                "spreadsheet_id": SPREADSHEET, "sheet": SHEET, "sheet_id": 0,
                "sent_at": "2026-01-01T00:00:00.000Z", "user": "editor@example.com",
                "edited_at": "2026-01-01T00:00:00.000Z", "header": ["id", "v"],
                "rows": [{"row": id + 1, "key": {"id": id}, "values": {"v": format!("w{id}")},
                          "old_values": {"v": "0"}}]
            })
            .to_string()
            .into_bytes();
            let signature = sign(SECRET.as_bytes(), &timestamp, &body);
            (timestamp.clone(), signature, body)
        })
        .collect()
}

/// Sends `messages` over `connections` (one message in flight on each); gives the connections
/// back for the next run. Every answer must be 200 with the row `applied`.
pub async fn send_all(
    connections: Vec<Connection>,
    url: &str,
    messages: Vec<(String, String, Vec<u8>)>,
) -> anyhow::Result<(Run, Vec<Connection>)> {
    let (address, path) = address_and_path(url)?;
    let head = Arc::new(format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n"
    ));
    let messages = Arc::new(std::sync::Mutex::new(messages.into_iter()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut connection in connections {
        let (head, messages) = (head.clone(), messages.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut request = Vec::with_capacity(1024);
            loop {
                let next = messages
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .next();
                let Some(message) = next else {
                    return Ok::<_, anyhow::Error>((latencies, connection));
                };
                let sent = Instant::now();
                let (status, answer) = connection.post(&head, &message, &mut request).await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                // The whole table is checked afterwards (`verify`); here each answer's one row.
                let applied = answer
                    .windows(APPLIED.len())
                    .any(|window| window == APPLIED);
                if status != 200 || !applied {
                    bail!(
                        "expected 200 applied, got {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
            }
        });
    }
    let mut latencies_ms = Vec::new();
    let mut connections = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (latencies, connection) = joined.context("sender task")??;
        latencies_ms.extend(latencies);
        connections.push(connection);
    }
    let run = Run {
        seconds: started.elapsed().as_secs_f64(),
        latencies_ms,
    };
    Ok((run, connections))
}

/// What the answer to a single-row edit says when the row was applied.
const APPLIED: &[u8] = br#""status":"applied""#;

/// `UPDATE direct SET v = ? WHERE id = ?` for rows `first..first + count`, autocommit.
pub async fn direct_updates(
    pool: &mysql_async::Pool,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (pool, next) = (pool.clone(), next.clone());
        tasks.spawn(async move {
            let mut connection = pool.get_conn().await?;
            let mut latencies = Vec::new();
            loop {
                let id = next.fetch_add(1, Ordering::Relaxed);
                if id >= end {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let sent = Instant::now();
                connection
                    .exec_drop(
                        "UPDATE direct SET v = ? WHERE id = ?",
                        (format!("w{id}"), id),
                    )
                    .await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                if connection.affected_rows() != 1 {
                    bail!(
                        "UPDATE of id {id} changed {} rows",
                        connection.affected_rows()
                    );
                }
            }
        });
    }
    collect(tasks, started).await
}

async fn collect(
    mut tasks: tokio::task::JoinSet<anyhow::Result<Vec<f64>>>,
    started: Instant,
) -> anyhow::Result<Run> {
    let mut latencies_ms = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        latencies_ms.extend(joined.context("sender task")??);
    }
    Ok(Run {
        seconds: started.elapsed().as_secs_f64(),
        latencies_ms,
    })
}

/// Every row holds its new value on both tables, and every message left its delivery answer and
/// an echo marker.
pub async fn verify(url: &str, database: &str, rows: usize) -> anyhow::Result<()> {
    let mut connection = mysql_async::Conn::from_url(url).await?;
    for table in ["edits", "direct"] {
        let changed: Option<u64> = connection
            .query_first(format!(
                "SELECT COUNT(*) FROM {table} WHERE v = CONCAT('w', id)"
            ))
            .await?;
        if changed != Some(rows as u64) {
            bail!("{table}: {changed:?} of {rows} rows hold their new value");
        }
    }
    let deliveries: Option<u64> = connection
        .query_first("SELECT COUNT(*) FROM sheetsync.deliveries WHERE mapping = 'edits'")
        .await?;
    if deliveries != Some(rows as u64) {
        bail!("{deliveries:?} delivery answers stored for {rows} messages");
    }
    let markers: Option<u64> = connection
        .exec_first(
            "SELECT COUNT(*) FROM sheetsync.echo_marker WHERE origin = ? AND cells LIKE ?",
            (ORIGIN, format!("%{database}.edits%")),
        )
        .await?;
    if markers.unwrap_or(0) == 0 {
        bail!("no echo marker of origin {ORIGIN} names {database}.edits");
    }
    let _ = connection.disconnect().await;
    Ok(())
}

/// The server's command counters that say how many round trips an edit costs.
pub async fn server_counters(url: &str) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let mut connection = mysql_async::Conn::from_url(url).await?;
    let rows: Vec<(String, String)> = connection
        .query(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_prepare', \
             'Com_stmt_execute', 'Com_stmt_close', 'Com_begin', 'Com_commit', 'Com_rollback', \
             'Com_set_option')",
        )
        .await?;
    let _ = connection.disconnect().await;
    Ok(rows
        .into_iter()
        .map(|(name, value)| (name, value.parse().unwrap_or_default()))
        .collect())
}

/// CPU time (user + system) of mariadbd, of this runner, and of the client thread (the caller's
/// thread: read on the thread [`on_client_thread`] runs), from /proc (USER_HZ = 100 ticks per
/// second on Linux). What the runner spent besides the client thread is the service's.
pub struct CpuSeconds {
    pub server: f64,
    pub runner: f64,
    pub client: f64,
}

impl CpuSeconds {
    pub fn of(server: u32) -> CpuSeconds {
        CpuSeconds {
            server: process_cpu_seconds(&server.to_string()),
            runner: process_cpu_seconds("self"),
            client: process_cpu_seconds("thread-self"),
        }
    }

    pub fn since(&self, before: &CpuSeconds) -> CpuSeconds {
        CpuSeconds {
            server: self.server - before.server,
            runner: self.runner - before.runner,
            client: self.client - before.client,
        }
    }

    /// The runner's CPU but the client thread's.
    pub fn service(&self) -> f64 {
        (self.runner - self.client).max(0.0)
    }
}

/// Runs the load `load` makes on a thread of its own, with a single-threaded runtime: the load
/// generator's CPU is then that thread's, told apart from the service's (which keeps the
/// runner's runtime). Connections must be made inside `load`, on that thread's runtime.
pub async fn on_client_thread<T, F>(load: impl FnOnce() -> F + Send + 'static) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("the client thread's runtime")?;
        runtime.block_on(load())
    })
    .await
    .context("the client thread")?
}

/// Waits until `pid` (mariadbd) is idle — below 5% of a CPU over a quarter second — or 20 s
/// passed: InnoDB's purge and page flushing after the previous phase's writes would otherwise
/// take the two CPUs from whichever side is measured next. Returns the seconds waited.
pub async fn settle(pid: u32) -> f64 {
    const WINDOW: std::time::Duration = std::time::Duration::from_millis(250);
    let started = Instant::now();
    let pid = pid.to_string();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        let before = process_cpu_seconds(&pid);
        tokio::time::sleep(WINDOW).await;
        if process_cpu_seconds(&pid) - before < 0.05 * WINDOW.as_secs_f64() {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}

/// `utime + stime` of /proc/PID/stat in seconds; 0 when unreadable (the note then shows 0).
pub fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or_default()
    };
    (ticks(11) + ticks(12)) / 100.0
}
