//! The words: each rule's evidence becomes a [`Finding`] here, its numbers
//! taken from the evidence and the rules' constants, never typed twice.

use std::fmt::Display;

use super::fixes::{keep_in_my_cnf, set_global, step};
use super::headroom::{Cause, Headroom};
use super::leak::Leak;
use super::long_running::LongRunning;
use super::pool::{POOL_STEADY, POOL_TARGET, Pools};
use super::spike::{Spike, Trigger};
use super::timeouts::Timeouts;
use super::units::{pct, rate, ratio, ratio_u64};
use super::{Finding, FindingKind, FixStep};
use crate::action::Action;
use crate::snapshot::Session;
use crate::text::plain;
use crate::text::short_ms;

/// Name `user@host` when this share of a leak comes from one host.
const LEAK_CONCENTRATED: f64 = 0.8;
/// Hosts listed in the leak evidence.
const LEAK_TOP_HOSTS: usize = 3;
/// Statements listed in the long-running evidence.
const LONG_TOP: usize = 3;
/// Query text shown per statement, in characters.
const QUERY_CHARS: usize = 60;
/// Hosts listed in the pool evidence.
const POOL_LIST: usize = 8;
/// Characters of a host name in evidence.
const HOST_CHARS: usize = 40;

/// `Hosts: a (3), b (2), and 4 more`: the first `shown` of `hosts`.
fn hosts_line<N: Display>(hosts: &[(&str, N)], shown: usize) -> String {
    let listed: Vec<String> = hosts
        .iter()
        .take(shown)
        .map(|(h, n)| format!("{} ({n})", plain(h, HOST_CHARS)))
        .collect();
    let more = hosts.len().saturating_sub(shown);
    if more > 0 {
        format!("Hosts: {}, and {more} more", listed.join(", "))
    } else {
        format!("Hosts: {}", listed.join(", "))
    }
}

/// A duration in whole seconds, short (`8h`, `6m40s`).
fn secs(s: u64) -> String {
    short_ms(s.saturating_mul(1000))
}

pub(super) fn leak(l: &Leak) -> Finding {
    let idle = short_ms(l.idle_ms);
    let concentrated = l
        .hosts
        .first()
        .filter(|(_, n)| ratio(*n, l.stale) >= LEAK_CONCENTRATED);
    let who = match concentrated {
        Some((host, _)) => plain(&format!("{}@{host}", l.user), 28),
        None => plain(l.user, 28),
    };
    let title = format!(
        "{} sessions of {who} idle over {idle} (oldest {})",
        l.stale,
        short_ms(l.oldest_ms)
    );

    let mut evidence = vec![format!(
        "{} sessions of {who} in Sleep for at least {idle}: {} of the {} used slots",
        l.stale,
        pct(ratio(l.stale, l.used)),
        l.used
    )];
    if l.max > 0 {
        evidence.push(format!(
            "They hold {} of max_connections ({})",
            pct(ratio_u64(l.stale as u64, l.max)),
            l.max
        ));
    }
    evidence.push(hosts_line(&l.hosts, LEAK_TOP_HOSTS));
    evidence.push(format!(
        "Oldest idle: {}; the user also has {} active and {} recently idle sessions",
        short_ms(l.oldest_ms),
        l.active,
        l.recent
    ));
    let wait = l.wait_timeout;
    if wait > 0 {
        evidence.push(format!(
            "wait_timeout is {wait}s: the server closes an idle session only after {}",
            secs(wait)
        ));
    }

    let n = l.advised_wait;
    let mut fix = vec![
        step(
            "The application must close connections (usual cause: error paths that skip \
             close(), or a pool with no idle timeout)",
        ),
        step(format!(
            "Kill the sessions idle over {idle} now ({} of them are {who})",
            l.stale
        ))
        .action(Action::KillIdle),
    ];
    if wait > 0 && wait <= n {
        fix.push(step(format!(
            "wait_timeout is already {wait}s: the client raises it per session \
             (SET SESSION wait_timeout); remove that from its connection settings"
        )));
    } else {
        fix.push(set_global(
            format!("Have the server close sessions idle over {n}s (applies to new sessions)"),
            &format!("wait_timeout = {n}"),
        ));
        fix.push(keep_in_my_cnf(format!("wait_timeout = {n}")));
    }
    Finding {
        kind: FindingKind::Leak,
        severity: l.severity,
        title,
        evidence,
        fix,
    }
}

pub(super) fn headroom(h: &Headroom) -> Finding {
    let max = h.max;
    let span = short_ms(h.span_ms);
    let used_share = pct(ratio_u64(h.max_used, max));
    let title = match h.cause {
        Cause::Refused => {
            let connected = if max > 0 {
                format!("{}/{max}", h.connected)
            } else {
                h.connected.to_string()
            };
            format!(
                "Clients refused (1040) in the last {span}: {}; {connected} connected",
                h.refused_recent
            )
        }
        Cause::Near => format!(
            "Connections at {}/{max} ({}) of max_connections",
            h.connected,
            pct(h.usage)
        ),
        Cause::WasFull => format!(
            "Max used reached {}/{max} ({used_share}) since the server started",
            h.max_used
        ),
    };

    let mut evidence = Vec::new();
    if max > 0 {
        evidence.push(format!(
            "Connected: {} of max_connections {max} ({}); {} running",
            h.connected,
            pct(h.usage),
            h.running
        ));
        evidence.push(format!(
            "Max used since start: {} ({used_share})",
            h.max_used
        ));
    } else {
        evidence.push(format!(
            "Connected: {} (max_connections unknown); max used since start: {}",
            h.connected, h.max_used
        ));
    }
    evidence.push(format!(
        "Refused with ERROR 1040: {} since start, {} in the last {span}",
        h.refused_total, h.refused_recent
    ));
    if h.leaked > 0 {
        evidence.push(format!(
            "{} of the connected sessions are leaked idle sessions (see the leak finding)",
            h.leaked
        ));
    }

    let mut fix = Vec::new();
    if h.leaked > 0 {
        fix.push(
            step(format!(
                "Raising the limit only buys time while {} leaked idle sessions hold \
                 slots: fix the leak first, kill them now",
                h.leaked
            ))
            .action(Action::KillIdle),
        );
    }
    fix.extend(h.raise.set(format!(
        "Raise the limit to {} now (no restart needed)",
        h.raise.to
    )));
    fix.extend(h.raise.costs());
    Finding {
        kind: FindingKind::Headroom,
        severity: h.severity,
        title,
        evidence,
        fix,
    }
}

/// One evidence line per long statement: id, account, time, command, text.
fn statement_line(s: &Session) -> String {
    let text = match s.info.as_deref() {
        Some(info) if !info.trim().is_empty() => plain(info, QUERY_CHARS),
        _ => format!("({})", plain(&s.state, 30)),
    };
    format!(
        "#{} {}@{} {} {}: {text}",
        s.id,
        plain(&s.user, 24),
        plain(s.client_host(), HOST_CHARS),
        short_ms(s.time_ms),
        plain(&s.command, 16)
    )
}

pub(super) fn long_running(l: &LongRunning) -> Finding {
    let q = short_ms(l.threshold_ms);
    let trx_age = |s: &Session| short_ms(s.trx_age_ms.unwrap_or(0));
    let title = match (l.statements.first(), l.idle_trx.first()) {
        (Some(top), _) => format!(
            "Statements running over {q}: {}, longest {} (#{} {})",
            l.statements.len(),
            short_ms(top.time_ms),
            top.id,
            plain(&top.user, 16)
        ),
        (None, oldest) => format!(
            "Transactions open over {q} in idle sessions: {} (oldest {})",
            l.idle_trx.len(),
            oldest.map_or_else(|| short_ms(0), |s| trx_age(s))
        ),
    };

    let mut evidence = Vec::new();
    if !l.statements.is_empty() {
        let share = if l.max > 0 {
            format!(
                " ({} of max_connections)",
                pct(ratio_u64(l.statements.len() as u64, l.max))
            )
        } else {
            String::new()
        };
        evidence.push(format!(
            "Sessions running a statement for at least {q}: {}{share}",
            l.statements.len()
        ));
        evidence.extend(
            l.statements
                .iter()
                .take(LONG_TOP)
                .map(|s| statement_line(s)),
        );
    }
    if let Some(oldest) = l.idle_trx.first() {
        evidence.push(format!(
            "Idle sessions holding a transaction open for at least {q}: {} (oldest {}, #{}); \
             they keep their locks",
            l.idle_trx.len(),
            trx_age(oldest),
            oldest.id
        ));
    }
    match l.statement_timeout_ms {
        Some(0) => evidence.push("No statement timeout is set".to_string()),
        Some(ms) => evidence.push(format!("Statement timeout: {}", short_ms(ms))),
        None => {}
    }

    let mut fix = Vec::new();
    if let Some(top) = l.statements.first() {
        fix.push(
            step(format!(
                "Stop the statements running over {q}; the connections stay"
            ))
            .action(Action::KillLong),
        );
        fix.push(
            step(format!(
                "Stop the longest one (#{}, {})",
                top.id,
                short_ms(top.time_ms)
            ))
            .sql(format!("KILL QUERY {};", top.id)),
        );
    }
    if let Some(oldest) = l.idle_trx.first() {
        fix.push(
            step(
                "Sessions idle in a transaction: the application must commit or roll back; \
                 killing the session rolls it back",
            )
            .sql(format!("KILL CONNECTION {};", oldest.id))
            .action(Action::KillConnection),
        );
        if l.has_idle_trx_timeout {
            let secs = l.threshold_ms.div_ceil(1000).max(1);
            fix.push(set_global(
                format!(
                    "Have the server close sessions idle in a transaction over {secs}s \
                     (applies to new sessions)"
                ),
                &format!("idle_transaction_timeout = {secs}"),
            ));
        }
    }
    if let Some(timeout) = &l.advised_timeout {
        fix.push(timeout.set());
    }
    Finding {
        kind: FindingKind::LongRunning,
        severity: l.severity,
        title,
        evidence,
        fix,
    }
}

pub(super) fn pool(p: &Pools) -> Finding {
    let hosts = p.hosts.len();
    let avg = p.sum / hosts.max(1) as u64;
    let share = pct(ratio_u64(p.sum, p.max));
    let title = format!(
        "{hosts} hosts hold a steady ~{avg} sessions each: {} of {} slots ({share})",
        p.sum, p.max
    );
    let evidence = vec![
        hosts_line(&p.hosts, POOL_LIST),
        format!(
            "Together {} sessions of max_connections {} ({share}); each host steady within \
             {} over the last {}: connection pools at their size",
            p.sum,
            p.max,
            pct(POOL_STEADY),
            short_ms(p.span_ms)
        ),
    ];
    let mut fix = vec![step(format!(
        "Size each instance's pool to at most {} connections ({} of max_connections over \
         {hosts} hosts); more instances need smaller pools",
        p.per_instance,
        pct(POOL_TARGET)
    ))];
    fix.extend(
        p.raise
            .set(format!("Or raise max_connections to {}", p.raise.to)),
    );
    Finding {
        kind: FindingKind::Pool,
        severity: p.severity,
        title,
        evidence,
        fix,
    }
}

/// A host name or IPv4 address safe to put into a quoted SQL literal.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

pub(super) fn spike(s: &Spike) -> Finding {
    let recent = short_ms(s.recent_ms);
    let title = match s.trigger {
        Trigger::Rate => s.rate.map(|m| {
            format!(
                "Connection spike: {}/s new connections vs {}/s baseline",
                rate(m.now),
                rate(m.base)
            )
        }),
        Trigger::Threads => s.threads.map(|m| {
            format!(
                "Connection spike: {:.0} connected vs {:.0} baseline",
                m.now, m.base
            )
        }),
        Trigger::Aborted => s.aborted.map(|m| {
            format!(
                "Aborted connects spike: {}/s vs {}/s baseline",
                rate(m.now),
                rate(m.base)
            )
        }),
    }
    .unwrap_or_else(|| "Connection spike".to_string());

    let mut evidence = Vec::new();
    if let Some(m) = s.rate {
        evidence.push(format!(
            "New connections: {}/s over the last {recent} vs {}/s baseline (median over {})",
            rate(m.now),
            rate(m.base),
            short_ms(s.baseline_ms)
        ));
    }
    if let Some(m) = s.threads {
        evidence.push(format!(
            "Threads connected: {:.0} now vs {:.0} baseline",
            m.now, m.base
        ));
    }
    if let Some(m) = s.aborted {
        evidence.push(format!(
            "Aborted connects: {}/s over the last {recent} vs {}/s baseline",
            rate(m.now),
            rate(m.base)
        ));
    }

    let mut fix = Vec::new();
    match s.grower {
        Some((host, grew)) => {
            let name = plain(host, HOST_CHARS);
            evidence.push(format!(
                "Fastest growing host: {name} (+{grew} sessions in the last {recent})"
            ));
            let find = step(format!(
                "Find the source: {name} grew by {grew} sessions; see which account and \
                 database it opens"
            ));
            fix.push(if is_plain_host(host) {
                find.sql(format!(
                    "SELECT user, db, command, COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE host = '{host}' OR host LIKE '{host}:%' GROUP BY user, db, command;"
                ))
            } else {
                find
            });
        }
        None => fix.push(step(
            "Find the source: group the sessions by host and look for the one that grew",
        )),
    }
    fix.push(step(
        "Check for an application deploy or restart, or a retry storm (clients that \
         reconnect in a loop without backoff)",
    ));
    fix.push(
        step(
            "Failed handshakes count toward max_connect_errors; past it a host is blocked \
             (ERROR 1129) until FLUSH HOSTS",
        )
        .sql("SHOW GLOBAL VARIABLES LIKE 'max_connect_errors';"),
    );
    fix.push(
        step("Watch failed connection attempts").sql("SHOW GLOBAL STATUS LIKE 'Aborted_connects';"),
    );
    Finding {
        kind: FindingKind::Spike,
        severity: s.severity,
        title,
        evidence,
        fix,
    }
}

pub(super) fn timeouts(x: &Timeouts) -> Finding {
    let w = x.advised_wait;
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    let mut fix: Vec<FixStep> = Vec::new();
    let mut cnf = Vec::new();
    if let Some(wait) = x.wait {
        let d = secs(wait);
        parts.push(format!("wait {d}"));
        evidence.push(format!(
            "wait_timeout = {wait}s: an abandoned connection holds its slot for {d}"
        ));
        fix.push(set_global(
            format!("Close abandoned connections after {w}s (applies to new sessions)"),
            &format!("wait_timeout = {w}"),
        ));
        cnf.push(format!("wait_timeout = {w}"));
    }
    if let Some(interactive) = x.interactive {
        let d = secs(interactive);
        parts.push(format!("interactive {d}"));
        evidence.push(format!(
            "interactive_timeout = {interactive}s: interactive clients (the mysql shell) keep \
             their slot for {d}"
        ));
        fix.push(set_global(
            format!("Close abandoned interactive sessions after {w}s"),
            &format!("interactive_timeout = {w}"),
        ));
        cnf.push(format!("interactive_timeout = {w}"));
    }
    if x.no_statement_timeout {
        parts.push("no statement limit".to_string());
        evidence.push(format!(
            "{} = 0: a runaway statement holds its slot until it is killed",
            x.statement_timeout.variable()
        ));
        fix.push(x.statement_timeout.set());
        cnf.push(x.statement_timeout.setting());
    }
    if x.slow_log_off {
        parts.push("slow log off".to_string());
        evidence.push("slow_query_log is OFF: long statements leave no trace".to_string());
        fix.push(set_global("Record slow statements", "slow_query_log = ON"));
        cnf.push("slow_query_log = ON".to_string());
    }
    fix.extend(cnf.into_iter().map(keep_in_my_cnf));
    Finding {
        kind: FindingKind::Timeouts,
        severity: x.severity,
        title: format!("Lax timeouts: {}", parts.join(", ")),
        evidence,
        fix,
    }
}
