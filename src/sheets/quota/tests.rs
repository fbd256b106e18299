use super::*;

const WINDOW: Duration = Duration::from_secs(60);

fn seconds(value: u64) -> Duration {
    Duration::from_secs(value)
}

#[test]
fn a_full_burst_then_nothing_until_the_window_moves() {
    let budget = RequestBudget::new(3, WINDOW);
    let start = Instant::now();
    assert_eq!(budget.take(start), Ok(()));
    let later = start + seconds(10);
    assert_eq!(budget.take(later), Ok(()));
    assert_eq!(budget.take(later), Ok(()));
    assert_eq!(budget.take(later), Err(seconds(50)));
    assert_eq!(budget.time_until_available_at(later), seconds(50));
    let minute = start + WINDOW;
    assert_eq!(budget.time_until_available_at(minute), Duration::ZERO);
    assert_eq!(budget.take(minute), Ok(()));
    // The two taken at +10 s are still inside the window.
    assert_eq!(budget.take(minute), Err(seconds(10)));
}

#[test]
fn never_more_than_the_limit_in_any_window() {
    let budget = RequestBudget::new(5, WINDOW);
    let start = Instant::now();
    let mut now = start;
    let mut times = Vec::new();
    while times.len() < 23 {
        match budget.take(now) {
            Ok(()) => times.push(now),
            Err(wait) => now += wait,
        }
    }
    for (index, time) in times.iter().enumerate() {
        let in_window = times[index..]
            .iter()
            .filter(|later| later.duration_since(*time) < WINDOW)
            .count();
        assert!(in_window <= 5, "{in_window} in the window from #{index}");
    }
    // 23 tokens at 5 per window: the 21st..23rd come after 4 windows.
    assert_eq!(now.duration_since(start), WINDOW * 4);
}

#[tokio::test]
async fn acquire_waits_for_the_window_and_try_acquire_does_not() {
    let window = Duration::from_millis(50);
    let budget = RequestBudget::new(2, window);
    let started = std::time::Instant::now();
    assert!(budget.try_acquire());
    budget.acquire().await;
    assert!(!budget.try_acquire());
    assert_eq!(budget.available(), 0);
    assert!(budget.time_until_available() <= window);
    budget.acquire().await;
    // A lower bound only: a busy machine may make it later, never earlier.
    assert!(started.elapsed() >= window);
}

#[tokio::test]
async fn try_acquire_does_not_jump_the_queue_of_waiters() {
    let budget = RequestBudget::new(1, Duration::from_millis(50));
    assert!(budget.try_acquire());
    let waiter = {
        let budget = budget.clone();
        tokio::spawn(async move { budget.acquire().await })
    };
    // While the waiter holds its turn, or after it took the token, nothing is free.
    tokio::task::yield_now().await;
    assert!(!budget.try_acquire() || waiter.is_finished());
    waiter.await.expect("waiter");
    assert!(!budget.try_acquire());
}

#[tokio::test]
async fn dropping_acquire_takes_nothing() {
    let budget = RequestBudget::new(1, WINDOW);
    assert!(budget.try_acquire());
    let attempt = tokio::time::timeout(Duration::from_millis(20), budget.acquire()).await;
    assert!(attempt.is_err());
    let sent = budget.sent().len();
    assert_eq!(sent, 1, "the cancelled acquire took nothing");
    assert!(budget.inner.turn.try_lock().is_ok(), "and left the queue");
}

#[test]
fn a_paced_budget_answers_a_burst_then_one_per_interval_and_never_exceeds_the_window() {
    let budget = RequestBudget::paced(60, WINDOW, Some(3));
    let start = Instant::now();
    for _ in 0..3 {
        assert_eq!(budget.take(start), Ok(()), "the burst is free");
    }
    let interval = WINDOW / 57;
    match budget.take(start) {
        Err(wait) => assert!(
            wait <= interval && wait + Duration::from_millis(2) >= interval,
            "{wait:?}"
        ),
        Ok(()) => panic!("the fourth request must wait"),
    }
    // A steady stream for five minutes: never more than 60 in any window, and no wait
    // ever longer than one interval (the window never stalls the stream).
    let mut now = start;
    let mut times = vec![start; 3];
    while now < start + WINDOW * 5 {
        match budget.take(now) {
            Ok(()) => times.push(now),
            Err(wait) => {
                assert!(
                    wait <= interval + Duration::from_millis(2),
                    "waited {wait:?}"
                );
                now += wait;
            }
        }
    }
    for (index, time) in times.iter().enumerate() {
        let in_window = times[index..]
            .iter()
            .filter(|later| later.duration_since(*time) < WINDOW)
            .count();
        assert!(in_window <= 60, "{in_window} in the window from #{index}");
    }
    // Idle again: the bucket refills to its burst, no further.
    let idle = now + WINDOW;
    for _ in 0..3 {
        assert_eq!(budget.take(idle), Ok(()));
    }
    assert!(budget.take(idle).is_err());
}

#[test]
fn zero_limit_is_one() {
    assert_eq!(RequestBudget::new(0, WINDOW).limit(), 1);
}

#[test]
fn settings_from_config() {
    let sync = crate::config::SyncConfig {
        write_requests_per_minute: 300,
        ..Default::default()
    };
    let settings = QuotaSettings::from_config(&sync);
    assert_eq!(settings.write_requests_per_window, 300);
    assert_eq!(settings.read_requests_per_window, 60);
    assert_eq!(settings.window, Duration::from_secs(60));
}
