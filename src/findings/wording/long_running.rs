//! The `long_running` finding's words.

use super::*;

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
        crate::text::session_time(s.time_ms),
        plain(&s.command, 16)
    )
}

pub(in crate::findings) fn long_running(l: &LongRunning) -> Finding {
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
        let more = l.statements.len().saturating_sub(LONG_TOP);
        if more > 0 {
            evidence.push(format!("… {more} more"));
        }
    }
    if let Some(oldest) = l.idle_trx.first() {
        evidence.push(format!(
            "Idle sessions holding a transaction open for at least {q}: {} (oldest {}, #{}); \
             {}",
            l.idle_trx.len(),
            trx_age(oldest),
            oldest.id,
            agree(
                l.idle_trx.len(),
                "it keeps its locks",
                "they keep their locks"
            )
        ));
    }
    match l.statement_timeout_ms {
        Some(0) => evidence.push("No statement timeout is set".to_string()),
        Some(ms) => evidence.push(format!("Statement timeout: {}", short_ms(ms))),
        None => {}
    }

    let mut fix = Fix::default();
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
            fix.set_global(
                format!(
                    "Have the server close sessions idle in a transaction over {secs}s \
                     (applies to new sessions)"
                ),
                format!("idle_transaction_timeout = {secs}"),
            );
        }
    }
    if let Some(timeout) = &l.advised_timeout {
        timeout.set(&mut fix);
    }
    Finding {
        kind: FindingKind::LongRunning,
        severity: l.severity,
        title,
        evidence,
        fix: fix.finish(),
        subject: String::new(),
    }
}
