//! `conntop check`: one status line with performance data for Nagios,
//! Icinga and Sensu, in the monitoring-plugins form:
//!
//! ```text
//! CONNTOP OK - 12/100 connections (12%) | connected=12;80;95;0;100 max=100 usage=12%;80;95;0;100 ...
//! ```
//!
//! Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Usage counts from
//! `--warn`/`--crit` percent of `max_connections` (reached means the level,
//! as the gauge and the `headroom` finding judge); the worst finding raises
//! the state to its severity. A server that refuses us with 1040 is full:
//! CRITICAL. Anything that keeps us from knowing is UNKNOWN, bad flags too.
//!
//! [`verdict`] is pure: it turns a snapshot and its findings into the
//! line; [`run`] connects and samples.

mod run;

pub use run::run;

use std::fmt::Write as _;

use crate::findings::{Finding, Severity};
use crate::snapshot::Snapshot;

/// A plugin state, ordered from best to worst (UNKNOWN last, as its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl State {
    /// The exit code: 0, 1, 2, 3.
    pub fn code(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    fn of(severity: Severity) -> State {
        match severity {
            Severity::Info => State::Ok,
            Severity::Warning => State::Warning,
            Severity::Critical => State::Critical,
        }
    }
}

/// The outcome: the state and the one line to print on stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: State,
    pub line: String,
}

/// Levels in percent of `max_connections` (`--warn`, `--crit`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub warn_pct: f64,
    pub crit_pct: f64,
}

/// Per-second rates between the two samples of `--sample`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// `Connections`: new connections.
    pub connections: f64,
    /// `Connection_errors_max_connections`: clients refused with 1040.
    pub rejected: f64,
    /// `Aborted_connects`: failed connects.
    pub aborted: f64,
}

/// Longest status text before the perfdata (the finding's title is cut).
const MAX_TITLE_CHARS: usize = 160;

/// Longest UNKNOWN / refusal reason.
const MAX_REASON_CHARS: usize = 400;

/// The line and state for one snapshot (the last sample) and its findings.
pub fn verdict(
    snap: &Snapshot,
    findings: &[Finding],
    levels: Levels,
    rates: Option<Rates>,
) -> Verdict {
    let max = snap.variables.max_connections;
    if max == 0 {
        return unknown("the server reported max_connections = 0");
    }
    let connected = snap.status.threads_connected;
    let pct = snap.usage() * 100.0;
    let by_usage = if pct >= levels.crit_pct {
        State::Critical
    } else if pct >= levels.warn_pct {
        State::Warning
    } else {
        State::Ok
    };
    // Findings come most severe first.
    let worst = findings.first();
    let by_findings = worst.map_or(State::Ok, |f| State::of(f.severity));
    let state = by_usage.max(by_findings);
    let mut text = format!("{connected}/{max} connections ({}%)", num(pct, 1));
    if let Some(f) = worst {
        let _ = write!(
            text,
            "; {} {}: {}",
            f.severity.name(),
            f.kind.name(),
            inert(&f.title, MAX_TITLE_CHARS)
        );
        if findings.len() > 1 {
            let _ = write!(text, " (+{} more)", findings.len() - 1);
        }
    }
    let perf = perfdata(snap, levels, rates);
    Verdict {
        state,
        line: format!("CONNTOP {} - {text} | {perf}", state.name()),
    }
}

/// The performance data: `label=value[UOM];warn;crit;min;max`, space-separated.
fn perfdata(snap: &Snapshot, levels: Levels, rates: Option<Rates>) -> String {
    let max = snap.variables.max_connections;
    let st = &snap.status;
    let at = |pct: f64| num(pct * max as f64 / 100.0, 2);
    let mut out = format!(
        "connected={};{};{};0;{max} max={max} usage={}%;{};{};0;100 rejected={}c max_used={};;;0;{max} running={};;;0;{max}",
        st.threads_connected,
        at(levels.warn_pct),
        at(levels.crit_pct),
        num(snap.usage() * 100.0, 1),
        num(levels.warn_pct, 2),
        num(levels.crit_pct, 2),
        st.connection_errors_max_connections,
        st.max_used_connections,
        st.threads_running,
    );
    if let Some(r) = rates {
        let _ = write!(
            out,
            " connections_rate={};;;0 rejected_rate={};;;0 aborted_rate={};;;0",
            num(r.connections, 2),
            num(r.rejected, 2),
            num(r.aborted, 2)
        );
    }
    out
}

/// UNKNOWN with a one-line reason (cannot connect, bad flags, ...).
pub fn unknown(reason: &str) -> Verdict {
    Verdict {
        state: State::Unknown,
        line: format!("CONNTOP UNKNOWN - {}", inert(reason, MAX_REASON_CHARS)),
    }
}

/// CRITICAL: the server refused our connection with 1040, so it is full.
pub fn refused(reason: &str) -> Verdict {
    Verdict {
        state: State::Critical,
        line: format!(
            "CONNTOP CRITICAL - server full, refuses connections: {}",
            inert(reason, MAX_REASON_CHARS)
        ),
    }
}

/// Text safe in the status part: plain (no controls, certain widths), and
/// no `|`, which starts the performance data.
fn inert(text: &str, max_chars: usize) -> String {
    crate::text::plain(text, max_chars).replace('|', "/")
}

/// A number with at most `decimals` decimals, trailing zeros dropped
/// (`80`, `120.8`, `0.33`).
fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingKind;
    use crate::snapshot::{ServerInfo, Status, Variables};
    use std::time::{Duration, SystemTime};

    fn snap(connected: u64, max: u64) -> Snapshot {
        Snapshot {
            seq: 1,
            taken_at: SystemTime::UNIX_EPOCH,
            server: ServerInfo::from_version("10.11.6-MariaDB"),
            variables: Variables {
                max_connections: max,
                ..Variables::default()
            },
            status: Status {
                threads_connected: connected,
                threads_running: 2,
                max_used_connections: connected + 3,
                connection_errors_max_connections: 7,
                ..Status::default()
            },
            sessions: Vec::new(),
            own_id: 1,
            privileges: Default::default(),
            poll_latency: Duration::ZERO,
            statements: 2,
            endpoint: "db1:3306".to_string(),
        }
    }

    const LEVELS: Levels = Levels {
        warn_pct: 80.0,
        crit_pct: 95.0,
    };

    fn finding(kind: FindingKind, severity: Severity, title: &str) -> Finding {
        Finding::new_for_test(kind, severity, title, "")
    }

    /// Splits perfdata into (label, value with UOM, rest).
    fn perf(line: &str) -> Vec<(String, String)> {
        let (_, perf) = line.split_once(" | ").expect("perfdata");
        perf.split(' ')
            .map(|item| {
                let (label, rest) = item.split_once('=').expect("label=value");
                let value = rest.split(';').next().unwrap_or_default();
                (label.to_string(), value.to_string())
            })
            .collect()
    }

    #[test]
    fn ok_line_and_perfdata() {
        let v = verdict(&snap(12, 100), &[], LEVELS, None);
        assert_eq!(v.state, State::Ok);
        assert_eq!(
            v.line,
            "CONNTOP OK - 12/100 connections (12%) | connected=12;80;95;0;100 max=100 \
             usage=12%;80;95;0;100 rejected=7c max_used=15;;;0;100 running=2;;;0;100"
        );
        let p = perf(&v.line);
        let labels: Vec<&str> = p.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "connected",
                "max",
                "usage",
                "rejected",
                "max_used",
                "running"
            ]
        );
    }

    #[test]
    fn levels_are_reached_at_the_percentage() {
        assert_eq!(verdict(&snap(79, 100), &[], LEVELS, None).state, State::Ok);
        assert_eq!(
            verdict(&snap(80, 100), &[], LEVELS, None).state,
            State::Warning
        );
        assert_eq!(
            verdict(&snap(95, 100), &[], LEVELS, None).state,
            State::Critical
        );
        // Over max_connections (the SUPER slot): still critical, no panic.
        let v = verdict(&snap(101, 100), &[], LEVELS, None);
        assert!(
            v.line
                .starts_with("CONNTOP CRITICAL - 101/100 connections (101%)")
        );
        // Thresholds as connection counts: 80% and 95% of 151.
        let v = verdict(&snap(10, 151), &[], LEVELS, None);
        assert!(
            v.line.contains("connected=10;120.8;143.45;0;151"),
            "{}",
            v.line
        );
        assert!(v.line.contains("(6.6%)"), "{}", v.line);
    }

    #[test]
    fn the_worst_finding_names_itself_and_raises_the_state() {
        let found = [
            finding(
                FindingKind::Leak,
                Severity::Critical,
                "app leaks | 40 idle\x1b[31m",
            ),
            finding(FindingKind::Timeouts, Severity::Info, "lax timeouts"),
        ];
        let v = verdict(&snap(12, 100), &found, LEVELS, None);
        assert_eq!(v.state, State::Critical);
        assert!(
            v.line.starts_with(
                "CONNTOP CRITICAL - 12/100 connections (12%); critical leak: app leaks / 40 idle [31m (+1 more) | "
            ),
            "{}",
            v.line
        );
        assert_eq!(v.line.matches('|').count(), 1);
        let warn = [finding(FindingKind::Pool, Severity::Warning, "pools")];
        assert_eq!(
            verdict(&snap(12, 100), &warn, LEVELS, None).state,
            State::Warning
        );
        let info = [finding(FindingKind::Timeouts, Severity::Info, "lax")];
        let v = verdict(&snap(12, 100), &info, LEVELS, None);
        assert_eq!(v.state, State::Ok);
        assert!(v.line.contains("; info timeouts: lax |"), "{}", v.line);
    }

    #[test]
    fn rates_with_a_second_sample() {
        let rates = Rates {
            connections: 3.5,
            rejected: 0.0,
            aborted: 1.0 / 3.0,
        };
        let v = verdict(&snap(12, 100), &[], LEVELS, Some(rates));
        assert!(
            v.line
                .ends_with(" connections_rate=3.5;;;0 rejected_rate=0;;;0 aborted_rate=0.33;;;0"),
            "{}",
            v.line
        );
    }

    #[test]
    fn unknown_and_refused_are_one_inert_line() {
        let v = unknown("cannot connect to 127.0.0.1:1: refused\nsecond | line");
        assert_eq!(v.state.code(), 3);
        assert_eq!(
            v.line,
            "CONNTOP UNKNOWN - cannot connect to 127.0.0.1:1: refused second / line"
        );
        let v = refused("ERROR 1040 (HY000): Too many connections");
        assert_eq!(v.state.code(), 2);
        assert!(v.line.starts_with("CONNTOP CRITICAL - server full"));
        let v = verdict(&snap(0, 0), &[], LEVELS, None);
        assert_eq!(v.state, State::Unknown);
    }
}
