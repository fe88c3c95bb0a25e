use std::time::{Duration, SystemTime};

use super::*;
use crate::snapshot::{ServerInfo, Status, Variables};

/// A snapshot `secs` after the epoch with `connected` of 100, `rejected`
/// refusals and `uptime` seconds up.
fn snap(secs: u64, connected: u64, rejected: u64, uptime: u64) -> Snapshot {
    Snapshot {
        seq: secs,
        taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        server: ServerInfo::from_version("10.11.6-MariaDB"),
        variables: Variables {
            max_connections: 100,
            ..Variables::default()
        },
        status: Status {
            threads_connected: connected,
            connection_errors_max_connections: rejected,
            uptime_s: uptime,
            ..Status::default()
        },
        sessions: Vec::new(),
        own_id: 1,
        privileges: Default::default(),
        poll_latency: Duration::ZERO,
        statements: 2,
        endpoint: "db1:3306".to_string(),
    }
}

fn kinds(events: &[AlertEvent]) -> Vec<AlertKind> {
    events.iter().map(|e| e.kind).collect()
}

fn critical(kind: FindingKind, subject: &str) -> Finding {
    Finding::new_for_test(kind, Severity::Critical, &format!("{subject} bad"), subject)
}

#[test]
fn usage_alerts_once_per_upward_crossing() {
    let mut a = Alerts::new(0.8).every(Duration::ZERO);
    assert!(a.observe(&snap(1, 50, 0, 1), &[]).is_empty());
    let e = a.observe(&snap(2, 85, 0, 2), &[]);
    assert_eq!(kinds(&e), [AlertKind::Usage]);
    assert_eq!(e[0].connected, 85);
    assert_eq!(e[0].max, 100);
    assert!((e[0].usage_pct - 85.0).abs() < 1e-9);
    assert_eq!(e[0].server, "db1:3306");
    assert!(
        e[0].message.contains("85.0% of max_connections (85/100)"),
        "{}",
        e[0].message
    );
    // Staying over is the same crossing.
    assert!(a.observe(&snap(3, 90, 0, 3), &[]).is_empty());
    // Reaching the threshold exactly is over it.
    assert!(a.observe(&snap(4, 79, 0, 4), &[]).is_empty());
    assert_eq!(
        kinds(&a.observe(&snap(5, 80, 0, 5), &[])),
        [AlertKind::Usage]
    );
}

#[test]
fn the_first_snapshot_counts_when_already_over() {
    let mut a = Alerts::new(0.8);
    assert_eq!(
        kinds(&a.observe(&snap(1, 95, 0, 1), &[])),
        [AlertKind::Usage]
    );
    // max_connections unknown: no opinion, no change.
    let mut unknown = snap(2, 95, 0, 2);
    unknown.variables.max_connections = 0;
    let mut b = Alerts::new(0.8);
    assert!(b.observe(&unknown, &[]).is_empty());
}

#[test]
fn each_kind_at_most_once_per_minute() {
    let mut a = Alerts::new(0.8);
    assert_eq!(
        kinds(&a.observe(&snap(0, 85, 0, 1), &[])),
        [AlertKind::Usage]
    );
    a.observe(&snap(10, 50, 0, 11), &[]);
    // Crossed again 20 s after the first: dropped, not queued.
    assert!(a.observe(&snap(20, 85, 0, 21), &[]).is_empty());
    assert!(a.observe(&snap(70, 85, 0, 71), &[]).is_empty());
    a.observe(&snap(80, 50, 0, 81), &[]);
    // A minute after the last alert: fires.
    assert_eq!(
        kinds(&a.observe(&snap(90, 85, 0, 91), &[])),
        [AlertKind::Usage]
    );
    // Other kinds have their own limit.
    assert_eq!(
        kinds(&a.observe(&snap(91, 85, 3, 92), &[])),
        [AlertKind::Refused]
    );
    // A clock that went back does not silence alerts for good.
    a.observe(&snap(92, 50, 3, 93), &[]);
    assert_eq!(
        kinds(&a.observe(&snap(5, 85, 3, 94), &[])),
        [AlertKind::Usage]
    );
}

#[test]
fn refusals_alert_when_the_count_rises() {
    let mut a = Alerts::new(0.8).every(Duration::ZERO);
    // The first look only sets the baseline.
    assert!(a.observe(&snap(1, 10, 5, 100), &[]).is_empty());
    assert!(a.observe(&snap(2, 10, 5, 101), &[]).is_empty());
    let e = a.observe(&snap(3, 10, 9, 102), &[]);
    assert_eq!(kinds(&e), [AlertKind::Refused]);
    assert_eq!(e[0].rejected, 9);
    assert!(
        e[0].message
            .starts_with("4 clients refused with ERROR 1040"),
        "{}",
        e[0].message
    );
    // A restart (uptime went back) re-bases without an alert.
    assert!(a.observe(&snap(4, 10, 2, 1), &[]).is_empty());
    assert_eq!(
        kinds(&a.observe(&snap(5, 10, 3, 2), &[])),
        [AlertKind::Refused]
    );
}

#[test]
fn a_critical_finding_alerts_when_it_starts() {
    let mut a = Alerts::new(0.8).every(Duration::ZERO);
    let leak_app = critical(FindingKind::Leak, "app");
    let warn = Finding::new_for_test(FindingKind::Pool, Severity::Warning, "pools", "");
    assert!(
        a.observe(&snap(1, 10, 0, 1), std::slice::from_ref(&warn))
            .is_empty()
    );
    let e = a.observe(&snap(2, 10, 0, 2), &[leak_app.clone(), warn.clone()]);
    assert_eq!(kinds(&e), [AlertKind::Critical]);
    assert_eq!(e[0].message, "critical leak: app bad");
    let json: serde_json::Value = serde_json::from_str(&e[0].findings_json).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(json[0]["kind"], "leak");
    assert_eq!(json[0]["severity"], "critical");
    // Still critical: nothing new. Another account's leak: new.
    assert!(
        a.observe(&snap(3, 10, 0, 3), std::slice::from_ref(&leak_app))
            .is_empty()
    );
    let leak_web = critical(FindingKind::Leak, "web");
    let e = a.observe(&snap(4, 10, 0, 4), &[leak_app.clone(), leak_web]);
    assert_eq!(e[0].message, "critical leak: web bad");
    // Gone and back: starts again.
    a.observe(&snap(5, 10, 0, 5), &[]);
    assert_eq!(
        kinds(&a.observe(&snap(6, 10, 0, 6), &[leak_app])),
        [AlertKind::Critical]
    );
}

#[test]
fn the_environment_names_the_facts() {
    let mut a = Alerts::new(0.5);
    let e = a.observe(&snap(1, 62, 0, 1), &[]).remove(0);
    let env: std::collections::HashMap<&str, String> = e.env().into_iter().collect();
    assert_eq!(env["CONNTOP_ALERT"], "usage");
    assert_eq!(env["CONNTOP_SERVER"], "db1:3306");
    assert_eq!(env["CONNTOP_USAGE_PCT"], "62.0");
    assert_eq!(env["CONNTOP_CONNECTED"], "62");
    assert_eq!(env["CONNTOP_MAX"], "100");
    assert_eq!(env["CONNTOP_REJECTED"], "0");
    assert_eq!(env["CONNTOP_FINDINGS"], "[]");
    assert!(env["CONNTOP_MESSAGE"].contains("alert at 50.0%"));
}

#[test]
fn huge_findings_are_cut_to_fit_the_environment() {
    let mut big = Finding::new_for_test(FindingKind::Leak, Severity::Critical, "t", "app");
    big.evidence = vec!["x".repeat(1000); 100];
    let json = findings_json(&[big]);
    assert!(json.len() <= MAX_FINDINGS_ENV);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["kind"], "leak");
    assert_eq!(v[0]["title"], "t");
    assert!(v[0].get("evidence").is_none());
}
