//! The pool rule.

use super::*;

fn pools(sizes: &[usize], i: usize, grow: bool) -> Snapshot {
    let mut b = B::new(100);
    for (h, n) in sizes.iter().enumerate() {
        let n = if grow { n / 2 + i } else { *n };
        b = b.add(n, "app", &format!("10.0.1.{h}"), "Sleep", 1);
    }
    b.snap()
}

#[test]
fn steady_similar_pools_fill_the_server() {
    let f = diagnose_series(12, |i| pools(&[20, 20, 19, 21], i, false));
    let p = get(&f, FindingKind::Pool).expect("pool");
    assert_eq!(p.severity, Severity::Warning);
    assert_eq!(
        p.title,
        "4 hosts hold a steady ~20 sessions each: 80 of 100 slots (80%)"
    );
    assert_eq!(
        p.evidence[0],
        "Hosts: 10.0.1.3 (21), 10.0.1.0 (20), 10.0.1.1 (20), 10.0.1.2 (19)"
    );
    assert!(
        p.fix[0].text.contains("at most 20 connections"),
        "{}",
        p.fix[0].text
    );
    assert_eq!(sqls(p), ["SET GLOBAL max_connections = 110;"]);
    assert_eq!(config(p), ["max_connections = 110"]);
}

#[test]
fn no_pool_without_several_similar_steady_hosts() {
    // Too little history.
    let f = diagnose_series(9, |i| pools(&[20, 20, 20, 20], i, false));
    assert!(get(&f, FindingKind::Pool).is_none());
    // Dissimilar hosts.
    let f = diagnose_series(12, |i| pools(&[40, 10, 25], i, false));
    assert!(get(&f, FindingKind::Pool).is_none(), "{f:#?}");
    // Growing, not steady.
    let f = diagnose_series(12, |i| pools(&[40, 40], i, true));
    assert!(get(&f, FindingKind::Pool).is_none(), "{f:#?}");
    // One host.
    let f = diagnose_series(12, |i| pools(&[80], i, false));
    assert!(get(&f, FindingKind::Pool).is_none());
    // Similar and steady but far from the limit.
    let f = diagnose_series(12, |i| pools(&[10, 10, 10], i, false));
    assert!(get(&f, FindingKind::Pool).is_none());
}

/// The demo's case: four pools and a leaking host. The leaking host is no
/// pool, and headroom and pool advise the same max_connections.
#[test]
fn leaking_hosts_are_no_pool_and_the_limit_advice_is_shared() {
    let f = diagnose_series(12, |_| {
        let mut b = B::new(100);
        for h in 2..6 {
            b = b.add(18, "reports", &format!("127.0.0.{h}"), "Sleep", 1);
        }
        b.add(15, "app", "127.0.0.10", "Sleep", 400).snap()
    });
    assert!(get(&f, FindingKind::Leak).is_some(), "{f:#?}");
    let p = get(&f, FindingKind::Pool).expect("pool");
    assert_eq!(
        p.title,
        "4 hosts hold a steady ~18 sessions each: 72 of 100 slots (72%)"
    );
    assert!(!p.evidence[0].contains("127.0.0.10"), "{}", p.evidence[0]);
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    let limit = |f: &Finding| -> Vec<String> {
        sqls(f)
            .into_iter()
            .filter(|s| s.contains("max_connections"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(limit(p), limit(h));
    assert_eq!(limit(h), ["SET GLOBAL max_connections = 110;"]);
}

/// Minimum history and the window are durations: the same 10 s of history
/// at a 250 ms poll interval judge like 10 s at 1 s.
#[test]
fn pool_history_is_measured_in_time() {
    let at = |n: usize, every_ms: u64| {
        let mut history = History::default();
        let mut last = None;
        for i in 0..n {
            let mut s = pools(&[20, 20, 19, 21], i, false);
            s.taken_at =
                UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_millis(every_ms * i as u64);
            history.push(Sample::from_snapshot(&s));
            last = Some(s);
        }
        let snap = last.expect("a snapshot");
        run(&snap, &history, &Thresholds::default())
    };
    assert!(get(&at(41, 250), FindingKind::Pool).is_some());
    assert!(get(&at(40, 250), FindingKind::Pool).is_none());
    assert!(get(&at(11, 1000), FindingKind::Pool).is_some());
    assert!(get(&at(10, 1000), FindingKind::Pool).is_none());
}
