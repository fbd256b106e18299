use std::time::{Duration, SystemTime};

use super::*;

fn leader() -> Status {
    let status = Status::new(ReadinessPolicy::default());
    status.add_mapping("orders", "shop.orders", "sheet-1", "Orders");
    status.set_role(Role::Leader);
    status.set_binlog_connected(true);
    status.set_sheets_ready(true);
    status.set_state("orders", MappingState::Streaming);
    status
}

fn conflict(key: &str) -> ConflictRecord {
    ConflictRecord {
        key: key.into(),
        column: "total".into(),
        policy: ConflictPolicy::DbWins,
        winner: Side::Database,
        sheet_value: "10".into(),
        database_value: "12".into(),
        at: SystemTime::now(),
    }
}

#[test]
fn a_healthy_leader_is_ready() {
    let readiness = leader().readiness();
    assert!(readiness.ready, "{readiness:?}");
    assert!(readiness.reasons.is_empty());
}

#[test]
fn every_reason_for_not_ready_is_listed() {
    let status = leader();
    status.set_binlog_connected(false);
    status.set_sheets_ready(false);
    status.set_pending(
        "orders",
        5,
        Some(SystemTime::now() - Duration::from_secs(90)),
    );
    let readiness = status.readiness();
    assert!(!readiness.ready);
    let text = readiness.reasons.join("\n");
    assert!(text.contains("binlog not connected"), "{text}");
    assert!(text.contains("access token"), "{text}");
    assert!(
        text.contains("mapping orders: lag") && text.contains("60 s bound"),
        "{text}"
    );
    assert_eq!(readiness.reasons.len(), 3);
}

#[test]
fn lag_grows_while_changes_wait_and_settles_to_the_flush_lag() {
    let status = leader();
    status.set_lag("orders", 0.25);
    assert_eq!(status.snapshot().mappings[0].lag_seconds, Some(0.25));
    status.set_pending(
        "orders",
        3,
        Some(SystemTime::now() - Duration::from_secs(5)),
    );
    let lag = status.snapshot().mappings[0].lag_seconds.expect("lag");
    assert!((5.0..6.0).contains(&lag), "{lag}");
    status.set_pending("orders", 0, None);
    assert_eq!(status.snapshot().mappings[0].lag_seconds, Some(0.25));
}

#[test]
fn a_stalled_mappings_lag_does_not_make_the_process_unready() {
    let status = leader();
    status.set_state(
        "orders",
        MappingState::Stalled {
            reason: "table dropped".into(),
        },
    );
    status.set_pending(
        "orders",
        1,
        Some(SystemTime::now() - Duration::from_secs(600)),
    );
    assert!(status.readiness().ready);
}

#[test]
fn standby_readiness_follows_the_policy() {
    let status = Status::new(ReadinessPolicy::default());
    status.set_role(Role::Standby);
    let readiness = status.readiness();
    assert!(!readiness.ready);
    assert!(readiness.reasons[0].starts_with("standby"), "{readiness:?}");

    let tolerant = Status::new(ReadinessPolicy {
        standby_ready: true,
        ..ReadinessPolicy::default()
    });
    tolerant.set_role(Role::Standby);
    assert!(tolerant.readiness().ready);
    assert!(
        !Status::new(ReadinessPolicy::default()).readiness().ready,
        "starting"
    );
}

#[test]
fn recent_conflicts_and_errors_are_bounded_newest_first() {
    let status = leader();
    for index in 0..(RECENT_LIMIT + 5) {
        status.record_conflict("orders", conflict(&index.to_string()));
        status.record_error(
            "orders",
            DefiniteErrorKind::Sheets,
            format!("error {index}"),
        );
    }
    let view = &status.snapshot().mappings[0];
    assert_eq!(view.conflicts.len(), RECENT_LIMIT);
    assert_eq!(view.errors.len(), RECENT_LIMIT);
    assert_eq!(view.conflicts[0].key, (RECENT_LIMIT + 4).to_string());
    assert_eq!(
        view.errors[0].message,
        format!("error {}", RECENT_LIMIT + 4)
    );
    assert_eq!(view.conflicts[0].policy, "db-wins");
}

#[test]
fn requests_count_only_the_last_minute() {
    let status = leader();
    let now = SystemTime::now();
    status.record_request("orders", QuotaKind::Write, now - Duration::from_secs(120));
    status.record_request("orders", QuotaKind::Write, now - Duration::from_secs(10));
    status.record_request("orders", QuotaKind::Read, now);
    let counts = status.snapshot().mappings[0].requests_last_minute;
    assert_eq!((counts.read, counts.write), (1, 1));
}

#[test]
fn unknown_mappings_are_added_not_dropped() {
    let status = leader();
    status.record_flush("late", 7, SystemTime::now());
    let snapshot = status.snapshot();
    let late = snapshot
        .mappings
        .iter()
        .find(|mapping| mapping.name == "late")
        .expect("added");
    assert_eq!(late.last_flush.map(|flush| flush.cells), Some(7));
}

#[test]
fn the_snapshot_serialises_to_the_documented_json() {
    let status = leader();
    status.set_quota(QuotaKind::Write, 42, 60);
    status.record_checkpoint("0-1-99", SystemTime::now());
    status.set_state(
        "orders",
        MappingState::Stalled {
            reason: "dropped".into(),
        },
    );
    let json = serde_json::to_value(status.snapshot()).expect("serialise");
    assert_eq!(json["role"], "leader");
    assert_eq!(json["quota"]["write"]["available"], 42);
    assert_eq!(json["checkpoint_position"], "0-1-99");
    assert_eq!(json["mappings"][0]["state"], "stalled");
    assert_eq!(json["mappings"][0]["reason"], "dropped");
    assert_eq!(json["mappings"][0]["sheet"], "Orders");
    assert_eq!(json["ready"]["ready"], true);
}

#[test]
fn the_config_sets_the_bounds_and_lists_the_mappings() {
    let config = Config::from_toml(
        "[mysql]\nurl = \"mysql://u:p@h:1\"\nserver_id = 5\n[sync]\nready_max_lag_seconds = 5\n\
         standby_ready = true\n[[mapping]]\ntable = \"shop.orders\"\nspreadsheet_id = \"s\"\n\
         sheet = \"Orders\"\n",
    )
    .expect("valid");
    let status = Status::for_config(&config);
    status.set_role(Role::Leader);
    status.set_binlog_connected(true);
    status.set_sheets_ready(true);
    status.set_state("orders", MappingState::Streaming);
    status.set_pending(
        "orders",
        1,
        Some(SystemTime::now() - Duration::from_secs(6)),
    );
    let readiness = status.readiness();
    assert!(!readiness.ready, "6 s is over the 5 s bound");
    assert_eq!(status.snapshot().mappings[0].table, "shop.orders");

    let zero = Config::from_toml(
        "[mysql]\nurl = \"mysql://u:p@h:1\"\nserver_id = 5\n[sync]\nready_max_lag_seconds = 0\n",
    )
    .expect_err("zero is refused");
    assert!(
        zero.to_string().contains("sync.ready_max_lag_seconds"),
        "{zero}"
    );
}

#[test]
fn retention_headroom_is_the_expiry_less_the_oldest_unflushed_change() {
    let status = leader();
    assert_eq!(status.snapshot().binlog_retention_headroom_seconds, None);
    status.set_binlog_expiry(Some(Duration::from_secs(3600)));
    status.set_lag("orders", 1.0);
    let caught_up = status
        .snapshot()
        .binlog_retention_headroom_seconds
        .expect("headroom");
    assert!((3598.9..3599.1).contains(&caught_up), "{caught_up}");
    status.set_pending(
        "orders",
        9,
        Some(SystemTime::now() - Duration::from_secs(4000)),
    );
    let behind = status
        .snapshot()
        .binlog_retention_headroom_seconds
        .expect("headroom");
    assert!((-410.0..-399.0).contains(&behind), "already past: {behind}");
}
