//! The rules on synthetic snapshots and histories: a snapshot builder and
//! checks every finding must pass, then one file per rule.

mod headroom;
mod leak;
mod long_running;
mod pool;
mod spike;
mod timeouts;
mod whole;

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::history::Sample;
use crate::snapshot::{Privileges, ServerInfo, Session, Status, Variables};

pub(super) const T0: u64 = 1_700_000_000;
pub(super) const UPTIME: u64 = 100_000;

/// Snapshot builder: sane variables that trigger nothing by themselves.
#[derive(Clone)]
pub(super) struct B(pub(super) Snapshot);

impl B {
    pub(super) fn new(max: u64) -> B {
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
            privileges: Privileges {
                process: true,
                kill_any: true,
                ..Privileges::default()
            },
            poll_latency: Duration::from_millis(2),
            statements: 2,
            endpoint: "127.0.0.1:3306".to_string(),
        })
    }

    pub(super) fn mysql(mut self) -> B {
        self.0.server = ServerInfo::from_version("8.0.36");
        self
    }

    /// Adds `n` sessions; a bare host gets a distinct port per session.
    pub(super) fn add(mut self, n: usize, user: &str, host: &str, cmd: &str, secs: u64) -> B {
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

    pub(super) fn with(mut self, f: impl FnOnce(&mut Snapshot)) -> B {
        f(&mut self.0);
        self
    }

    pub(super) fn snap(self) -> Snapshot {
        self.0
    }
}

/// Checks every finding is well formed: short one-line titles, plain SQL.
pub(super) fn check(findings: &[Finding]) {
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
            if let Some(config) = &s.config {
                assert!(config.starts_with("[mysqld]\n"), "{config}");
                assert!(!config.contains(';'), "{config}");
            }
        }
        let blocks = f.fix.iter().filter(|s| s.config.is_some()).count();
        assert!(blocks <= 1, "one my.cnf block per finding: {f:#?}");
        if blocks == 1 {
            assert!(f.fix.last().is_some_and(|s| s.config.is_some()), "{f:#?}");
        }
    }
}

/// Diagnoses one snapshot with a history of just itself.
pub(super) fn one(snap: Snapshot) -> Vec<Finding> {
    let (snap, history) = series(vec![snap]);
    run(&snap, &history, &Thresholds::default())
}

pub(super) fn run(snap: &Snapshot, history: &History, t: &Thresholds) -> Vec<Finding> {
    let findings = diagnose(snap, history, t);
    check(&findings);
    findings
}

/// Stamps the snapshots 1 s apart and builds their history; returns the
/// last snapshot and the history ending with it.
pub(super) fn series(snaps: Vec<Snapshot>) -> (Snapshot, History) {
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

pub(super) fn diagnose_series(n: usize, f: impl Fn(usize) -> Snapshot) -> Vec<Finding> {
    let (snap, history) = series((0..n).map(f).collect());
    run(&snap, &history, &Thresholds::default())
}

pub(super) fn get(findings: &[Finding], kind: FindingKind) -> Option<&Finding> {
    findings.iter().find(|f| f.kind == kind)
}

pub(super) fn of(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

pub(super) fn sqls(f: &Finding) -> Vec<&str> {
    f.fix.iter().filter_map(|s| s.sql.as_deref()).collect()
}

/// The lines of the finding's my.cnf block, without `[mysqld]`.
pub(super) fn config(f: &Finding) -> Vec<&str> {
    f.fix
        .iter()
        .filter_map(|s| s.config.as_deref())
        .flat_map(|c| c.lines().skip(1))
        .collect()
}

pub(super) fn keys(f: &Finding) -> Vec<&str> {
    f.fix.iter().filter_map(FixStep::key).collect()
}

/// Lax server settings: 8 h timeouts, no statement timeout, slow log off.
pub(super) fn lax(b: B) -> B {
    b.with(|s| {
        let v = &mut s.variables;
        v.wait_timeout = 28_800;
        v.interactive_timeout = 28_800;
        v.statement_timeout_ms = Some(0);
        v.slow_query_log = Some(false);
    })
}
