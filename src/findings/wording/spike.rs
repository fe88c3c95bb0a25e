//! The `spike` finding's words.

use super::*;

/// A host name or IPv4 address safe to put into a quoted SQL literal.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

pub(in crate::findings) fn spike(s: &Spike) -> Finding {
    let recent = short_ms(s.recent_ms);
    let baseline = short_ms(s.baseline_ms);
    let th = &s.threads;
    let per_s = |n: u64| rate(n as f64 / (s.recent_ms.max(1) as f64 / 1000.0));
    let title = match (s.trigger, s.new, s.failed) {
        (Trigger::NewConnections, Some(c), _) => format!(
            "Connection spike: {} in {recent} ({}/s, baseline {}/s)",
            count(c.rise, "new connection", "new connections"),
            per_s(c.rise),
            rate(c.base_rate)
        ),
        (Trigger::Failed, _, Some(c)) => format!(
            "Failed connects spike: {} aborted or refused in {recent} (baseline {}/s)",
            c.rise,
            rate(c.base_rate)
        ),
        _ => format!(
            "Connection spike: {} connected, +{} in {recent} (baseline {:.0})",
            th.peak,
            th.peak.saturating_sub(th.before),
            th.level
        ),
    };

    let ramp = if th.trend >= 1.0 {
        format!(", which itself grows by {:.0} per {recent}", th.trend)
    } else {
        String::new()
    };
    let mut evidence = vec![format!(
        "Threads connected: {} at the peak of the last {recent}, {} before; baseline {:.0} \
         ({:.0}th percentile over {baseline}){ramp}",
        th.peak,
        th.before,
        th.level,
        SPIKE_LEVEL_QUANTILE * 100.0
    )];
    if let Some(c) = s.new {
        evidence.push(format!(
            "New connections: {} in the last {recent} ({}/s) vs {}/s baseline (average over \
             {baseline})",
            c.rise,
            per_s(c.rise),
            rate(c.base_rate)
        ));
    }
    if let Some(c) = s.failed {
        evidence.push(format!(
            "Failed connects (aborted or refused): {} in the last {recent}, {} of them refused \
             with 1040 (MariaDB counts a refusal at the last, SUPER-only slot as aborted) vs \
             {}/s baseline",
            c.rise,
            s.refused,
            rate(c.base_rate)
        ));
    }

    let mut fix = Fix::default();
    match s.grower {
        Some((host, grew)) => {
            let name = plain(host, HOST_CHARS);
            let sessions = count(grew, "session", "sessions");
            evidence.push(format!(
                "Fastest growing host: {name} (+{sessions} in the last {recent})"
            ));
            let find = step(format!(
                "Find the source: {name} grew by {sessions}; see which account and database \
                 it opens"
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
        fix: fix.finish(),
        subject: String::new(),
    }
}
