//! Diagnosis: pure rules over a snapshot, its history and the variables that
//! name the cause of connection exhaustion and its fix.
//!
//! Every rule is a pure function: no I/O, no clock, no panics on any input
//! (empty snapshots, `max_connections = 0`, counters that go backwards after a
//! restart or `FLUSH STATUS`). The history handed to [`diagnose`] ends with the
//! sample of the snapshot being diagnosed.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::history::{History, Sample, rate};
use crate::snapshot::{Flavor, Session, Snapshot, Variables, millis};
use crate::text::plain;
use crate::text::short_ms as short_duration;
use crate::thresholds::Thresholds;

/// How bad a finding is; findings are listed most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is failing.
    Info,
    /// Heading for trouble; act soon.
    Warning,
    /// Clients are (about to be) refused; act now.
    Critical,
}

impl Severity {
    /// The stable name (as in the JSON): `info`, `warning`, `critical`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The cause a finding names. The serialised names are a stable interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An account leaves many sessions idle past the idle threshold.
    Leak,
    /// The server is (or was) close to max_connections, or refuses clients.
    Headroom,
    /// Statements (or idle transactions) running past the query threshold.
    LongRunning,
    /// Steady, similar per-host pools that together fill the server.
    Pool,
    /// Connection rate, connected threads or failed handshakes jump.
    Spike,
    /// Lax wait/interactive timeouts, no statement timeout, no slow log.
    Timeouts,
}

impl FindingKind {
    /// The stable name (as in the JSON): `leak`, `long_running`, ...
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Leak => "leak",
            FindingKind::Headroom => "headroom",
            FindingKind::LongRunning => "long_running",
            FindingKind::Pool => "pool",
            FindingKind::Spike => "spike",
            FindingKind::Timeouts => "timeouts",
        }
    }

    /// Position in the findings list among findings of equal severity.
    fn rank(self) -> u8 {
        match self {
            FindingKind::Leak => 0,
            FindingKind::Headroom => 1,
            FindingKind::LongRunning => 2,
            FindingKind::Pool => 3,
            FindingKind::Spike => 4,
            FindingKind::Timeouts => 5,
        }
    }
}

/// One step of a fix: what to do, the SQL to copy, and the conntop key that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    /// Plain-language action ("Kill the idle sessions now").
    pub text: String,
    /// SQL (or a my.cnf line) to copy, undecorated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The conntop key that performs it, e.g. `I`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A diagnosed cause with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The cause named.
    pub kind: FindingKind,
    /// How urgent it is.
    pub severity: Severity,
    /// One line for the findings strip.
    pub title: String,
    /// Numbers and names that support the title.
    pub evidence: Vec<String>,
    /// What to do, in order.
    pub fix: Vec<FixStep>,
}

// --- Rule parameters -------------------------------------------------------

/// A user with at least this many long-idle sessions leaks...
const LEAK_MIN_SESSIONS: usize = 10;
/// ...or with this share of the used (non-system) slots...
const LEAK_MIN_SHARE: f64 = 0.25;
/// ...provided there are at least this many (3 idle sessions of 4 are no leak).
const LEAK_SHARE_FLOOR: usize = 3;
/// Name `user@host` when this share of a leak comes from one host.
const LEAK_CONCENTRATED: f64 = 0.8;
/// Hosts listed in the leak evidence.
const LEAK_TOP_HOSTS: usize = 3;
/// `max_used_connections` at this share of max_connections means the server
/// was full at some point since it started.
const MAX_USED_FULL: f64 = 0.95;
/// Window for "refused clients are rising".
const REJECT_WINDOW: Duration = Duration::from_secs(60);
/// Long-running sessions holding this share of max_connections are critical.
const LONG_CRIT_SHARE: f64 = 0.25;
/// Statements listed in the long-running evidence.
const LONG_TOP: usize = 3;
/// Query text shown per statement, in characters.
const QUERY_CHARS: usize = 60;
/// The pool rule needs this many samples of history.
const POOL_MIN_SAMPLES: usize = 10;
/// Window over which a pool must be steady.
const POOL_WINDOW: Duration = Duration::from_secs(30);
/// Samples within the window needed to call a count steady.
const POOL_MIN_WINDOW_SAMPLES: usize = 3;
/// Sessions a host must hold to count as a pool.
const POOL_MIN_SESSIONS: u32 = 5;
/// Hosts within this share of their median are "similar".
const POOL_SIMILAR: f64 = 0.20;
/// A host whose count stays within this share over the window is "steady".
const POOL_STEADY: f64 = 0.10;
/// The pools' sum must reach this share of max_connections.
const POOL_FILL: f64 = 0.70;
/// Pools sized to this share of max_connections leave room for admins.
const POOL_TARGET: f64 = 0.80;
/// Hosts listed in the pool evidence.
const POOL_LIST: usize = 8;
/// The spike rule needs this many samples of history.
const SPIKE_MIN_SAMPLES: usize = 20;
/// Samples in the baseline part of the history (older than the recent window).
const SPIKE_MIN_BASELINE: usize = 10;
/// The "now" of the spike rule: the last few seconds.
const SPIKE_RECENT: Duration = Duration::from_secs(5);
/// Current over baseline ratio that makes a spike.
const SPIKE_FACTOR: f64 = 3.0;
/// New connections per second below which nothing is a spike.
const SPIKE_MIN_RATE: f64 = 20.0;
/// Threads_connected growth below which nothing is a spike.
const SPIKE_MIN_THREADS: u64 = 20;
/// Aborted connects per second below which nothing is a spike.
const SPIKE_MIN_ABORTED: f64 = 5.0;
/// `wait_timeout` / `interactive_timeout` above this are lax (seconds).
const TIMEOUT_MAX_S: u64 = 600;
/// The highest `max_connections` the servers accept.
const MAX_CONNECTIONS_LIMIT: u64 = 100_000;

// --- Entry point -----------------------------------------------------------

/// Runs every rule; most severe first, then in the order leak, headroom,
/// long_running, pool, spike, timeouts. `history` must end with the sample
/// of `snap`; rules that need history stay silent without enough of it.
pub fn diagnose(snap: &Snapshot, history: &History, t: &Thresholds) -> Vec<Finding> {
    let leaks = leak_rule(snap, t);
    let leaked: usize = leaks.iter().map(|l| l.sessions).sum();
    let leak_wait = (!leaks.is_empty()).then(|| leak_wait_timeout(t));

    let mut out: Vec<Finding> = leaks.into_iter().map(|l| l.finding).collect();
    out.extend(headroom_rule(snap, history, t, leaked));
    out.extend(long_running_rule(snap, t));
    out.extend(pool_rule(snap, history, t));
    out.extend(spike_rule(snap, history, t));
    out.extend(timeouts_rule(snap, t, leak_wait));
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.rank().cmp(&b.kind.rank()))
    });
    out
}

// --- leak ------------------------------------------------------------------

struct Leak {
    sessions: usize,
    finding: Finding,
}

#[derive(Default)]
struct UserAcc<'a> {
    total: usize,
    active: usize,
    stale: usize,
    oldest_ms: u64,
    hosts: HashMap<&'a str, usize>,
}

/// `wait_timeout` that would have closed the leaked sessions: a bit over the
/// idle threshold, at least 60 s.
fn leak_wait_timeout(t: &Thresholds) -> u64 {
    let idle_s = millis(t.idle_over).div_ceil(1000);
    ceil10(idle_s as f64 * 1.2).max(60)
}

fn leak_rule(snap: &Snapshot, t: &Thresholds) -> Vec<Leak> {
    let idle_ms = millis(t.idle_over);
    let mut used = 0usize;
    let mut users: HashMap<&str, UserAcc> = HashMap::new();
    for s in snap.sessions.iter().filter(|s| !s.is_system()) {
        used += 1;
        let acc = users.entry(s.user.as_str()).or_default();
        acc.total += 1;
        if !s.is_sleeping() {
            acc.active += 1;
        } else if s.time_ms >= idle_ms {
            acc.stale += 1;
            acc.oldest_ms = acc.oldest_ms.max(s.time_ms);
            *acc.hosts.entry(s.client_host()).or_default() += 1;
        }
    }

    let mut leaking: Vec<(&str, UserAcc)> = users
        .into_iter()
        .filter(|(_, a)| {
            let many = a.stale >= LEAK_MIN_SESSIONS;
            let large = a.stale >= LEAK_SHARE_FLOOR && ratio(a.stale, used) >= LEAK_MIN_SHARE;
            // A user whose sessions are mostly active is busy, not leaking.
            let mostly_active = a.active * 2 > a.total;
            (many || large) && !mostly_active
        })
        .collect();
    leaking.sort_by(|a, b| b.1.stale.cmp(&a.1.stale).then(a.0.cmp(b.0)));

    leaking
        .into_iter()
        .map(|(user, acc)| Leak {
            sessions: acc.stale,
            finding: leak_finding(snap, t, user, &acc, used),
        })
        .collect()
}

fn leak_finding(snap: &Snapshot, t: &Thresholds, user: &str, a: &UserAcc, used: usize) -> Finding {
    let max = snap.variables.max_connections;
    let idle = short_duration(millis(t.idle_over));
    let mut hosts: Vec<(&str, usize)> = a.hosts.iter().map(|(h, n)| (*h, *n)).collect();
    hosts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));

    let concentrated = hosts
        .first()
        .filter(|(_, n)| ratio(*n, a.stale) >= LEAK_CONCENTRATED);
    let who = match concentrated {
        Some((host, _)) => plain(&format!("{user}@{host}"), 28),
        None => plain(user, 28),
    };

    let title = format!(
        "{} sessions of {who} idle over {idle} (oldest {})",
        a.stale,
        short_duration(a.oldest_ms)
    );

    let mut evidence = vec![format!(
        "{} sessions of {who} in Sleep for at least {idle}: {} of the {used} used slots",
        a.stale,
        pct(ratio(a.stale, used))
    )];
    if max > 0 {
        evidence.push(format!(
            "They hold {} of max_connections ({max})",
            pct(ratio(a.stale, max as usize))
        ));
    }
    let listed: Vec<String> = hosts
        .iter()
        .take(LEAK_TOP_HOSTS)
        .map(|(h, n)| format!("{} ({n})", plain(h, 40)))
        .collect();
    let more = hosts.len().saturating_sub(LEAK_TOP_HOSTS);
    evidence.push(if more > 0 {
        format!("Hosts: {}, and {more} more", listed.join(", "))
    } else {
        format!("Hosts: {}", listed.join(", "))
    });
    evidence.push(format!(
        "Oldest idle: {}; the user also has {} active and {} recently idle sessions",
        short_duration(a.oldest_ms),
        a.active,
        a.total - a.active - a.stale
    ));
    let wait = snap.variables.wait_timeout;
    if wait > 0 {
        evidence.push(format!(
            "wait_timeout is {wait}s: the server closes an idle session only after {}",
            short_duration(wait.saturating_mul(1000))
        ));
    }

    let n = leak_wait_timeout(t);
    let mut fix = vec![
        step(
            "The application must close connections (usual cause: error paths that skip \
             close(), or a pool with no idle timeout)",
            None,
            None,
        ),
        step(
            &format!(
                "Kill the sessions idle over {idle} now ({} of them are {who})",
                a.stale
            ),
            None,
            Some("I"),
        ),
    ];
    if wait > 0 && wait <= n {
        fix.push(step(
            &format!(
                "wait_timeout is already {wait}s: the client raises it per session \
                 (SET SESSION wait_timeout); remove that from its connection settings"
            ),
            None,
            None,
        ));
    } else {
        fix.push(step(
            &format!("Have the server close sessions idle over {n}s (applies to new sessions)"),
            Some(format!("SET GLOBAL wait_timeout = {n};")),
            None,
        ));
        fix.push(step(
            "Keep it across restarts: my.cnf, under [mysqld]",
            Some(format!("wait_timeout = {n}")),
            None,
        ));
    }

    let severity = if max > 0 && (snap.usage() >= t.crit || a.stale as f64 >= 0.5 * max as f64) {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Finding {
        kind: FindingKind::Leak,
        severity,
        title,
        evidence,
        fix,
    }
}

// --- headroom --------------------------------------------------------------

fn headroom_rule(
    snap: &Snapshot,
    history: &History,
    t: &Thresholds,
    leaked: usize,
) -> Option<Finding> {
    let max = snap.variables.max_connections;
    let st = &snap.status;
    let usage = snap.usage();
    let near = max > 0 && usage >= t.warn;
    let was_full = max > 0 && st.max_used_connections as f64 >= MAX_USED_FULL * max as f64;
    let (recent, span_ms) = counter_rise(history, REJECT_WINDOW, |s| s.rejected);
    let rising = recent > 0;
    if !(near || was_full || rising) {
        return None;
    }
    let span = short_duration(span_ms);

    let title = if rising {
        let connected = if max > 0 {
            format!("{}/{max}", st.threads_connected)
        } else {
            st.threads_connected.to_string()
        };
        format!("Clients refused (1040) in the last {span}: {recent}; {connected} connected")
    } else if near {
        format!(
            "Connections at {}/{max} ({}) of max_connections",
            st.threads_connected,
            pct(usage)
        )
    } else {
        format!(
            "Max used reached {}/{max} ({}) since the server started",
            st.max_used_connections,
            pct(ratio_u64(st.max_used_connections, max))
        )
    };

    let mut evidence = Vec::new();
    if max > 0 {
        evidence.push(format!(
            "Connected: {} of max_connections {max} ({}); {} running",
            st.threads_connected,
            pct(usage),
            st.threads_running
        ));
        evidence.push(format!(
            "Max used since start: {} ({})",
            st.max_used_connections,
            pct(ratio_u64(st.max_used_connections, max))
        ));
    } else {
        evidence.push(format!(
            "Connected: {} (max_connections unknown); max used since start: {}",
            st.threads_connected, st.max_used_connections
        ));
    }
    evidence.push(format!(
        "Refused with ERROR 1040: {} since start, {recent} in the last {span}",
        st.connection_errors_max_connections
    ));
    if leaked > 0 {
        evidence.push(format!(
            "{leaked} of the connected sessions are leaked idle sessions (see the leak finding)"
        ));
    }

    let mut fix = Vec::new();
    if leaked > 0 {
        fix.push(step(
            &format!(
                "Raising the limit only buys time while {leaked} leaked idle sessions hold \
                 slots: fix the leak first, kill them now"
            ),
            None,
            Some("I"),
        ));
    }
    let n = raised_limit(max, st.max_used_connections.max(st.threads_connected));
    fix.extend(raise_limit_steps(&snap.variables, n));

    let severity = if (max > 0 && usage >= t.crit) || rising {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(Finding {
        kind: FindingKind::Headroom,
        severity,
        title,
        evidence,
        fix,
    })
}

/// A new max_connections for `needed` sessions: +25%, rounded up to a
/// multiple of 10, at least the current limit + 10.
fn raised_limit(max: u64, needed: u64) -> u64 {
    ceil10(needed as f64 * 1.25)
        .max(max.saturating_add(10))
        .min(MAX_CONNECTIONS_LIMIT.max(max))
}

fn raise_limit_steps(v: &Variables, n: u64) -> Vec<FixStep> {
    let max = v.max_connections;
    let added = n.saturating_sub(max);
    let per_conn = [
        v.sort_buffer_size,
        v.join_buffer_size,
        v.read_buffer_size,
        v.read_rnd_buffer_size,
        v.thread_stack,
        v.net_buffer_length,
        v.binlog_cache_size,
    ]
    .iter()
    .fold(0u64, |sum, b| sum.saturating_add(*b));
    let memory = if per_conn == 0 {
        format!(
            "Per-connection buffer sizes are unknown: budget memory for {added} more \
             connections before raising the limit"
        )
    } else {
        let total = per_conn.saturating_mul(added);
        format!(
            "Memory, worst case per added connection: {} (sort, join, read, read_rnd buffers, \
             thread stack, net buffer, binlog cache) x {added} added = {}; check it fits \
             next to the buffer pool",
            mib(per_conn),
            mib(total)
        )
    };
    vec![
        step(
            &format!("Raise the limit to {n} now (no restart needed)"),
            Some(format!("SET GLOBAL max_connections = {n};")),
            None,
        ),
        step(
            "Keep it across restarts: my.cnf, under [mysqld]",
            Some(format!("max_connections = {n}")),
            None,
        ),
        step(&memory, None, None),
        step(
            "Check open_files_limit (and the service's LimitNOFILE) covers the new limit, \
             or the server lowers max_connections at startup",
            None,
            None,
        ),
    ]
}

/// How much a counter rose over the last `span` of the current server run
/// (positive steps only, so a reset by a restart or `FLUSH STATUS` never
/// counts), and the span actually covered, in ms.
fn counter_rise(history: &History, span: Duration, counter: fn(&Sample) -> u64) -> (u64, u64) {
    let samples = history.samples();
    let Some(newest) = samples.back() else {
        return (0, 0);
    };
    let span_ms = millis(span);
    let mut rise = 0u64;
    let mut covered = 0u64;
    for i in (1..samples.len()).rev() {
        let (older, newer) = (&samples[i - 1], &samples[i]);
        let Ok(age) = newest.at.duration_since(older.at) else {
            break;
        };
        if newer.at < older.at || millis(age) > span_ms || newer.uptime_s < older.uptime_s {
            break;
        }
        rise = rise.saturating_add(counter(newer).saturating_sub(counter(older)));
        covered = millis(age);
    }
    (rise, covered)
}

// --- long_running ----------------------------------------------------------

fn long_running_rule(snap: &Snapshot, t: &Thresholds) -> Option<Finding> {
    let q_ms = millis(t.query_over);
    let q = short_duration(q_ms);
    let max = snap.variables.max_connections;
    let clients = || snap.sessions.iter().filter(|s| !s.is_system());

    let mut long: Vec<&Session> = clients()
        .filter(|s| !s.is_sleeping() && s.time_ms >= q_ms)
        .collect();
    long.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.id.cmp(&b.id)));
    let mut idle_trx: Vec<&Session> = clients()
        .filter(|s| s.is_sleeping() && s.trx_age_ms.is_some_and(|age| age >= q_ms))
        .collect();
    idle_trx.sort_by(|a, b| b.trx_age_ms.cmp(&a.trx_age_ms).then(a.id.cmp(&b.id)));
    if long.is_empty() && idle_trx.is_empty() {
        return None;
    }
    let held = long.len() + idle_trx.len();

    let title = match long.first() {
        Some(top) => format!(
            "Statements running over {q}: {}, longest {} (#{} {})",
            long.len(),
            short_duration(top.time_ms),
            top.id,
            plain(&top.user, 16)
        ),
        None => format!(
            "Transactions open over {q} in idle sessions: {} (oldest {})",
            idle_trx.len(),
            short_duration(idle_trx.first().and_then(|s| s.trx_age_ms).unwrap_or(0))
        ),
    };

    let mut evidence = Vec::new();
    if !long.is_empty() {
        let share = if max > 0 {
            format!(
                " ({} of max_connections)",
                pct(ratio(long.len(), max as usize))
            )
        } else {
            String::new()
        };
        evidence.push(format!(
            "Sessions running a statement for at least {q}: {}{share}",
            long.len()
        ));
        for s in long.iter().take(LONG_TOP) {
            let text = match s.info.as_deref() {
                Some(info) if !info.trim().is_empty() => plain(info, QUERY_CHARS),
                _ => format!("({})", plain(&s.state, 30)),
            };
            evidence.push(format!(
                "#{} {}@{} {} {}: {text}",
                s.id,
                plain(&s.user, 24),
                plain(s.client_host(), 40),
                short_duration(s.time_ms),
                plain(&s.command, 16)
            ));
        }
    }
    if let Some(oldest) = idle_trx.first() {
        evidence.push(format!(
            "Idle sessions holding a transaction open for at least {q}: {} (oldest {}, #{}); \
             they keep their locks",
            idle_trx.len(),
            short_duration(oldest.trx_age_ms.unwrap_or(0)),
            oldest.id
        ));
    }
    match snap.variables.statement_timeout_ms {
        Some(0) => evidence.push("No statement timeout is set".to_string()),
        Some(ms) => evidence.push(format!("Statement timeout: {}", short_duration(ms))),
        None => {}
    }

    let mut fix = Vec::new();
    if let Some(top) = long.first() {
        fix.push(step(
            &format!("Stop the statements running over {q}; the connections stay"),
            None,
            Some("L"),
        ));
        fix.push(step(
            &format!(
                "Stop the longest one (#{}, {})",
                top.id,
                short_duration(top.time_ms)
            ),
            Some(format!("KILL QUERY {};", top.id)),
            None,
        ));
    }
    if let Some(oldest) = idle_trx.first() {
        fix.push(step(
            "Sessions idle in a transaction: the application must commit or roll back; \
             killing the session rolls it back",
            Some(format!("KILL CONNECTION {};", oldest.id)),
            Some("k"),
        ));
        if snap.server.flavor == Flavor::MariaDb && snap.server.at_least(10, 3, 0) {
            let secs = q_ms.div_ceil(1000).max(1);
            fix.push(step(
                &format!(
                    "Have the server close sessions idle in a transaction over {secs}s \
                     (applies to new sessions)"
                ),
                Some(format!("SET GLOBAL idle_transaction_timeout = {secs};")),
                None,
            ));
        }
    }
    let target_ms = statement_timeout_s(t).saturating_mul(1000);
    let lacks_timeout = match snap.variables.statement_timeout_ms {
        Some(0) => true,
        Some(ms) => ms > target_ms,
        None => false,
    };
    if !long.is_empty() && lacks_timeout {
        let (text, sql, _) = statement_timeout_sql(snap.server.flavor, statement_timeout_s(t));
        fix.push(step(&text, Some(sql), None));
    }

    let severity = if max > 0 && held as f64 >= LONG_CRIT_SHARE * max as f64 {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(Finding {
        kind: FindingKind::LongRunning,
        severity,
        title,
        evidence,
        fix,
    })
}

/// Statement timeout derived from the long-running threshold, in whole seconds.
fn statement_timeout_s(t: &Thresholds) -> u64 {
    millis(t.query_over).div_ceil(1000).max(1)
}

/// The statement timeout for this flavor: (advice, SQL, my.cnf line).
fn statement_timeout_sql(flavor: Flavor, secs: u64) -> (String, String, String) {
    match flavor {
        Flavor::MariaDb => (
            format!(
                "Cap statement time at {secs}s server-wide (MariaDB max_statement_time, in \
                 seconds; new sessions; keep it above your longest legitimate statement)"
            ),
            format!("SET GLOBAL max_statement_time = {secs};"),
            format!("max_statement_time = {secs}"),
        ),
        Flavor::MySql => {
            let ms = secs.saturating_mul(1000);
            (
                format!(
                    "Cap SELECT time at {secs}s server-wide (MySQL max_execution_time, in \
                     milliseconds; read-only SELECTs only, writes and DDL are not limited)"
                ),
                format!("SET GLOBAL max_execution_time = {ms};"),
                format!("max_execution_time = {ms}"),
            )
        }
    }
}

// --- pool ------------------------------------------------------------------

fn pool_rule(snap: &Snapshot, history: &History, t: &Thresholds) -> Option<Finding> {
    let samples = history.samples();
    let max = snap.variables.max_connections;
    if samples.len() < POOL_MIN_SAMPLES || max == 0 {
        return None;
    }
    let newest = samples.back()?;
    // The window: samples of the last POOL_WINDOW, walking back while time
    // goes forward.
    let mut start = samples.len() - 1;
    while start > 0 {
        let older = &samples[start - 1];
        match newest.at.duration_since(older.at) {
            Ok(age) if age <= POOL_WINDOW && older.at <= samples[start].at => start -= 1,
            _ => break,
        }
    }
    let window: Vec<&Sample> = samples.range(start..).collect();
    if window.len() < POOL_MIN_WINDOW_SAMPLES {
        return None;
    }
    let count_in = |s: &Sample, host: &str| -> u32 {
        s.per_host
            .iter()
            .find(|(h, _)| h == host)
            .map_or(0, |(_, n)| *n)
    };

    let steady: Vec<(&str, u32)> = newest
        .per_host
        .iter()
        .filter(|(_, n)| *n >= POOL_MIN_SESSIONS)
        .filter(|(host, n)| {
            let tol = POOL_STEADY * f64::from(*n);
            window
                .iter()
                .all(|s| (f64::from(count_in(s, host)) - f64::from(*n)).abs() <= tol)
        })
        .map(|(h, n)| (h.as_str(), *n))
        .collect();
    if steady.len() < 2 {
        return None;
    }
    let mut counts: Vec<f64> = steady.iter().map(|(_, n)| f64::from(*n)).collect();
    let med = median(&mut counts)?;
    let mut similar: Vec<(&str, u32)> = steady
        .into_iter()
        .filter(|(_, n)| (f64::from(*n) - med).abs() <= POOL_SIMILAR * med)
        .collect();
    if similar.len() < 2 {
        return None;
    }
    similar.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let hosts = similar.len() as u64;
    let sum: u64 = similar.iter().map(|(_, n)| u64::from(*n)).sum();
    if (sum as f64) < POOL_FILL * max as f64 {
        return None;
    }
    let avg = sum / hosts;
    let span = short_duration(newest.at.duration_since(window[0].at).map_or(0, millis));

    let title = format!(
        "{hosts} hosts hold a steady ~{avg} sessions each: {sum} of {max} slots ({})",
        pct(ratio_u64(sum, max))
    );
    let listed: Vec<String> = similar
        .iter()
        .take(POOL_LIST)
        .map(|(h, n)| format!("{} ({n})", plain(h, 40)))
        .collect();
    let more = similar.len().saturating_sub(POOL_LIST);
    let mut evidence = vec![if more > 0 {
        format!("Hosts: {}, and {more} more", listed.join(", "))
    } else {
        format!("Hosts: {}", listed.join(", "))
    }];
    evidence.push(format!(
        "Together {sum} sessions of max_connections {max} ({}); each host steady within \
         10% over the last {span}: connection pools at their size",
        pct(ratio_u64(sum, max))
    ));

    let per_instance = ((POOL_TARGET * max as f64) / hosts as f64).floor().max(1.0) as u64;
    let n = raised_limit(max, sum.max(snap.status.threads_connected));
    let fix = vec![
        step(
            &format!(
                "Size each instance's pool to at most {per_instance} connections \
                 (80% of max_connections over {hosts} hosts); more instances need smaller pools"
            ),
            None,
            None,
        ),
        step(
            &format!("Or raise max_connections to {n}"),
            Some(format!("SET GLOBAL max_connections = {n};")),
            None,
        ),
        step(
            "Keep it across restarts: my.cnf, under [mysqld]",
            Some(format!("max_connections = {n}")),
            None,
        ),
    ];

    let severity = if snap.usage() >= t.crit {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(Finding {
        kind: FindingKind::Pool,
        severity,
        title,
        evidence,
        fix,
    })
}

// --- spike -----------------------------------------------------------------

fn spike_rule(snap: &Snapshot, history: &History, t: &Thresholds) -> Option<Finding> {
    let samples = history.samples();
    if samples.len() < SPIKE_MIN_SAMPLES {
        return None;
    }
    let newest = samples.back()?;
    // Baseline: samples older than SPIKE_RECENT; the rest is "now".
    let split = samples
        .iter()
        .position(|s| {
            newest
                .at
                .duration_since(s.at)
                .map_or(true, |age| age < SPIKE_RECENT)
        })
        .unwrap_or(samples.len());
    if split < SPIKE_MIN_BASELINE || split >= samples.len() {
        return None;
    }
    let base = &samples[split - 1];
    let baseline: Vec<&Sample> = samples.range(..split).collect();
    let base_span = short_duration(newest.at.duration_since(baseline[0].at).map_or(0, millis));
    let recent = short_duration(newest.at.duration_since(base.at).map_or(0, millis));

    let baseline_rate = |counter: fn(&Sample) -> u64| -> Option<f64> {
        let mut rates: Vec<f64> = baseline
            .windows(2)
            .filter_map(|w| rate(w[0], w[1], counter))
            .collect();
        median(&mut rates)
    };
    let metric = |counter: fn(&Sample) -> u64| -> Option<(f64, f64)> {
        Some((rate(base, newest, counter)?, baseline_rate(counter)?))
    };

    let conns = metric(|s| s.connections);
    let aborted = metric(|s| s.aborted_connects);
    let mut threads_base: Vec<f64> = baseline
        .iter()
        .map(|s| s.threads_connected as f64)
        .collect();
    let threads = median(&mut threads_base).map(|b| (newest.threads_connected as f64, b));

    let conn_spike = conns.filter(|(now, b)| *now >= SPIKE_FACTOR * b && *now >= SPIKE_MIN_RATE);
    let thread_spike =
        threads.filter(|(now, b)| *now >= SPIKE_FACTOR * b && *now - b >= SPIKE_MIN_THREADS as f64);
    let aborted_spike =
        aborted.filter(|(now, b)| *now >= SPIKE_FACTOR * b && *now >= SPIKE_MIN_ABORTED);

    let title = if let Some((now, b)) = conn_spike {
        format!(
            "Connection spike: {}/s new connections vs {}/s baseline",
            fmt_rate(now),
            fmt_rate(b)
        )
    } else if let Some((now, b)) = thread_spike {
        format!("Connection spike: {now:.0} connected vs {b:.0} baseline")
    } else if let Some((now, b)) = aborted_spike {
        format!(
            "Aborted connects spike: {}/s vs {}/s baseline",
            fmt_rate(now),
            fmt_rate(b)
        )
    } else {
        return None;
    };

    let mut evidence = Vec::new();
    if let Some((now, b)) = conns {
        evidence.push(format!(
            "New connections: {}/s over the last {recent} vs {}/s baseline (median over {base_span})",
            fmt_rate(now),
            fmt_rate(b)
        ));
    }
    if let Some((now, b)) = threads {
        evidence.push(format!(
            "Threads connected: {now:.0} now vs {b:.0} baseline"
        ));
    }
    if let Some((now, b)) = aborted {
        evidence.push(format!(
            "Aborted connects: {}/s over the last {recent} vs {}/s baseline",
            fmt_rate(now),
            fmt_rate(b)
        ));
    }

    // The host that grew most since the baseline ended.
    let grower = newest
        .per_host
        .iter()
        .map(|(h, n)| {
            let before = base
                .per_host
                .iter()
                .find(|(bh, _)| bh == h)
                .map_or(0, |(_, bn)| *bn);
            (h.as_str(), n.saturating_sub(before))
        })
        .filter(|(_, g)| *g > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
    let mut fix = Vec::new();
    match grower {
        Some((host, grew)) => {
            evidence.push(format!(
                "Fastest growing host: {} (+{grew} sessions in the last {recent})",
                plain(host, 40)
            ));
            let sql = is_plain_host(host).then(|| {
                format!(
                    "SELECT user, db, command, COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE host = '{host}' OR host LIKE '{host}:%' GROUP BY user, db, command;"
                )
            });
            fix.push(step(
                &format!(
                    "Find the source: {} grew by {grew} sessions; see which account and \
                     database it opens",
                    plain(host, 40)
                ),
                sql,
                None,
            ));
        }
        None => fix.push(step(
            "Find the source: group the sessions by host and look for the one that grew",
            None,
            None,
        )),
    }
    fix.push(step(
        "Check for an application deploy or restart, or a retry storm (clients that \
         reconnect in a loop without backoff)",
        None,
        None,
    ));
    fix.push(step(
        "Failed handshakes count toward max_connect_errors; past it a host is blocked \
         (ERROR 1129) until FLUSH HOSTS",
        Some("SHOW GLOBAL VARIABLES LIKE 'max_connect_errors';".to_string()),
        None,
    ));
    fix.push(step(
        "Watch failed connection attempts",
        Some("SHOW GLOBAL STATUS LIKE 'Aborted_connects';".to_string()),
        None,
    ));

    let severity = if snap.usage() >= t.crit {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(Finding {
        kind: FindingKind::Spike,
        severity,
        title,
        evidence,
        fix,
    })
}

/// A host name or IPv4 address safe to put into a quoted SQL literal.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

// --- timeouts --------------------------------------------------------------

fn timeouts_rule(snap: &Snapshot, t: &Thresholds, leak_wait: Option<u64>) -> Option<Finding> {
    let v = &snap.variables;
    let flavor = snap.server.flavor;
    let wait_lax = v.wait_timeout > TIMEOUT_MAX_S;
    let interactive_lax = v.interactive_timeout > TIMEOUT_MAX_S;
    let no_statement_timeout = v.statement_timeout_ms == Some(0);
    let slow_off = v.slow_query_log == Some(false);
    if !(wait_lax || interactive_lax || no_statement_timeout || slow_off) {
        return None;
    }
    let timeout_var = match flavor {
        Flavor::MariaDb => "max_statement_time",
        Flavor::MySql => "max_execution_time",
    };
    let w = leak_wait.unwrap_or(TIMEOUT_MAX_S);
    let secs = statement_timeout_s(t);
    let (st_text, st_sql, st_cnf) = statement_timeout_sql(flavor, secs);

    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    let mut fix = Vec::new();
    let mut cnf = Vec::new();
    if wait_lax {
        let d = short_duration(v.wait_timeout.saturating_mul(1000));
        parts.push(format!("wait {d}"));
        evidence.push(format!(
            "wait_timeout = {}s: an abandoned connection holds its slot for {d}",
            v.wait_timeout
        ));
        fix.push(step(
            &format!("Close abandoned connections after {w}s (applies to new sessions)"),
            Some(format!("SET GLOBAL wait_timeout = {w};")),
            None,
        ));
        cnf.push(format!("wait_timeout = {w}"));
    }
    if interactive_lax {
        let d = short_duration(v.interactive_timeout.saturating_mul(1000));
        parts.push(format!("interactive {d}"));
        evidence.push(format!(
            "interactive_timeout = {}s: interactive clients (the mysql shell) keep their slot for {d}",
            v.interactive_timeout
        ));
        fix.push(step(
            &format!("Close abandoned interactive sessions after {w}s"),
            Some(format!("SET GLOBAL interactive_timeout = {w};")),
            None,
        ));
        cnf.push(format!("interactive_timeout = {w}"));
    }
    if no_statement_timeout {
        parts.push("no statement limit".to_string());
        evidence.push(format!(
            "{timeout_var} = 0: a runaway statement holds its slot until it is killed"
        ));
        fix.push(step(&st_text, Some(st_sql), None));
        cnf.push(st_cnf);
    }
    if slow_off {
        parts.push("slow log off".to_string());
        evidence.push("slow_query_log is OFF: long statements leave no trace".to_string());
        fix.push(step(
            "Record slow statements",
            Some("SET GLOBAL slow_query_log = ON;".to_string()),
            None,
        ));
        cnf.push("slow_query_log = ON".to_string());
    }
    for line in cnf {
        fix.push(step(
            "Keep it across restarts: my.cnf, under [mysqld]",
            Some(line),
            None,
        ));
    }

    Some(Finding {
        kind: FindingKind::Timeouts,
        severity: if leak_wait.is_some() {
            Severity::Warning
        } else {
            Severity::Info
        },
        title: format!("Lax timeouts: {}", parts.join(", ")),
        evidence,
        fix,
    })
}

// --- helpers ---------------------------------------------------------------

fn step(text: &str, sql: Option<String>, key: Option<&str>) -> FixStep {
    FixStep {
        text: text.to_string(),
        sql,
        key: key.map(str::to_string),
    }
}

/// `x` rounded up to a multiple of 10; 0 for anything not positive.
fn ceil10(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        // `as` saturates at u64::MAX.
        ((x / 10.0).ceil() * 10.0) as u64
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn ratio_u64(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1024.0 * 1024.0);
    if m < 10.0 {
        format!("{m:.1} MiB")
    } else {
        format!("{m:.0} MiB")
    }
}

fn fmt_rate(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// Median of finite values; `None` when empty. Reorders `v`.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::history::Sample;
    use crate::snapshot::{Privileges, ServerInfo, Status};

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
                locks: Default::default(),
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
                    blocked_by: Vec::new(),
                    wait: None,
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
        f.fix.iter().filter_map(|s| s.key.as_deref()).collect()
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
        assert_eq!(h.fix[0].key.as_deref(), Some("I"));
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
                    s.status.connection_errors_max_connections =
                        10 + 3 * (i as u64).saturating_sub(25);
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
                s.sessions[1].info = Some("SELECT *\nFROM orders\tWHERE created_at < NOW() AND status = 'open' ORDER BY id".into());
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
}
