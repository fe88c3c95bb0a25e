//! The long_running rule.

use super::*;

fn long_running_snapshot(b: B) -> Snapshot {
    b.add(1, "app", "10.0.0.1", "Query", 120)
        .add(1, "app", "10.0.0.1", "Query", 200)
        .add(1, "report", "10.0.0.2", "Execute", 90)
        .add(1, "app", "10.0.0.1", "Query", 10)
        .add(1, "event_scheduler", "localhost", "Daemon", 99_999)
        .add(1, "repl", "10.0.0.9", "Binlog Dump GTID", 99_999)
        .add(1, "system user", "", "Query", 99_999)
        .with(|s| {
            s.sessions[1].info = Some(
                "SELECT *\nFROM orders\tWHERE created_at < NOW() AND status = 'open' ORDER BY id"
                    .into(),
            );
        })
        .snap()
}

#[test]
fn long_running_mariadb() {
    let f = one(long_running_snapshot(B::new(100)));
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(l.severity, Severity::Warning);
    assert_eq!(
        l.title,
        "Statements running over 1m: 3, longest 3m20s (#101 app)"
    );
    let top = &l.evidence[1];
    assert!(
        top.starts_with("#101 app@10.0.0.1 3m20s Query: SELECT * FROM orders WHERE"),
        "{top}"
    );
    assert!(top.ends_with('…'), "{top}");
    assert_eq!(l.evidence.iter().filter(|e| e.starts_with('#')).count(), 3);
    assert_eq!(keys(l), ["L"]);
    assert_eq!(
        sqls(l),
        ["KILL QUERY 101;", "SET GLOBAL max_statement_time = 60;"]
    );
}

#[test]
fn long_running_mysql_statement_timeout_is_in_ms_and_select_only() {
    let f = one(long_running_snapshot(B::new(100).mysql()));
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(
        sqls(l),
        ["KILL QUERY 101;", "SET GLOBAL max_execution_time = 60000;"]
    );
    let step = l
        .fix
        .iter()
        .find(|s| s.sql.as_deref() == Some("SET GLOBAL max_execution_time = 60000;"))
        .expect("step");
    assert!(step.text.contains("SELECT"), "{}", step.text);
    assert!(step.text.contains("milliseconds"), "{}", step.text);
    assert_eq!(config(l), ["max_execution_time = 60000"]);
}

#[test]
fn long_running_says_how_many_it_does_not_list() {
    let f = one(B::new(100).add(7, "app", "10.0.0.1", "Query", 120).snap());
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(l.evidence.iter().filter(|e| e.starts_with('#')).count(), 3);
    assert_eq!(l.evidence[4], "… 4 more");
    // Exactly three: nothing more to say.
    let f = one(long_running_snapshot(B::new(100)));
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert!(
        !l.evidence.iter().any(|e| e.starts_with('…')),
        "{:#?}",
        l.evidence
    );
}

#[test]
fn no_long_running_for_short_or_system_threads() {
    let f = one(B::new(100)
        .add(5, "app", "10.0.0.1", "Query", 59)
        .add(1, "event_scheduler", "localhost", "Daemon", 99_999)
        .add(1, "repl", "10.0.0.9", "Binlog Dump", 99_999)
        .add(1, "system user", "", "Slave_SQL", 99_999)
        .snap());
    assert!(get(&f, FindingKind::LongRunning).is_none(), "{f:#?}");
}

#[test]
fn idle_transactions_are_evidence() {
    let f = one(B::new(100)
        .add(2, "app", "10.0.0.1", "Sleep", 5)
        .with(|s| {
            s.sessions[0].trx_age_ms = Some(240_000);
            s.sessions[1].trx_age_ms = Some(30_000);
        })
        .snap());
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(
        l.title,
        "Transactions open over 1m in idle sessions: 1 (oldest 4m)"
    );
    assert!(l.evidence[0].contains("transaction open for at least 1m: 1"));
    assert_eq!(keys(l), ["k"]);
    assert_eq!(
        sqls(l),
        [
            "KILL CONNECTION 100;",
            "SET GLOBAL idle_transaction_timeout = 60;"
        ]
    );
    assert_eq!(config(l), ["idle_transaction_timeout = 60"]);
    assert!(
        l.evidence[0].ends_with("; it keeps its locks"),
        "{}",
        l.evidence[0]
    );
}

#[test]
fn long_running_critical_at_quarter_of_max() {
    let f = one(B::new(100).add(25, "app", "10.0.0.1", "Query", 61).snap());
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(l.severity, Severity::Critical);
}

/// Only statements count: a login that hangs, a session being killed and a
/// replica's binlog stream are no statements to stop.
#[test]
fn only_running_statements_are_long_running() {
    let f = one(B::new(100)
        .add(1, "unauthenticated user", "10.0.0.5", "Connect", 120)
        .add(1, "app", "10.0.0.5", "Killed", 120)
        .add(1, "repl", "10.0.0.6", "Binlog Dump", 9000)
        .add(1, "event_scheduler", "localhost", "Daemon", 9000)
        .snap());
    assert!(get(&f, FindingKind::LongRunning).is_none(), "{f:#?}");
}
