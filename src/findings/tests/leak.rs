//! The leak rule.

use super::*;

#[test]
fn leak_of_one_account_on_one_host() {
    let f = one(B::new(200)
        .add(30, "app", "10.0.0.7", "Sleep", 400)
        .add(5, "app", "10.0.0.7", "Query", 1)
        .add(10, "web", "10.0.0.9", "Sleep", 2)
        .snap());
    let leaks = of(&f, FindingKind::Leak);
    assert_eq!(leaks.len(), 1, "{f:#?}");
    let leak = leaks[0];
    assert_eq!(leak.severity, Severity::Warning);
    assert_eq!(
        leak.title,
        "30 sessions of app@10.0.0.7 idle over 5m (oldest 6m40s)"
    );
    let ev = leak.evidence.join("\n");
    assert!(ev.contains("67% of the 45 used slots"), "{ev}");
    assert!(ev.contains("Hosts: 10.0.0.7 (30)"), "{ev}");
    assert!(ev.contains("Oldest idle: 6m40s"), "{ev}");
    assert!(leak.fix[0].text.contains("must close connections"));
    assert_eq!(keys(leak), ["I"]);
    assert_eq!(sqls(leak), ["SET GLOBAL wait_timeout = 300;"]);
    assert_eq!(config(leak), ["wait_timeout = 300"]);
    let kill = &leak.fix[1];
    assert_eq!(kill.action, Some(Action::KillIdle));
    assert_eq!(
        kill.text,
        "Kill them now: the preview lists every session idle over 5m, here just these 30"
    );
}

/// The demo's case: 15 leaked sessions from one host, and one idle session
/// of the same account elsewhere that holds a transaction open. Title,
/// evidence and fix count the same 15; the fix says the preview holds 16.
#[test]
fn idle_transaction_is_no_leak_and_counts_agree_with_the_preview() {
    let snap = B::new(100)
        .add(15, "app", "127.0.0.10", "Sleep", 40)
        .add(1, "app", "127.0.0.8", "Sleep", 45)
        .add(4, "app", "127.0.0.8", "Query", 1)
        .with(|s| s.sessions[15].trx_age_ms = Some(45_000))
        .snap();
    let t = Thresholds {
        idle_over: Duration::from_secs(30),
        ..Thresholds::default()
    };
    let (snap, history) = series(vec![snap]);
    let f = run(&snap, &history, &t);
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert_eq!(
        leak.title,
        "15 sessions of app@127.0.0.10 idle over 30s (oldest 40s)"
    );
    assert!(
        leak.evidence
            .contains(&"Hosts: 127.0.0.10 (15)".to_string()),
        "{:#?}",
        leak.evidence
    );
    let ev = leak.evidence.join("\n");
    assert!(
        ev.contains("1 idle in an open transaction (stuck, not leaked: it holds locks)"),
        "{ev}"
    );
    assert!(
        ev.contains(
            "the account also has 4 active sessions, 0 idle under 30s and 1 idle in an open \
             transaction (stuck, not leaked: it holds locks)"
        ),
        "{ev}"
    );
    assert_eq!(
        leak.fix[1].text,
        "Kill them now: the preview lists every session idle over 30s, 16 here: these 15 and \
         1 other; 1 in an open transaction, which killing rolls back"
    );
    // The preview itself: every session idle over the threshold.
    let preview = crate::kill::idle_targets(
        &snap.sessions,
        t.idle_over,
        &crate::kill::Safety::default(),
        &crate::kill::Selection::default(),
    );
    assert_eq!(preview.len(), 16);
    // Idle in a transaction long enough: long_running names it.
    let t = Thresholds {
        query_over: Duration::from_secs(20),
        ..t
    };
    let f = run(&snap, &history, &t);
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert!(
        l.title
            .starts_with("Transactions open over 20s in idle sessions: 1"),
        "{}",
        l.title
    );
}

#[test]
fn without_process_privilege_the_leak_says_own_sessions_only() {
    let f = one(B::new(100)
        .add(12, "app", "10.0.0.7", "Sleep", 400)
        .with(|s| s.privileges.process = false)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(
        leak.evidence[0].starts_with("Own sessions only: without the PROCESS privilege"),
        "{:#?}",
        leak.evidence
    );
    let f = one(B::new(100).add(12, "app", "10.0.0.7", "Sleep", 400).snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(!leak.evidence.join(" ").contains("Own sessions only"));
}

#[test]
fn leak_spread_over_hosts_names_the_user() {
    let f = one(B::new(500)
        .add(12, "app", "10.0.0.1", "Sleep", 900)
        .add(12, "app", "10.0.0.2", "Sleep", 900)
        .add(11, "app", "10.0.0.3", "Sleep", 900)
        .add(2, "app", "10.0.0.4", "Sleep", 900)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(
        leak.title.starts_with("37 sessions of app idle"),
        "{}",
        leak.title
    );
    assert!(
        leak.evidence
            .contains(&"Hosts: 10.0.0.1 (12), 10.0.0.2 (12), 10.0.0.3 (11), and 1 more".into()),
        "{:#?}",
        leak.evidence
    );
}

#[test]
fn leak_by_share_of_used_slots() {
    // 4 of 10 used slots: under the count bar, over the share bar.
    let f = one(B::new(100)
        .add(4, "cron", "10.0.0.3", "Sleep", 3600)
        .add(6, "app", "10.0.0.4", "Query", 1)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(leak.title.contains("cron@10.0.0.3"));
    // Two of four is too few to call a leak.
    let f = one(B::new(100)
        .add(2, "cron", "10.0.0.3", "Sleep", 3600)
        .add(2, "app", "10.0.0.4", "Query", 1)
        .snap());
    assert!(get(&f, FindingKind::Leak).is_none());
}

#[test]
fn busy_user_is_not_a_leak() {
    // Mostly active, a few long-idle connections on the side.
    let f = one(B::new(200)
        .add(40, "app", "10.0.0.7", "Query", 2)
        .add(15, "app", "10.0.0.7", "Sleep", 400)
        .snap());
    assert!(get(&f, FindingKind::Leak).is_none(), "{f:#?}");
    // Many sleeping, but all below the idle threshold.
    let f = one(B::new(200).add(50, "app", "10.0.0.7", "Sleep", 299).snap());
    assert!(get(&f, FindingKind::Leak).is_none(), "{f:#?}");
    // Server threads are never a leak.
    let f = one(B::new(200).add(20, "system user", "", "Sleep", 9999).snap());
    assert!(get(&f, FindingKind::Leak).is_none(), "{f:#?}");
}

#[test]
fn leak_critical_at_half_of_max_and_biggest_first() {
    let f = one(B::new(100)
        .add(12, "batch", "10.0.0.2", "Sleep", 400)
        .add(50, "app", "10.0.0.1", "Sleep", 400)
        .snap());
    let leaks = of(&f, FindingKind::Leak);
    assert_eq!(leaks.len(), 2);
    assert!(leaks[0].title.contains("app@"));
    assert_eq!(leaks[0].severity, Severity::Critical);
    assert!(leaks[1].title.contains("batch@"));
    assert_eq!(leaks[1].severity, Severity::Warning);
}

#[test]
fn leak_with_low_wait_timeout_points_at_the_client() {
    let f = one(B::new(100)
        .add(20, "app", "10.0.0.1", "Sleep", 400)
        .with(|s| s.variables.wait_timeout = 120)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(sqls(leak).is_empty());
    assert!(
        leak.fix
            .iter()
            .any(|s| s.text.contains("SET SESSION wait_timeout"))
    );
}

#[test]
fn a_leak_from_several_hosts_names_the_account_and_counts_all_of_them() {
    let f = one(B::new(100)
        .add(15, "app", "127.0.0.10", "Sleep", 400)
        .add(1, "app", "127.0.0.8", "Sleep", 400)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert_eq!(leak.title, "16 sessions of app idle over 5m (oldest 6m40s)");
    assert!(
        leak.evidence[0].contains(
            "16 sessions of app in Sleep for at least 5m outside a transaction, from 2 hosts"
        ),
        "{}",
        leak.evidence[0]
    );
    assert_eq!(leak.evidence[2], "Hosts: 127.0.0.10 (15), 127.0.0.8 (1)");
}

#[test]
fn a_low_wait_timeout_blames_the_client_only_when_sessions_outlive_it() {
    // wait_timeout under the advice, sessions idle longer: the client raised it.
    let f = one(B::new(100)
        .add(20, "app", "10.0.0.1", "Sleep", 400)
        .with(|s| s.variables.wait_timeout = 200)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(leak.fix.iter().any(|s| s.text.contains("SET SESSION")));
    let f = one(B::new(100)
        .add(20, "app", "10.0.0.1", "Sleep", 400)
        .with(|s| s.variables.wait_timeout = 300)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(leak.fix.iter().any(|s| s.text.contains("SET SESSION")));
    // The sessions idled 250 s of a 280 s wait_timeout: it closes them soon.
    let t = Thresholds {
        idle_over: Duration::from_secs(200),
        ..Thresholds::default()
    };
    let (snap, history) = series(vec![
        B::new(100)
            .add(20, "app", "10.0.0.1", "Sleep", 250)
            .with(|s| s.variables.wait_timeout = 280)
            .snap(),
    ]);
    let f = run(&snap, &history, &t);
    let leak = get(&f, FindingKind::Leak).expect("leak");
    assert!(
        !leak.fix.iter().any(|s| s.text.contains("SET SESSION")),
        "{:#?}",
        leak.fix
    );
    assert!(sqls(leak).is_empty());
}

/// The used slots are the gauge's: `Threads_connected`, with conntop's own
/// connection, without the event scheduler (which holds no slot).
#[test]
fn used_slots_are_what_the_gauge_shows() {
    let f = one(B::new(100)
        .add(20, "app", "10.0.0.7", "Sleep", 400)
        .add(1, "event_scheduler", "localhost", "Daemon", 9000)
        .with(|s| s.status.threads_connected = 21)
        .snap());
    let leak = get(&f, FindingKind::Leak).expect("leak");
    let ev = leak.evidence.join("\n");
    assert!(ev.contains("95% of the 21 used slots"), "{ev}");
}
