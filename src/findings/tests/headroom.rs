//! The headroom rule.

use super::*;

#[test]
fn headroom_levels() {
    let f = one(B::new(100).add(50, "app", "10.0.0.1", "Sleep", 1).snap());
    assert!(get(&f, FindingKind::Headroom).is_none(), "{f:#?}");

    let f = one(B::new(100).add(85, "app", "10.0.0.1", "Sleep", 1).snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert_eq!(h.severity, Severity::Warning);
    assert_eq!(h.title, "Connections at 85/100 (85%) of max_connections");

    let f = one(B::new(100).add(96, "app", "10.0.0.1", "Sleep", 1).snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert_eq!(h.severity, Severity::Critical);

    // Full once since start, half full now.
    let f = one(B::new(100)
        .add(50, "app", "10.0.0.1", "Sleep", 1)
        .with(|s| s.status.max_used_connections = 97)
        .snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert_eq!(h.severity, Severity::Warning);
    assert!(
        h.title.starts_with("Max used reached 97/100"),
        "{}",
        h.title
    );
}

#[test]
fn headroom_fix_sizes_the_limit_and_its_memory() {
    let f = one(B::new(100)
        .add(100, "app", "10.0.0.1", "Query", 1)
        .with(|s| {
            let v = &mut s.variables;
            v.sort_buffer_size = 262_144;
            v.join_buffer_size = 262_144;
            v.read_buffer_size = 131_072;
            v.read_rnd_buffer_size = 262_144;
            v.thread_stack = 262_144;
            v.net_buffer_length = 16_384;
            v.binlog_cache_size = 32_768;
        })
        .snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert_eq!(sqls(h), ["SET GLOBAL max_connections = 130;"]);
    assert_eq!(config(h), ["max_connections = 130"]);
    assert_eq!(
        h.fix.last().and_then(|s| s.config.as_deref()),
        Some("[mysqld]\nmax_connections = 130")
    );
    let memory = h
        .fix
        .iter()
        .find(|s| s.text.starts_with("Memory"))
        .expect("memory step");
    assert!(memory.text.contains("1.2 MiB"), "{}", memory.text);
    assert!(
        memory.text.contains("x 30 added = 35 MiB"),
        "{}",
        memory.text
    );
    assert!(!h.fix.iter().any(|s| s.text.contains("buys time")));
}

#[test]
fn headroom_says_a_leak_makes_more_slots_pointless() {
    let f = one(B::new(100)
        .add(70, "app", "10.0.0.1", "Sleep", 900)
        .add(20, "web", "10.0.0.2", "Query", 1)
        .snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert!(h.fix[0].text.contains("only buys time"), "{:#?}", h.fix);
    assert_eq!(h.fix[0].key(), Some("I"));
    assert!(h.evidence.iter().any(|e| e.contains("70 of the connected")));
    // Raised limit: at least max + 10 even when fewer are used.
    assert!(sqls(h).contains(&"SET GLOBAL max_connections = 120;"));
}

#[test]
fn rising_rejections_are_critical() {
    let f = diagnose_series(30, |i| {
        B::new(100)
            .add(50, "app", "10.0.0.1", "Sleep", 1)
            .with(|s| {
                s.status.uptime_s = UPTIME + i as u64;
                s.status.connection_errors_max_connections = 10 + 3 * (i as u64).saturating_sub(25);
            })
            .snap()
    });
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert_eq!(h.severity, Severity::Critical);
    assert_eq!(
        h.title,
        "Clients refused (1040) in the last 29s: 12; 50/100 connected"
    );
    assert!(
        h.evidence
            .iter()
            .any(|e| e.contains("22 since start, 12 in"))
    );
}

#[test]
fn restart_or_flush_is_no_rejection_rise_and_no_spike() {
    // Restart at i = 25: uptime, connections and rejections start over.
    let f = diagnose_series(30, |i| {
        let restarted = i >= 25;
        B::new(100)
            .add(50, "app", "10.0.0.1", "Sleep", 1)
            .with(|s| {
                let st = &mut s.status;
                if restarted {
                    st.uptime_s = (i - 25) as u64;
                    st.connections = 2 * (i - 25) as u64;
                    st.aborted_connects = 0;
                    st.connection_errors_max_connections = 0;
                } else {
                    st.uptime_s = UPTIME + i as u64;
                    st.connections = 5_000_000 + 2 * i as u64;
                    st.aborted_connects = 90_000;
                    st.connection_errors_max_connections = 500;
                }
            })
            .snap()
    });
    assert!(f.is_empty(), "{f:#?}");

    // FLUSH STATUS: counters drop while uptime goes on.
    let f = diagnose_series(30, |i| {
        B::new(100)
            .add(50, "app", "10.0.0.1", "Sleep", 1)
            .with(|s| {
                s.status.uptime_s = UPTIME + i as u64;
                s.status.connection_errors_max_connections = if i < 28 { 500 } else { 0 };
            })
            .snap()
    });
    assert!(get(&f, FindingKind::Headroom).is_none(), "{f:#?}");
}

/// "running" is the header's: client sessions running a statement, not the
/// server's Threads_running (which counts conntop's own statement and the
/// event scheduler).
#[test]
fn running_is_what_the_header_shows() {
    let f = one(B::new(100)
        .add(85, "app", "10.0.0.1", "Sleep", 1)
        .add(2, "app", "10.0.0.1", "Query", 1)
        .add(1, "event_scheduler", "localhost", "Daemon", 9000)
        .with(|s| {
            s.status.threads_connected = 88;
            s.status.threads_running = 4;
        })
        .snap());
    let h = get(&f, FindingKind::Headroom).expect("headroom");
    assert!(
        h.evidence
            .contains(&"Connected: 88 of max_connections 100 (88%); 2 running".to_string()),
        "{:#?}",
        h.evidence
    );
}
