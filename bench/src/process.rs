//! Child processes the benchmarks run (the release `sheetsync`, the Python baseline) and what
//! the kernel says about them.
//!
//! Consumes a `Command`; produces a [`ChildProcess`] whose output goes to a log file. Guarantees:
//! a child never outlives the runner — it gets `SIGKILL` from the kernel when the runner dies
//! (`PR_SET_PDEATHSIG`, so even `kill -9` of the runner), and is killed when its handle drops
//! (a benchmark that fails or times out); [`ChildProcess::stop`] asks politely first.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

pub struct ChildProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ChildProcess {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> anyhow::Result<ChildProcess> {
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("open the log file {}", log.display()))?;
        let errors = output.try_clone().context("duplicate the log file")?;
        command.stdin(Stdio::null()).stdout(output).stderr(errors);
        // Its own process group, so a wrapper's children (a profiler runs sheetsync as its
        // child) are signalled with it; and SIGKILL from the kernel when the runner dies.
        // SAFETY: setpgid and prctl are async-signal-safe and touch no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::setpgid(0, 0) != 0
                    || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("start {name} ({command:?})"))?;
        Ok(ChildProcess {
            name: name.into(),
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    /// An error naming the exit status and the log's tail when the child has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        let Some(child) = self.child.as_mut() else {
            bail!("{} was already stopped", self.name);
        };
        if let Some(status) = child.try_wait()? {
            bail!(
                "{} exited early ({status}); log {} ends:\n{}",
                self.name,
                self.log.display(),
                self.log_tail(3000)
            );
        }
        Ok(())
    }

    /// The last `bytes` of the child's log.
    pub fn log_tail(&self, bytes: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut start = text.len().saturating_sub(bytes);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_string()
    }

    /// SIGTERM to its process group, then SIGKILL if it has not exited within `grace`.
    pub fn stop(mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            signal_group(&child, libc::SIGTERM);
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    signal_group(&child, libc::SIGKILL);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            signal_group(&child, libc::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the child to exit by itself, at most `limit`.
    pub fn wait(mut self, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        let Some(mut child) = self.child.take() else {
            bail!("{} was already stopped", self.name);
        };
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} did not finish within {limit:?}; log tail:\n{}",
                    self.name,
                    self.log_tail(3000)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(&child, libc::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Signals the child's process group (its id: the child leads the group it made at start).
fn signal_group(child: &Child, signal: libc::c_int) {
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on the group our child leads; the group outlives the child's reaping
        // only while other members remain, which are the processes meant here.
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

/// Memory of a process as the kernel counts it, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident now.
    pub rss: u64,
    /// The most it was resident since it started (the high-water mark).
    pub peak_rss: u64,
    /// Of `rss`: anonymous pages (heap, stacks) and file-backed pages (the binary, libraries).
    pub anonymous: u64,
    pub file: u64,
}

/// `VmRSS`, `VmHWM`, `RssAnon` and `RssFile` from `/proc/<pid>/status`.
pub fn memory_of(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = text
            .lines()
            .find(|line| line.starts_with(name))
            .with_context(|| format!("{path} has no {name}"))?;
        let kilobytes: u64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("{path}: {line}"))?;
        Ok(kilobytes * 1024)
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        peak_rss: field("VmHWM:")?,
        anonymous: field("RssAnon:")?,
        file: field("RssFile:")?,
    })
}

/// The process id written in a pid file.
pub fn pid_from_file(path: &Path) -> anyhow::Result<u32> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    text.trim()
        .parse()
        .with_context(|| format!("{} holds no pid: {text:?}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_memory() {
        let memory = memory_of(std::process::id()).expect("own status");
        assert!(memory.rss > 0);
        assert!(memory.peak_rss >= memory.rss);
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(memory_of(u32::MAX - 1).is_err());
    }

    #[test]
    fn an_early_exit_names_the_status_and_the_log() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = directory.path().join("child.log");
        let mut command = Command::new("sh");
        command.args(["-c", "echo broken config >&2; exit 3"]);
        let mut child = ChildProcess::spawn("sh", command, &log).expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        let error = loop {
            match child.check_running() {
                Err(error) => break error.to_string(),
                Ok(()) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(()) => panic!("sh did not exit"),
            }
        };
        assert!(error.contains("exit status: 3"), "{error}");
        assert!(error.contains("broken config"), "{error}");
    }

    #[test]
    fn a_wrapper_and_its_child_are_both_stopped() {
        let directory = tempfile::tempdir().expect("temp dir");
        let pid_file = directory.path().join("grandchild.pid");
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("sleep 60 & echo $! > {}; wait", pid_file.display()),
        ]);
        let child =
            ChildProcess::spawn("sh", command, &directory.path().join("log")).expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        let grandchild = loop {
            if let Ok(pid) = pid_from_file(&pid_file) {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "the wrapper did not start its child"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        child.stop(Duration::from_secs(5));
        let deadline = Instant::now() + Duration::from_secs(10);
        // The grandchild is not ours to reap: it is gone once init reaps it (or a zombie).
        while Path::new(&format!("/proc/{grandchild}")).exists()
            && !std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
        {
            assert!(Instant::now() < deadline, "the wrapper's child survived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_dropped_child_is_killed() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("sleep");
        command.arg("60");
        let child =
            ChildProcess::spawn("sleep", command, &directory.path().join("log")).expect("spawn");
        let pid = child.pid();
        drop(child);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
