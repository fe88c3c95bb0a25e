//! The `timeouts` finding's words.

use super::*;

pub(in crate::findings) fn timeouts(x: &Timeouts) -> Finding {
    let advice = &x.advice;
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    let mut fix = Fix::default();
    if let Some(wait) = x.wait {
        let d = secs(wait);
        parts.push(format!("wait {d}"));
        evidence.push(format!(
            "wait_timeout = {wait}s: an abandoned connection holds its slot for {d}"
        ));
        advice.set(&mut fix, "Close abandoned connections");
    }
    if let Some(interactive) = x.interactive {
        let d = secs(interactive);
        let i = advice.interactive_secs;
        parts.push(format!("interactive {d}"));
        evidence.push(format!(
            "interactive_timeout = {interactive}s: interactive clients (the mysql shell) keep \
             their slot for {d}"
        ));
        fix.set_global(
            format!(
                "Close abandoned interactive sessions after {} (the mysql shell reconnects by \
                 itself, losing its session variables and temporary tables)",
                secs(i)
            ),
            format!("interactive_timeout = {i}"),
        );
    }
    if x.no_statement_timeout {
        parts.push("no statement limit".to_string());
        evidence.push(format!(
            "{} = 0: a runaway statement holds its slot until it is killed",
            x.statement_timeout.variable()
        ));
        x.statement_timeout.set(&mut fix);
    }
    if x.slow_log_off {
        parts.push("slow log off".to_string());
        evidence.push("slow_query_log is OFF: long statements leave no trace".to_string());
        fix.set_global("Record slow statements", "slow_query_log = ON".to_string());
    }
    Finding {
        kind: FindingKind::Timeouts,
        severity: x.severity,
        title: format!("Lax timeouts: {}", parts.join(", ")),
        evidence,
        fix: fix.finish(),
        subject: String::new(),
    }
}
