//! The `pool` finding's words.

use super::*;

pub(in crate::findings) fn pool(p: &Pools) -> Finding {
    let hosts = p.hosts.len();
    let avg = p.sum / hosts.max(1) as u64;
    let share = pct(ratio_u64(p.sum, p.max));
    let title = format!(
        "{} hold a steady ~{} each: {} of {} slots ({share})",
        count(hosts, "host", "hosts"),
        count(avg, "session", "sessions"),
        p.sum,
        p.max
    );
    let evidence = vec![
        hosts_line(&p.hosts, POOL_LIST),
        format!(
            "Together {} of max_connections {} ({share}); each host steady within {} over \
             the last {}: connection pools at their size",
            count(p.sum, "session", "sessions"),
            p.max,
            pct(POOL_STEADY),
            short_ms(p.span_ms)
        ),
    ];
    let mut fix = Fix::default();
    fix.push(step(format!(
        "Size each instance's pool to at most {} ({} of max_connections over {hosts} hosts); \
         more instances need smaller pools",
        count(p.per_instance, "connection", "connections"),
        pct(POOL_TARGET)
    )));
    p.raise.set(
        &mut fix,
        format!("Or raise max_connections to {}", p.raise.to),
    );
    for s in p.raise.costs() {
        fix.push(s);
    }
    Finding {
        kind: FindingKind::Pool,
        severity: p.severity,
        title,
        evidence,
        fix: fix.finish(),
        subject: String::new(),
    }
}
