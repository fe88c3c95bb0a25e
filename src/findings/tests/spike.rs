//! The spike rule.

use super::*;

/// `n` samples at `base` conn/s; the last 5 at `burst` conn/s.
fn conn_series(n: usize, base: u64, burst: u64) -> Vec<Finding> {
    diagnose_series(n, |i| {
        let i = i as u64;
        let calm = (n as u64 - 5).min(i);
        let hot = i.saturating_sub(n as u64 - 5);
        let mut b = B::new(1000).add(20, "app", "10.0.0.5", "Sleep", 1);
        if hot >= 3 {
            b = b.add(15, "app", "10.0.0.66", "Sleep", 1);
        }
        b.with(|s| s.status.connections = 1000 + base * calm + burst * hot)
            .snap()
    })
}

/// Polls `at(t)` every `every_ms` for `secs` seconds; the spike findings
/// at each poll, with the poll's time in seconds.
fn watch(secs: u64, every_ms: u64, at: impl Fn(f64) -> Snapshot) -> Vec<(f64, Option<Finding>)> {
    let mut history = History::default();
    let mut out = Vec::new();
    for i in 0..=secs * 1000 / every_ms {
        let t = (i * every_ms) as f64 / 1000.0;
        let mut s = at(t);
        s.taken_at = UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_millis(i * every_ms);
        s.status.uptime_s = UPTIME + i * every_ms / 1000;
        history.push(Sample::from_snapshot(&s));
        let f = run(&s, &history, &Thresholds::default());
        out.push((t, get(&f, FindingKind::Spike).cloned()));
    }
    out
}

/// The demo's `spike` scenario on a 100-connection server: every 30 s from
/// 20 s on, 15 connections open at once and stay 1.5 s, with 3 failed logins.
fn demo_spike(t: f64) -> Snapshot {
    let bursts = [20.0, 51.5];
    let started = bursts.iter().filter(|b| t >= **b).count() as u64;
    let holding = bursts.iter().any(|b| t >= *b && t < b + 1.5);
    let mut b = B::new(100).add(1, "monitor", "localhost", "Query", 0);
    if holding {
        b = b.add(15, "batch", "127.0.0.9", "Sleep", 0);
    }
    b.with(|s| {
        s.status.connections = 100 + 18 * started;
        s.status.aborted_connects = 3 * started;
    })
    .snap()
}

/// When the spike finding shows, in seconds.
fn shown(polls: &[(f64, Option<Finding>)]) -> Vec<f64> {
    polls
        .iter()
        .filter(|(_, f)| f.is_some())
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn the_demo_spike_is_seen_at_any_poll_interval() {
    for every_ms in [250, 1000, 2000] {
        let polls = watch(60, every_ms, demo_spike);
        let times = shown(&polls);
        for burst in [20.0, 51.5] {
            assert!(
                times.iter().any(|t| *t >= burst && *t < burst + 2.5),
                "burst at {burst}s not seen at {every_ms} ms: {times:?}"
            );
        }
        // Shown for the recent window after a burst, never between.
        assert!(
            times
                .iter()
                .all(|t| (20.0..27.0).contains(t) || (51.5..58.5).contains(t)),
            "{every_ms} ms: {times:?}"
        );
        let first = polls.iter().find_map(|(_, f)| f.clone()).expect("a spike");
        assert_eq!(first.severity, Severity::Warning);
        assert!(
            first
                .title
                .starts_with("Connection spike: 16 connected, +15 in "),
            "{}",
            first.title
        );
        assert!(
            first
                .evidence
                .iter()
                .any(|e| e.starts_with("Fastest growing host: 127.0.0.9 (+15 sessions")),
            "{:#?}",
            first.evidence
        );
    }
}

#[test]
fn the_demo_all_spike_against_a_full_server_is_critical() {
    // 92 held; the burst fills the last 8 slots, the rest is refused at the
    // SUPER-only slot (counted as aborted on MariaDB).
    let polls = watch(40, 1000, |t| {
        let burst = (20.0..21.5).contains(&t);
        let after = t >= 20.0;
        let mut b = B::new(100).add(92, "app", "127.0.0.10", "Sleep", 60);
        if burst {
            b = b.add(8, "batch", "127.0.0.9", "Sleep", 0);
        }
        b.with(|s| {
            s.status.connections = 1000 + if after { 18 } else { 0 };
            s.status.aborted_connects = 10 + if after { 10 } else { 0 };
        })
        .snap()
    });
    let spike = polls.iter().find_map(|(_, f)| f.clone()).expect("a spike");
    assert_eq!(spike.severity, Severity::Critical);
    assert!(
        spike
            .title
            .starts_with("Connection spike: 18 new connections in "),
        "{}",
        spike.title
    );
}

#[test]
fn a_steady_ramp_is_no_spike() {
    // A leak opening 2 connections a second for a minute.
    let polls = watch(60, 250, |t| {
        let n = (2.0 * t) as usize;
        B::new(200)
            .add(n, "app", "127.0.0.10", "Sleep", 1)
            .with(|s| s.status.connections = 100 + n as u64)
            .snap()
    });
    assert!(shown(&polls).is_empty(), "{:?}", shown(&polls));
}

#[test]
fn connection_rate_spike() {
    let f = conn_series(30, 2, 100);
    let s = get(&f, FindingKind::Spike).expect("spike");
    assert_eq!(s.severity, Severity::Warning);
    assert_eq!(
        s.title,
        "Connection spike: 402 new connections in 5s (80/s, baseline 2.0/s)"
    );
    assert!(
        s.evidence
            .iter()
            .any(|e| e == "Fastest growing host: 10.0.0.66 (+15 sessions in the last 5s)"),
        "{:#?}",
        s.evidence
    );
    assert!(sqls(s)[0].contains("host LIKE '10.0.0.66:%'"));
    assert!(sqls(s).contains(&"SHOW GLOBAL STATUS LIKE 'Aborted_connects';"));
}

#[test]
fn no_spike_without_baseline_or_when_steady() {
    // 10 s of baseline before the last 5 s are needed.
    assert!(get(&conn_series(15, 2, 100), FindingKind::Spike).is_none());
    assert!(get(&conn_series(16, 2, 100), FindingKind::Spike).is_some());
    assert!(get(&conn_series(60, 50, 50), FindingKind::Spike).is_none());
    // 3x but under the absolute floor.
    assert!(get(&conn_series(30, 1, 10), FindingKind::Spike).is_none());
}

#[test]
fn threads_and_aborted_spikes() {
    let f = diagnose_series(30, |i| {
        let n = if i >= 27 { 80 } else { 20 };
        B::new(1000).add(n, "app", "10.0.0.5", "Sleep", 1).snap()
    });
    let s = get(&f, FindingKind::Spike).expect("spike");
    assert_eq!(
        s.title,
        "Connection spike: 80 connected, +60 in 5s (baseline 20)"
    );

    let aborted = |rate: u64| {
        diagnose_series(30, move |i| {
            let i = i as u64;
            let hot = i.saturating_sub(24);
            B::new(1000)
                .add(20, "app", "10.0.0.5", "Sleep", 1)
                .with(|s| s.status.aborted_connects = rate * (i - hot) + 10 * hot)
                .snap()
        })
    };
    let f = aborted(0);
    let s = get(&f, FindingKind::Spike).expect("spike");
    assert_eq!(
        s.title,
        "Failed connects spike: 50 aborted or refused in 5s (baseline 0.0/s)"
    );
    assert_eq!(s.severity, Severity::Warning);
    // A steady stream (health checks) is no spike.
    assert!(get(&aborted(10), FindingKind::Spike).is_none());
}

#[test]
fn refusals_make_a_spike_critical() {
    let f = diagnose_series(30, |i| {
        let hot = (i as u64).saturating_sub(24);
        B::new(100)
            .add(50, "app", "10.0.0.5", "Sleep", 1)
            .with(|s| s.status.connection_errors_max_connections = 2 * hot)
            .snap()
    });
    let s = get(&f, FindingKind::Spike).expect("spike");
    assert_eq!(s.severity, Severity::Critical);
    assert!(
        s.evidence
            .iter()
            .any(|e| e.contains("10 of them refused with 1040")),
        "{:#?}",
        s.evidence
    );
}

#[test]
fn spike_critical_when_full() {
    let f = diagnose_series(30, |i| {
        let n = if i >= 27 { 96 } else { 20 };
        B::new(100).add(n, "app", "10.0.0.5", "Sleep", 1).snap()
    });
    assert_eq!(
        get(&f, FindingKind::Spike).map(|s| s.severity),
        Some(Severity::Critical)
    );
}
