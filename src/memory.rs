//! Keeping the process's resident memory close to its live data (glibc on Linux).
//!
//! Consumes nothing; called at start ([`limit_arenas`]) and by writers when they go idle
//! ([`release_free_memory`]). Guarantees: at most one trim every [`TRIM_INTERVAL`], and a no-op
//! on other platforms and allocators.
//!
//! Why: the stages run on different threads, and glibc gives each thread its own arena (up to
//! eight per core); memory freed after a burst stays in those arenas, so RSS kept a burst's peak
//! for good (the memory benchmark's idle and after-burst figures). Two arenas and a trim when
//! the work is done return it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Trims are cheap (a walk of the free lists) but not free: at most this often.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(5);

static LAST_TRIM_SECONDS: AtomicU64 = AtomicU64::new(0);

/// Call once, before the runtime starts threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns freed heap memory to the OS, at most once per [`TRIM_INTERVAL`]; true when it trimmed.
pub fn release_free_memory() -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let last = LAST_TRIM_SECONDS.load(Ordering::Relaxed);
    if now < last + TRIM_INTERVAL.as_secs()
        || LAST_TRIM_SECONDS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of the heaps and free pages in
    // them; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_at_most_once_per_interval() {
        limit_arenas();
        let first = release_free_memory();
        let second = release_free_memory();
        assert!(!second, "a second trim within the interval");
        // The first may lose to another test's trim in the same second; never both.
        let _ = first;
        assert!(LAST_TRIM_SECONDS.load(Ordering::Relaxed) > 0);
    }
}
