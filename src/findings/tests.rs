//! The rules on synthetic snapshots and histories.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::history::Sample;
use crate::snapshot::{Privileges, ServerInfo, Session, Status, Variables};

const T0: u64 = 1_700_000_000;
const UPTIME: u64 = 100_000;

/// Snapshot builder: sane variables that trigger nothing by themselves.
#[derive(Clone)]
struct B(Snapshot);

impl B {
    fn new(max: u64) -> B {
        B(Snapshot {
            seq: 0,
            taken_at: UNIX_EPOCH + Duration::from_secs(T0),
            server: ServerInfo::from_version("10.11.6-MariaDB-0+deb12u1"),
            variables: Variables {
                max_connections: max,
                wait_timeout: 600,
                interactive_timeout: 600,
                statement_timeout_ms: Some(300_000),
                slow_query_log: Some(true),
                ..Variables::default()
            },
            status: Status {
                uptime_s: UPTIME,
                ..Status::default()
            },
            sessions: Vec::new(),
            own_id: 1,
            privileges: Privileges::default(),
            poll_latency: Duration::from_millis(2),
            statements: 2,
            endpoint: "127.0.0.1:3306".to_string(),
        })
    }

    fn mysql(mut self) -> B {
        self.0.server = ServerInfo::from_version("8.0.36");
        self
    }

    /// Adds `n` sessions; a bare host gets a distinct port per session.
    fn add(mut self, n: usize, user: &str, host: &str, cmd: &str, secs: u64) -> B {
        for _ in 0..n {
            let id = 100 + self.0.sessions.len() as u64;
            let host = if host.is_empty() || host == "localhost" || host.contains(':') {
                host.to_string()
            } else {
                format!("{host}:{}", 40_000 + id)
            };
            self.0.sessions.push(Session {
                id,
                user: user.to_string(),
                host,
                db: Some("shop".to_string()),
                command: cmd.to_string(),
                time_ms: secs * 1000,
                state: String::new(),
                info: (cmd != "Sleep").then(|| "SELECT 1".to_string()),
                trx_age_ms: None,
            });
        }
        let st = &mut self.0.status;
        st.threads_connected = self.0.sessions.len() as u64;
        st.max_used_connections = st.max_used_connections.max(st.threads_connected);
        self
    }

    fn with(mut self, f: impl FnOnce(&mut Snapshot)) -> B {
        f(&mut self.0);
        self
    }

    fn snap(self) -> Snapshot {
        self.0
    }
}

/// Checks every finding is well formed: short one-line titles, plain SQL.
fn check(findings: &[Finding]) {
    for f in findings {
        assert!(f.title.chars().count() <= 75, "title too long: {}", f.title);
        assert!(!f.title.chars().any(char::is_control), "{}", f.title);
        assert!(!f.evidence.is_empty() && !f.fix.is_empty(), "{f:?}");
        for line in &f.evidence {
            assert!(!line.chars().any(char::is_control), "{line}");
        }
        for s in &f.fix {
            if let Some(sql) = &s.sql {
                assert!(!sql.contains('\n'), "{sql}");
                assert!(sql.matches(';').count() <= 1, "{sql}");
            }
        }
    }
}

/// Diagnoses one snapshot with a history of just itself.
fn one(snap: Snapshot) -> Vec<Finding> {
    let (snap, history) = series(vec![snap]);
    run(&snap, &history, &Thresholds::default())
}

fn run(snap: &Snapshot, history: &History, t: &Thresholds) -> Vec<Finding> {
    let findings = diagnose(snap, history, t);
    check(&findings);
    findings
}

/// Stamps the snapshots 1 s apart and builds their history; returns the
/// last snapshot and the history ending with it.
fn series(snaps: Vec<Snapshot>) -> (Snapshot, History) {
    let mut history = History::default();
    let mut last = None;
    for (i, mut s) in snaps.into_iter().enumerate() {
        s.seq = i as u64;
        s.taken_at = UNIX_EPOCH + Duration::from_secs(T0 + i as u64);
        history.push(Sample::from_snapshot(&s));
        last = Some(s);
    }
    (last.unwrap_or_else(|| B::new(100).snap()), history)
}

fn diagnose_series(n: usize, f: impl Fn(usize) -> Snapshot) -> Vec<Finding> {
    let (snap, history) = series((0..n).map(f).collect());
    run(&snap, &history, &Thresholds::default())
}

fn get(findings: &[Finding], kind: FindingKind) -> Option<&Finding> {
    findings.iter().find(|f| f.kind == kind)
}

fn of(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

fn sqls(f: &Finding) -> Vec<&str> {
    f.fix.iter().filter_map(|s| s.sql.as_deref()).collect()
}

fn keys(f: &Finding) -> Vec<&str> {
    f.fix.iter().filter_map(FixStep::key).collect()
}

// --- durations ---

// --- leak ---

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
    assert_eq!(
        sqls(leak),
        ["SET GLOBAL wait_timeout = 360;", "wait_timeout = 360"]
    );
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

// --- headroom ---

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
    assert_eq!(
        sqls(h),
        ["SET GLOBAL max_connections = 130;", "max_connections = 130"]
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

// --- long_running ---

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
    let step = l.fix.last().expect("step");
    assert!(step.text.contains("SELECT"), "{}", step.text);
    assert!(step.text.contains("milliseconds"), "{}", step.text);
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
}

#[test]
fn long_running_critical_at_quarter_of_max() {
    let f = one(B::new(100).add(25, "app", "10.0.0.1", "Query", 61).snap());
    let l = get(&f, FindingKind::LongRunning).expect("long_running");
    assert_eq!(l.severity, Severity::Critical);
}

// --- pool ---

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
    assert_eq!(
        sqls(p),
        ["SET GLOBAL max_connections = 110;", "max_connections = 110"]
    );
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

// --- spike ---

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

#[test]
fn connection_rate_spike() {
    let f = conn_series(30, 2, 100);
    let s = get(&f, FindingKind::Spike).expect("spike");
    assert_eq!(s.severity, Severity::Warning);
    assert_eq!(
        s.title,
        "Connection spike: 80/s new connections vs 2.0/s baseline"
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
    assert!(get(&conn_series(19, 2, 100), FindingKind::Spike).is_none());
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
    assert_eq!(s.title, "Connection spike: 80 connected vs 20 baseline");

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
    assert_eq!(s.title, "Aborted connects spike: 10/s vs 0.0/s baseline");
    // A steady stream (health checks) is no spike.
    assert!(get(&aborted(10), FindingKind::Spike).is_none());
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

// --- timeouts ---

fn lax(b: B) -> B {
    b.with(|s| {
        let v = &mut s.variables;
        v.wait_timeout = 28_800;
        v.interactive_timeout = 28_800;
        v.statement_timeout_ms = Some(0);
        v.slow_query_log = Some(false);
    })
}

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
            "SET GLOBAL wait_timeout = 600;",
            "SET GLOBAL interactive_timeout = 600;",
            "SET GLOBAL max_statement_time = 60;",
            "SET GLOBAL slow_query_log = ON;",
            "wait_timeout = 600",
            "interactive_timeout = 600",
            "max_statement_time = 60",
            "slow_query_log = ON",
        ]
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
    assert!(sql.contains(&"SET GLOBAL wait_timeout = 360;"), "{sql:?}");
    assert!(
        sql.contains(&"SET GLOBAL max_execution_time = 60000;"),
        "{sql:?}"
    );
    assert!(sql.contains(&"max_execution_time = 60000"), "{sql:?}");
}

#[test]
fn sane_timeouts_are_quiet() {
    let f = one(B::new(100)
        .with(|s| s.variables.statement_timeout_ms = None)
        .snap());
    assert!(f.is_empty(), "{f:#?}");
}

// --- whole ---

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
