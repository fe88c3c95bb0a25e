//! The `headroom` finding's words.

use super::*;

pub(in crate::findings) fn headroom(h: &Headroom) -> Finding {
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
            "{} of the connected sessions {} (see the leak finding)",
            h.leaked,
            agree(
                h.leaked,
                "is a leaked idle session",
                "are leaked idle sessions"
            )
        ));
    }

    let mut fix = Fix::default();
    if h.leaked > 0 {
        fix.push(
            step(format!(
                "Raising the limit only buys time while {} slots: fix the leak first, kill \
                 {} now",
                count(
                    h.leaked,
                    "leaked idle session holds",
                    "leaked idle sessions hold"
                ),
                agree(h.leaked, "it", "them")
            ))
            .action(Action::KillIdle),
        );
    }
    h.raise.set(
        &mut fix,
        format!("Raise the limit to {} now (no restart needed)", h.raise.to),
    );
    for s in h.raise.costs() {
        fix.push(s);
    }
    Finding {
        kind: FindingKind::Headroom,
        severity: h.severity,
        title,
        evidence,
        fix: fix.finish(),
        subject: String::new(),
    }
}
