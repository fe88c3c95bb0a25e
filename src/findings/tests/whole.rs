//! All rules together: order, degenerate input, scale.

use super::*;

#[test]
fn sorted_by_severity_then_kind() {
    let f = one(lax(B::new(100))
        .add(40, "app", "10.0.0.1", "Sleep", 400)
        .add(56, "web", "10.0.0.2", "Query", 1)
        .snap());
    let order: Vec<(Severity, FindingKind)> = f.iter().map(|f| (f.severity, f.kind)).collect();
    assert_eq!(
        order,
        [
            (Severity::Critical, FindingKind::Leak),
            (Severity::Critical, FindingKind::Headroom),
            (Severity::Warning, FindingKind::Timeouts),
        ]
    );
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let t = Thresholds::default();
    // Empty everything.
    let empty = B::new(0).snap();
    assert!(diagnose(&empty, &History::default(), &t).is_empty());
    assert!(one(empty.clone()).is_empty());

    // max_connections = 0 with sessions of every kind and rising counters.
    let busy = |i: usize| {
        lax(B::new(0))
            .add(30, "app", "10.0.0.1", "Sleep", 900)
            .add(30, "app", "10.0.0.2", "Query", 900)
            .add(i, "web", "", "Sleep", 1)
            .with(|s| {
                s.sessions[0].trx_age_ms = Some(u64::MAX);
                s.status.connections = 100 * i as u64 * i as u64;
                s.status.aborted_connects = 10 * i as u64 * i as u64;
                s.status.connection_errors_max_connections = i as u64;
            })
            .snap()
    };
    let f = diagnose_series(40, busy);
    assert!(get(&f, FindingKind::Leak).is_some());
    assert!(get(&f, FindingKind::Headroom).is_some());
    assert!(get(&f, FindingKind::Pool).is_none());

    // Extreme values and extreme thresholds.
    let extreme = B::new(u64::MAX)
        .add(3, "app", "10.0.0.1", "Sleep", u64::MAX / 1000)
        .with(|s| {
            let st = &mut s.status;
            st.threads_connected = u64::MAX;
            st.max_used_connections = u64::MAX;
            st.connections = u64::MAX;
            let v = &mut s.variables;
            v.sort_buffer_size = u64::MAX;
            v.wait_timeout = u64::MAX;
            v.interactive_timeout = u64::MAX;
            v.statement_timeout_ms = Some(u64::MAX);
        })
        .snap();
    let (snap, history) = series(vec![extreme.clone(), extreme]);
    for t in [
        Thresholds::default(),
        Thresholds {
            idle_over: Duration::ZERO,
            query_over: Duration::ZERO,
            warn: 0.0,
            crit: 0.0,
        },
        Thresholds {
            idle_over: Duration::MAX,
            query_over: Duration::MAX,
            warn: f64::NAN,
            crit: f64::INFINITY,
        },
    ] {
        // Titles may run long with 20-digit numbers; only no panic matters.
        let _ = diagnose(&snap, &history, &t);
    }

    // Clock going backwards in the history.
    let mut history = History::default();
    for i in 0..30u64 {
        let mut s = busy(i as usize);
        s.variables.max_connections = 100;
        s.taken_at = UNIX_EPOCH + Duration::from_secs(T0 + (i * 7919) % 31);
        history.push(Sample::from_snapshot(&s));
    }
    check(&diagnose(&busy(29), &history, &Thresholds::default()));
}

#[test]
fn long_names_keep_titles_short() {
    let user = "a_very_long_application_account_name_x";
    let host = "app-server-0042.eu-west-1.compute.internal.example.com";
    let f = one(B::new(100)
        .add(40, user, host, "Sleep", 400)
        .add(30, user, host, "Query", 4000)
        .snap());
    assert!(get(&f, FindingKind::Leak).is_some());
    assert!(get(&f, FindingKind::LongRunning).is_some());
    // `one` checks every title's length.
}

#[test]
fn diagnoses_fifty_thousand_sessions_quickly() {
    let snap = B::new(100_000)
        .add(20_000, "app", "10.0.0.1", "Sleep", 900)
        .add(20_000, "web", "10.0.0.2", "Query", 1)
        .add(10_000, "batch", "10.0.0.3", "Query", 120)
        .snap();
    let sample = Sample::from_snapshot(&snap);
    let mut history = History::default();
    for i in 0..600u64 {
        let mut s = sample.clone();
        s.at = UNIX_EPOCH + Duration::from_secs(T0 + i);
        history.push(s);
    }
    let start = std::time::Instant::now();
    let f = run(&snap, &history, &Thresholds::default());
    let elapsed = start.elapsed();
    assert!(get(&f, FindingKind::Leak).is_some());
    assert!(get(&f, FindingKind::LongRunning).is_some());
    // Generous bound for unoptimised builds; catches quadratic work.
    assert!(elapsed.as_millis() < 2_000, "diagnosis took {elapsed:?}");
}

#[test]
fn fix_steps_serialise_their_action_as_its_key_and_config_apart_from_sql() {
    let f = one(lax(B::new(100))
        .add(30, "app", "10.0.0.1", "Sleep", 400)
        .snap());
    let json = serde_json::to_value(&f).expect("json");
    let leak = &json[0];
    assert_eq!(leak["kind"], "leak");
    let steps = leak["fix"].as_array().expect("steps");
    assert_eq!(steps[1]["key"], "I");
    assert!(steps[0].get("key").is_none() && steps[0].get("sql").is_none());
    let last = steps.last().expect("a step");
    assert_eq!(last["config"], "[mysqld]\nwait_timeout = 300");
    assert!(last.get("sql").is_none());
    // No SQL field holds a my.cnf line: every one is a statement.
    for finding in json.as_array().expect("findings") {
        for step in finding["fix"].as_array().expect("steps") {
            if let Some(sql) = step["sql"].as_str() {
                assert!(sql.ends_with(';'), "{sql}");
            }
        }
    }
}

#[test]
fn counts_agree_with_their_nouns() {
    use crate::findings::units::{agree, count};
    assert_eq!(count(1usize, "session", "sessions"), "1 session");
    assert_eq!(count(0u64, "session", "sessions"), "0 sessions");
    assert_eq!(count(2u32, "host", "hosts"), "2 hosts");
    assert_eq!(agree(1usize, "holds", "hold"), "holds");
    assert_eq!(agree(3usize, "holds", "hold"), "hold");
}
