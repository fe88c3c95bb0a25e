//! The timeouts rule.

use super::*;

#[test]
fn lax_timeouts_mariadb() {
    let f = one(lax(B::new(100)).snap());
    assert_eq!(f.len(), 1, "{f:#?}");
    let t = &f[0];
    assert_eq!(t.kind, FindingKind::Timeouts);
    assert_eq!(t.severity, Severity::Info);
    assert_eq!(
        t.title,
        "Lax timeouts: wait 8h, interactive 8h, no statement limit, slow log off"
    );
    assert_eq!(t.evidence.len(), 4);
    assert_eq!(
        sqls(t),
        [
            "SET GLOBAL wait_timeout = 300;",
            "SET GLOBAL interactive_timeout = 600;",
            "SET GLOBAL max_statement_time = 60;",
            "SET GLOBAL slow_query_log = ON;",
        ]
    );
    // my.cnf lines are not SQL: their own field, one [mysqld] block.
    assert_eq!(
        t.fix.last().and_then(|s| s.config.as_deref()),
        Some(
            "[mysqld]\nwait_timeout = 300\ninteractive_timeout = 600\nmax_statement_time = 60\n\
             slow_query_log = ON"
        )
    );
    assert!(
        t.fix.iter().any(|s| s
            .text
            .starts_with("What it does to pools: one that does not validate")),
        "{:#?}",
        t.fix
    );
}

#[test]
fn lax_timeouts_mysql_and_with_leak() {
    let f = one(lax(B::new(100).mysql())
        .add(20, "app", "10.0.0.1", "Sleep", 4000)
        .snap());
    let t = get(&f, FindingKind::Timeouts).expect("timeouts");
    assert_eq!(t.severity, Severity::Warning);
    let sql = sqls(t);
    assert!(sql.contains(&"SET GLOBAL wait_timeout = 300;"), "{sql:?}");
    assert!(
        sql.contains(&"SET GLOBAL max_execution_time = 60000;"),
        "{sql:?}"
    );
    assert!(config(t).contains(&"max_execution_time = 60000"));
    // The leak finding gives the same advice.
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(sqls(leak).contains(&"SET GLOBAL wait_timeout = 300;"));
}

/// The demo's thresholds (idle over 30 s) once advised wait_timeout = 60 and
/// interactive_timeout = 60: every pool idling longer and every DBA's
/// mysql shell would be cut. The advice stays at 300-600 s.
#[test]
fn short_thresholds_do_not_make_short_timeouts() {
    let t = Thresholds {
        idle_over: Duration::from_secs(30),
        query_over: Duration::from_secs(20),
        ..Thresholds::default()
    };
    let (snap, history) = series(vec![
        lax(B::new(100))
            .add(40, "app", "127.0.0.10", "Sleep", 45)
            .snap(),
    ]);
    let f = run(&snap, &history, &t);
    let timeouts = get(&f, FindingKind::Timeouts).expect("timeouts");
    let sql = sqls(timeouts);
    assert!(sql.contains(&"SET GLOBAL wait_timeout = 300;"), "{sql:?}");
    assert!(
        sql.contains(&"SET GLOBAL interactive_timeout = 600;"),
        "{sql:?}"
    );
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(sqls(leak).contains(&"SET GLOBAL wait_timeout = 300;"));
}

/// Pools that idle longer than the usual advice get a wait_timeout above
/// their idle time, never under it.
#[test]
fn the_advice_never_cuts_the_pools_seen() {
    let f = one(lax(B::new(100))
        .add(8, "reports", "10.0.1.1", "Sleep", 700)
        .add(12, "reports", "10.0.1.1", "Query", 1)
        // A lone session idle for hours is someone's shell, not a pool.
        .add(1, "dba", "10.0.9.9", "Sleep", 20_000)
        .snap());
    let t = get(&f, FindingKind::Timeouts).expect("timeouts");
    let sql = sqls(t);
    // 700 s + 20 %, to the minute.
    assert!(sql.contains(&"SET GLOBAL wait_timeout = 840;"), "{sql:?}");
    assert!(
        sql.contains(&"SET GLOBAL interactive_timeout = 840;"),
        "{sql:?}"
    );
    assert!(
        t.fix
            .iter()
            .any(|s| s.text.contains("the pools here idle up to 11m40s")),
        "{:#?}",
        t.fix
    );
    // A wait_timeout that already leaves the pools room is not lax.
    let f = one(B::new(100)
        .add(8, "reports", "10.0.1.1", "Sleep", 700)
        .add(12, "reports", "10.0.1.1", "Query", 1)
        .with(|s| s.variables.wait_timeout = 800)
        .snap());
    assert!(get(&f, FindingKind::Timeouts).is_none(), "{f:#?}");
}

#[test]
fn sane_timeouts_are_quiet() {
    let f = one(B::new(100)
        .with(|s| s.variables.statement_timeout_ms = None)
        .snap());
    assert!(f.is_empty(), "{f:#?}");
}
