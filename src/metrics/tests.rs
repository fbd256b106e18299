use super::*;

#[test]
fn names_follow_prometheus_conventions() {
    let mut seen = std::collections::BTreeSet::new();
    for metric in ALL {
        assert!(metric.name.starts_with("sheetsync_"), "{}", metric.name);
        assert!(seen.insert(metric.name), "{} listed twice", metric.name);
        assert_eq!(
            metric.kind == Kind::Counter,
            metric.name.ends_with("_total"),
            "{}: counters and only counters end in _total",
            metric.name
        );
        assert!(!metric.help.is_empty());
        for forbidden in ["_ms", "_milliseconds", "_minutes"] {
            assert!(
                !metric.name.contains(forbidden),
                "{}: base units",
                metric.name
            );
        }
    }
}

#[test]
fn sheets_status_labels_are_a_closed_set() {
    assert_eq!(sheets_status_label(Some(429)), "429");
    assert_eq!(sheets_status_label(Some(418)), "other_4xx");
    assert_eq!(sheets_status_label(Some(599)), "other_5xx");
    assert_eq!(sheets_status_label(Some(302)), "other");
    assert_eq!(sheets_status_label(None), "transport");
    let labels: std::collections::BTreeSet<_> = (0..=1000)
        .map(|code| sheets_status_label(Some(code)))
        .collect();
    assert!(labels.len() <= 16, "{labels:?}");
}

#[test]
fn the_recorder_renders_every_metric_with_its_help() {
    let handle = install().expect("install");
    assert!(
        install().is_ok(),
        "a second install returns the same handle"
    );
    record_sheets_request(Some(429), true);
    metrics::gauge!(REPLICATION_LAG_SECONDS, "mapping" => "orders").set(1.5);
    metrics::histogram!(CELLS_PER_FLUSH).record(12.0);
    metrics::counter!(WEBHOOK_REQUESTS_TOTAL, "outcome" => "applied").increment(1);
    metrics::counter!(CONFLICTS_TOTAL, "policy" => "db-wins").increment(1);
    metrics::counter!(DEFINITE_ERRORS_TOTAL, "kind" => "sheets").increment(1);
    metrics::gauge!(QUOTA_TOKENS_AVAILABLE, "kind" => "write").set(59.0);
    metrics::gauge!(CHECKPOINT_POSITION_AGE_SECONDS).set(2.0);
    set_retention_headroom(3600.0);
    record_row_change(RowOperation::Update);
    let text = handle.render();
    for metric in ALL {
        assert!(
            text.contains(&format!("# HELP {} ", metric.name)),
            "{} has no HELP line in:\n{text}",
            metric.name
        );
    }
    assert!(text.contains("sheetsync_sheets_requests_total{status=\"429\"} 1"));
    assert!(text.contains("sheetsync_cells_per_flush_bucket{le=\"50\"} 1"));
    assert!(text.contains("sheetsync_row_changes_total{op=\"insert\"} 0"));
}
