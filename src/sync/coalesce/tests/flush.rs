use std::time::{Duration, Instant};

use super::super::{decide_flush, FlushDecision, FlushInputs, FlushPolicy, FlushReason};

#[test]
fn flush_decisions() {
    let t0 = Instant::now();
    let ms = |millis: u64| t0 + Duration::from_millis(millis);
    let policy = FlushPolicy::default();
    let quiet = FlushInputs {
        now: ms(100),
        oldest: None,
        newest: None,
        pending_bytes: 0,
        backlog: false,
        in_flight: false,
        token_ready_at: None,
        position_unsaved_since: None,
        shutting_down: false,
    };
    let pending = FlushInputs {
        oldest: Some(ms(98)),
        newest: Some(ms(99)),
        pending_bytes: 500,
        ..quiet
    };
    let cases: Vec<(&str, FlushInputs, FlushDecision)> = vec![
        ("nothing pending", quiet, FlushDecision::Idle),
        (
            "nothing pending, even at shutdown",
            FlushInputs {
                shutting_down: true,
                ..quiet
            },
            FlushDecision::Idle,
        ),
        (
            "a burst still arriving lingers",
            pending,
            FlushDecision::WaitUntil(ms(104)),
        ),
        (
            "the burst went quiet",
            FlushInputs {
                now: ms(104),
                ..pending
            },
            FlushDecision::Now(FlushReason::Linger),
        ),
        (
            "a steady trickle is flushed after the interval",
            FlushInputs {
                now: ms(348),
                oldest: Some(ms(98)),
                newest: Some(ms(347)),
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
        (
            "a trickle close to the interval waits for the earlier deadline",
            FlushInputs {
                now: ms(346),
                oldest: Some(ms(98)),
                newest: Some(ms(345)),
                ..pending
            },
            FlushDecision::WaitUntil(ms(348)),
        ),
        (
            "changes already queued are read before the batch goes (no linger, no interval)",
            FlushInputs {
                now: ms(400),
                backlog: true,
                ..pending
            },
            FlushDecision::WaitUntil(ms(3_098)),
        ),
        (
            "… but not past fill_wait",
            FlushInputs {
                now: ms(3_098),
                backlog: true,
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
        (
            "a full batch goes even with changes queued",
            FlushInputs {
                backlog: true,
                pending_bytes: 2_000_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Size),
        ),
        (
            "a burst filling fast past the interval waits to fill (2 MB within 3 s)",
            FlushInputs {
                now: ms(348),
                oldest: Some(ms(98)),
                newest: Some(ms(347)),
                pending_bytes: 600_000,
                ..pending
            },
            FlushDecision::WaitUntil(ms(447)),
        ),
        (
            "… and a 5 ms gap in it is not its end: it waits burst_linger",
            FlushInputs {
                now: ms(400),
                oldest: Some(ms(98)),
                newest: Some(ms(347)),
                pending_bytes: 600_000,
                ..pending
            },
            FlushDecision::WaitUntil(ms(447)),
        ),
        (
            "… but goes once it has been quiet for burst_linger",
            FlushInputs {
                now: ms(447),
                oldest: Some(ms(98)),
                newest: Some(ms(347)),
                pending_bytes: 600_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
        (
            "a burst's start with a 5 ms gap keeps filling (slow commits: 100 kB in 22 ms)",
            FlushInputs {
                now: ms(126),
                oldest: Some(ms(98)),
                newest: Some(ms(120)),
                pending_bytes: 100_000,
                ..pending
            },
            FlushDecision::WaitUntil(ms(220)),
        ),
        (
            "… and goes as a linger after 100 ms of quiet",
            FlushInputs {
                now: ms(220),
                oldest: Some(ms(98)),
                newest: Some(ms(120)),
                pending_bytes: 100_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Linger),
        ),
        (
            "a lone 13 kB transaction waits only until it stops counting as fast (20 ms)",
            FlushInputs {
                now: ms(104),
                oldest: Some(ms(98)),
                newest: Some(ms(98)),
                pending_bytes: 13_000,
                ..pending
            },
            FlushDecision::WaitUntil(ms(118)),
        ),
        (
            "… then goes",
            FlushInputs {
                now: ms(118),
                oldest: Some(ms(98)),
                newest: Some(ms(98)),
                pending_bytes: 13_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Linger),
        ),
        (
            "a batch arriving slowly goes after the plain linger",
            FlushInputs {
                now: ms(185),
                oldest: Some(ms(98)),
                newest: Some(ms(180)),
                pending_bytes: 20_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Linger),
        ),
        (
            "… and never waits past fill_wait",
            FlushInputs {
                now: ms(3_098),
                oldest: Some(ms(98)),
                newest: Some(ms(3_097)),
                pending_bytes: 1_900_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
        (
            "a batch growing too slowly to fill goes at the interval",
            FlushInputs {
                now: ms(348),
                oldest: Some(ms(98)),
                newest: Some(ms(347)),
                pending_bytes: 150_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
        (
            "a full batch goes at once",
            FlushInputs {
                pending_bytes: 2_000_000,
                ..pending
            },
            FlushDecision::Now(FlushReason::Size),
        ),
        (
            "never while a request is in flight",
            FlushInputs {
                in_flight: true,
                pending_bytes: 5_000_000,
                shutting_down: true,
                ..pending
            },
            FlushDecision::Idle,
        ),
        (
            "no token: wait for it, changes keep coalescing",
            FlushInputs {
                token_ready_at: Some(ms(900)),
                now: ms(500),
                ..pending
            },
            FlushDecision::WaitUntil(ms(900)),
        ),
        (
            "no token, even when full or shutting down",
            FlushInputs {
                token_ready_at: Some(ms(900)),
                pending_bytes: 3_000_000,
                shutting_down: true,
                ..pending
            },
            FlushDecision::WaitUntil(ms(900)),
        ),
        (
            "a token ready now counts as free",
            FlushInputs {
                token_ready_at: Some(ms(104)),
                now: ms(104),
                ..pending
            },
            FlushDecision::Now(FlushReason::Linger),
        ),
        (
            "shutdown flushes at once",
            FlushInputs {
                shutting_down: true,
                ..pending
            },
            FlushDecision::Now(FlushReason::Shutdown),
        ),
        (
            "a moved position waits for the checkpoint period",
            FlushInputs {
                position_unsaved_since: Some(ms(50)),
                ..quiet
            },
            FlushDecision::WaitUntil(ms(30_050)),
        ),
        (
            "a moved position not saved for 30 s is checkpointed",
            FlushInputs {
                position_unsaved_since: Some(ms(50)),
                now: ms(30_050),
                ..quiet
            },
            FlushDecision::Now(FlushReason::Checkpoint),
        ),
        (
            "a due checkpoint waits for a token",
            FlushInputs {
                position_unsaved_since: Some(ms(50)),
                now: ms(30_050),
                token_ready_at: Some(ms(31_000)),
                ..quiet
            },
            FlushDecision::WaitUntil(ms(31_000)),
        ),
        (
            "a checkpoint not yet due does not wake up for a token",
            FlushInputs {
                position_unsaved_since: Some(ms(50)),
                token_ready_at: Some(ms(200)),
                ..quiet
            },
            FlushDecision::WaitUntil(ms(30_050)),
        ),
        (
            "shutdown saves a moved position at once",
            FlushInputs {
                position_unsaved_since: Some(ms(50)),
                shutting_down: true,
                ..quiet
            },
            FlushDecision::Now(FlushReason::Shutdown),
        ),
        (
            "with rows pending, the rows' deadlines rule (they carry the position)",
            FlushInputs {
                position_unsaved_since: Some(ms(0)),
                now: ms(40_000),
                ..pending
            },
            FlushDecision::Now(FlushReason::Interval),
        ),
    ];
    for (case, inputs, expected) in cases {
        assert_eq!(decide_flush(&inputs, &policy), expected, "{case}");
    }
}

#[test]
fn reasons_have_metric_labels() {
    let reasons = [
        FlushReason::Linger,
        FlushReason::Interval,
        FlushReason::Size,
        FlushReason::Shutdown,
        FlushReason::Checkpoint,
    ];
    let labels: std::collections::HashSet<&str> = reasons.iter().map(|r| r.as_str()).collect();
    assert_eq!(labels.len(), reasons.len());
}
