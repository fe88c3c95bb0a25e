//! The `leak` finding's words.

use super::*;

pub(in crate::findings) fn leak(l: &Leak, wait: &WaitTimeout) -> Finding {
    let idle = short_ms(l.idle_ms);
    // Name the host only when every counted session comes from it.
    let who = match l.hosts.as_slice() {
        [(host, _)] => plain(&format!("{}@{host}", l.user), 28),
        _ => plain(l.user, 28),
    };
    let sessions = count(l.stale, "session", "sessions");
    let title = format!(
        "{sessions} of {who} idle over {idle} (oldest {})",
        short_ms(l.oldest_ms)
    );

    let mut evidence = Vec::new();
    if l.own_sessions_only {
        evidence.push(
            "Own sessions only: without the PROCESS privilege the server lists only this \
             account's sessions; other accounts' are not counted"
                .to_string(),
        );
    }
    let from = match l.hosts.len() {
        1 => String::new(),
        n => format!(", from {n} hosts"),
    };
    evidence.push(format!(
        "{sessions} of {who} in Sleep for at least {idle} outside a transaction{from}: {} of \
         the {} used {}",
        pct(ratio(l.stale, l.used)),
        l.used,
        agree(l.used, "slot", "slots")
    ));
    if l.max > 0 {
        evidence.push(format!(
            "{} {} of max_connections ({})",
            agree(l.stale, "It holds", "They hold"),
            pct(ratio_u64(l.stale as u64, l.max)),
            l.max
        ));
    }
    evidence.push(hosts_line(&l.hosts, LEAK_TOP_HOSTS));
    let mut others = vec![
        count(l.active, "active session", "active sessions"),
        format!("{} idle under {idle}", l.recent),
    ];
    if l.in_trx > 0 {
        others.push(format!(
            "{} idle in an open transaction (stuck, not leaked: {} locks)",
            l.in_trx,
            agree(l.in_trx, "it holds", "they hold")
        ));
    }
    evidence.push(format!(
        "Oldest idle: {}; the account also has {}",
        short_ms(l.oldest_ms),
        list(&others)
    ));
    let server_wait = l.wait_timeout;
    if server_wait > 0 {
        evidence.push(format!(
            "wait_timeout is {server_wait}s: the server closes an idle session only after {}",
            secs(server_wait)
        ));
    }

    let mut fix = Fix::default();
    fix.push(step(
        "The application must close connections (usual cause: error paths that skip \
         close(), or a pool with no idle timeout)",
    ));
    let others = l.idle_all.saturating_sub(l.stale);
    let kill = if others == 0 {
        format!(
            "Kill them now: the preview lists every session idle over {idle}, here just these {}",
            l.stale
        )
    } else {
        let trx = if l.idle_all_in_trx > 0 {
            format!(
                "; {} in an open transaction, which killing rolls back",
                l.idle_all_in_trx
            )
        } else {
            String::new()
        };
        format!(
            "Kill them now: the preview lists every session idle over {idle}, {} here: these \
             {} and {others} other{}{trx}",
            l.idle_all,
            l.stale,
            agree(others, "", "s")
        )
    };
    fix.push(step(kill).action(Action::KillIdle));
    if server_wait > 0 && server_wait <= wait.secs {
        if l.oldest_ms > server_wait.saturating_mul(1000) {
            fix.push(step(format!(
                "wait_timeout is already {server_wait}s, yet these sessions idle longer: the \
                 client raises it per session (SET SESSION wait_timeout); remove that from its \
                 connection settings"
            )));
        }
    } else {
        wait.set(&mut fix, "Have the server close idle sessions");
    }
    Finding {
        kind: FindingKind::Leak,
        severity: l.severity,
        title,
        evidence,
        fix: fix.finish(),
        subject: l.user.to_string(),
    }
}
