//! `--once`: one snapshot as stable JSON (for scripts and monitoring) or as a
//! plain table (for people). The JSON field names are a documented interface:
//! add fields, never rename or remove them.

use serde::Serialize;

use crate::findings::Finding;
use crate::snapshot::{Counts, Flavor, Session, Snapshot};
use crate::text::{cell, one_line, short_ms};

/// The JSON document of `--once --format json`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub server: ServerPart<'a>,
    pub connections: ConnectionsPart,
    /// What the server counts and what the processlist shows, each defined
    /// once ([`Counts`]).
    pub counts: Counts,
    pub own_id: u64,
    /// Serialised with `Session`'s own field names (the documented shape).
    pub sessions: &'a [Session],
    pub findings: &'a [Finding],
}

/// `server`.
#[derive(Debug, Serialize)]
pub struct ServerPart<'a> {
    pub version: &'a str,
    pub flavor: Flavor,
    pub uptime_s: u64,
    pub endpoint: &'a str,
}

/// `connections`: the server's own counters and variables, as it reports them.
#[derive(Debug, Serialize)]
pub struct ConnectionsPart {
    /// `Threads_connected`, the same number as `counts.connected`.
    pub threads_connected: u64,
    /// `Threads_running` as the server counts it: conntop's own statement
    /// and, on MariaDB, system threads included (`counts.running` is the
    /// number of client sessions running a statement).
    pub threads_running: u64,
    pub max_connections: u64,
    pub max_used_connections: u64,
    pub connections_total: u64,
    pub aborted_connects: u64,
    pub aborted_clients: u64,
    /// Connection_errors_max_connections: clients refused with 1040.
    pub rejected: u64,
}

/// Builds the report of a snapshot and its findings.
pub fn report<'a>(snap: &'a Snapshot, findings: &'a [Finding]) -> Report<'a> {
    let s = &snap.status;
    Report {
        server: ServerPart {
            version: &snap.server.version,
            flavor: snap.server.flavor,
            uptime_s: s.uptime_s,
            endpoint: &snap.endpoint,
        },
        connections: ConnectionsPart {
            threads_connected: s.threads_connected,
            threads_running: s.threads_running,
            max_connections: snap.variables.max_connections,
            max_used_connections: s.max_used_connections,
            connections_total: s.connections,
            aborted_connects: s.aborted_connects,
            aborted_clients: s.aborted_clients,
            rejected: s.connection_errors_max_connections,
        },
        counts: snap.counts(),
        own_id: snap.own_id,
        sessions: &snap.sessions,
        findings,
    }
}

/// Pretty JSON, safe on a terminal: serde escapes the C0 controls, and
/// [`text::json_inert`] the C1 controls, bidi overrides and other characters
/// of uncertain width (the data is the same once parsed).
pub fn json(snap: &Snapshot, findings: &[Finding]) -> String {
    let text = serde_json::to_string_pretty(&report(snap, findings))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    crate::text::json_inert(text)
}

/// A plain-text table, every server string sanitised, no line ending in a
/// space.
pub fn table(snap: &Snapshot, findings: &[Finding]) -> String {
    let s = &snap.status;
    let c = snap.counts();
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(format!(
        "{} {}  up {}",
        one_line(&snap.server.version, 60),
        one_line(&snap.endpoint, 80),
        short_ms(s.uptime_s.saturating_mul(1000)),
    ));
    line(format!(
        "connections {}/{} ({:.1}%)  max used {}  total {}  aborted connects {}  rejected {}",
        c.connected,
        c.max_connections,
        c.usage() * 100.0,
        s.max_used_connections,
        s.connections,
        s.aborted_connects,
        s.connection_errors_max_connections,
    ));
    line(format!(
        "sessions {}  running {}  sleeping {}  other {}  conntop {}  unlisted {}  system threads {}",
        c.clients, c.running, c.sleeping, c.other, c.own, c.unlisted, c.system,
    ));
    if !findings.is_empty() {
        line(String::new());
        line("findings:".to_string());
        for f in findings {
            line(format!(
                "  {:<8} {:<12} {}",
                f.severity.name(),
                f.kind.name(),
                one_line(&f.title, 200)
            ));
        }
    }
    line(String::new());
    line(format!(
        "{:>10} {:<16} {:<22} {:<12} {:<10} {:>8} {:<20} {}",
        "ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO"
    ));
    let mut sessions: Vec<_> = snap.sessions.iter().collect();
    sessions.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.id.cmp(&b.id)));
    for x in sessions {
        line(format!(
            "{:>10} {} {} {} {} {:>8} {} {}",
            x.id,
            cell(&x.user, 16),
            cell(&x.host, 22),
            cell(x.db.as_deref().unwrap_or(""), 12),
            cell(&x.command, 10),
            crate::text::session_time(x.time_ms),
            cell(&x.state, 20),
            one_line(x.info.as_deref().unwrap_or(""), 120),
        ));
    }
    out
}

/// One server of `--once` over several: `target` (the name as given),
/// `error` (null when the poll worked) and, when it worked, every field of
/// the single-server [`Report`].
#[derive(Debug, Serialize)]
pub struct FleetItem<'a> {
    pub target: &'a str,
    pub error: Option<&'a str>,
    #[serde(flatten)]
    pub report: Option<Report<'a>>,
}

/// The JSON document of `--once --format json` over several servers.
#[derive(Debug, Serialize)]
pub struct FleetReport<'a> {
    pub servers: Vec<FleetItem<'a>>,
}

/// What `--once` got from one server of several: its snapshot and
/// findings, or the one-line reason it got none.
pub type Polled<'a> = (&'a str, Result<(&'a Snapshot, &'a [Finding]), &'a str>);

/// Pretty JSON of several servers, in the order given.
pub fn fleet_json(servers: &[Polled<'_>]) -> String {
    let doc = FleetReport {
        servers: servers
            .iter()
            .map(|(target, polled)| match polled {
                Ok((snap, findings)) => FleetItem {
                    target,
                    error: None,
                    report: Some(report(snap, findings)),
                },
                Err(e) => FleetItem {
                    target,
                    error: Some(e),
                    report: None,
                },
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A block per server: `== target ==`, then its table or its error.
pub fn fleet_table(servers: &[Polled<'_>]) -> String {
    let mut out = String::new();
    for (i, (target, polled)) in servers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("== {} ==\n", one_line(target, 120)));
        match polled {
            Ok((snap, findings)) => out.push_str(&table(snap, findings)),
            Err(e) => out.push_str(&format!("error: {}\n", one_line(e, 400))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Privileges, ServerInfo, Status, Variables};
    use std::time::{Duration, SystemTime};

    fn session(id: u64, user: &str, command: &str, info: Option<&str>) -> Session {
        Session {
            id,
            user: user.into(),
            host: "10.0.0.7:5000".into(),
            command: command.into(),
            info: info.map(Into::into),
            ..Session::default()
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            seq: 1,
            taken_at: SystemTime::UNIX_EPOCH,
            server: ServerInfo::from_version("10.11.6-MariaDB"),
            variables: Variables {
                max_connections: 20,
                ..Variables::default()
            },
            // MariaDB counts conntop's own statement and the scheduler.
            status: Status {
                threads_connected: 4,
                threads_running: 3,
                ..Status::default()
            },
            sessions: vec![
                session(1, "event_scheduler", "Daemon", None),
                session(5, "app", "Sleep", None),
                session(6, "app", "Query", Some("SELECT 1   ")),
                session(7, "", "Connect", None),
            ],
            own_id: 9,
            privileges: Privileges::default(),
            poll_latency: Duration::ZERO,
            statements: 2,
            endpoint: "127.0.0.1:3306".into(),
            locks: Default::default(),
        }
    }

    #[test]
    fn table_lines_end_without_spaces() {
        let out = table(&snapshot(), &[]);
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "trailing space: {line:?}");
        }
        assert!(out.contains("connections 4/20 (20.0%)"), "{out}");
        assert!(
            out.contains(
                "sessions 3  running 1  sleeping 1  other 1  conntop 1  unlisted 0  \
                 system threads 1"
            ),
            "{out}"
        );
    }

    #[test]
    fn json_keeps_the_server_counters_and_adds_the_counts() {
        let snap = snapshot();
        let v: serde_json::Value = serde_json::from_str(&json(&snap, &[])).unwrap();
        assert_eq!(v["connections"]["threads_connected"], 4);
        assert_eq!(v["connections"]["threads_running"], 3);
        let c = &v["counts"];
        assert_eq!(c["connected"], 4);
        assert_eq!(c["running"], 1);
        assert_eq!(c["clients"], 3);
        assert_eq!(c["system"], 1);
        assert_eq!(c["listed"], 4);
        assert_eq!(c["own"], 1);
        assert_eq!(c["unlisted"], 0);
    }
}
