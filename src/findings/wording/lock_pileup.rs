//! The `lock_pileup` finding's words.

use super::*;
use crate::findings::lock_pileup::LockPileup;
use crate::snapshot::Flavor;

/// Characters of a statement in the chain.
const CHAIN_QUERY_CHARS: usize = 40;
/// Other roots named in the evidence.
const OTHER_ROOTS: usize = 3;
/// A DDL's lock wait, advised: it gives up instead of queueing everyone.
const DDL_LOCK_WAIT_S: u64 = 5;
/// innodb_lock_wait_timeout, advised (the default is 50 s).
const ROW_LOCK_WAIT_S: u64 = 10;

/// `#12 SELECT COUNT(*) FROM t (1m)`, or `#9 (idle in a transaction 4m)`.
fn link(s: &Session) -> String {
    match s.info.as_deref().filter(|i| !i.trim().is_empty()) {
        Some(info) if !s.is_sleeping() => format!(
            "#{} {} ({})",
            s.id,
            plain(info, CHAIN_QUERY_CHARS),
            crate::text::session_time(s.time_ms)
        ),
        _ => match s.trx_age_ms {
            Some(age) if s.is_sleeping() => {
                format!("#{} (idle in a transaction open {})", s.id, short_ms(age))
            }
            _ => format!(
                "#{} ({} {})",
                s.id,
                plain(&s.command, 16),
                crate::text::session_time(s.time_ms)
            ),
        },
    }
}

pub(in crate::findings) fn lock_pileup(p: &LockPileup) -> Finding {
    let root = p.root;
    let holds = root
        .holds
        .first()
        .map(|h| plain(&h.describe(), 40))
        .unwrap_or_else(|| "a lock".to_string());
    let who = match p.session {
        Some(s) => format!(
            "#{} {}@{}",
            root.id,
            plain(&s.user, 12),
            plain(s.client_host(), 20)
        ),
        None => format!("#{}", root.id),
    };
    let title = plain(
        &format!(
            "{} {} on {who}: {holds}",
            count(root.total, "session", "sessions"),
            agree(root.total, "waits", "wait")
        ),
        75,
    );

    let mut evidence = Vec::new();
    let what = match p.session {
        Some(s) => {
            let mut t = format!(
                "Root #{} {}@{}: {} for {}",
                s.id,
                plain(&s.user, 24),
                plain(s.client_host(), HOST_CHARS),
                plain(&s.command, 16),
                crate::text::session_time(s.time_ms)
            );
            if let Some(age) = s.trx_age_ms {
                t.push_str(&format!(", transaction open {}", short_ms(age)));
            }
            if let Some(info) = s.info.as_deref().filter(|i| !i.trim().is_empty()) {
                t.push_str(&format!(", running {}", plain(info, QUERY_CHARS)));
            }
            t
        }
        None => format!("Root #{}: not in the processlist", root.id),
    };
    let held: Vec<String> = root.holds.iter().map(|h| h.describe()).collect();
    evidence.push(if held.is_empty() {
        what
    } else {
        format!("{what}; holds {}", list(&held))
    });
    let share = if p.connected > 0 {
        format!(
            " ({} of connected)",
            pct(ratio_u64(root.total as u64, p.connected))
        )
    } else {
        String::new()
    };
    evidence.push(format!(
        "Waiting on it: {}, {} directly{share}; longest wait {}",
        count(root.total, "session", "sessions"),
        root.direct,
        short_ms(p.longest_wait_ms)
    ));
    if !p.chain.is_empty() {
        let mut links: Vec<String> = p.chain.iter().map(|s| link(s)).collect();
        links.push(p.session.map_or_else(|| format!("#{}", root.id), link));
        evidence.push(format!("Chain: {}", links.join(" → ")));
    }
    if !p.why.is_empty() {
        let how = if root.certain {
            "certain"
        } else {
            "not certain"
        };
        evidence.push(format!("How it is known ({how}): {}", plain(&p.why, 200)));
    }
    if !p.others.is_empty() {
        let named: Vec<String> = p
            .others
            .iter()
            .take(OTHER_ROOTS)
            .map(|r| format!("#{} ({})", r.id, r.total))
            .collect();
        let more = p.others.len().saturating_sub(OTHER_ROOTS);
        evidence.push(format!(
            "Other roots: {}{}",
            named.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        ));
    }

    let mut fix = Fix::default();
    let rollback = if p.session.is_some_and(|s| s.trx_age_ms.is_some()) {
        "its transaction rolls back"
    } else {
        "its locks are released"
    };
    fix.push(
        step(format!(
            "Kill the root #{}: its connection closes and {rollback}; the {} waiting on it go on",
            root.id,
            count(root.total, "session", "sessions")
        ))
        .sql(format!("KILL CONNECTION {};", root.id))
        .action(Action::KillBlocker),
    );
    if let Some(s) = p
        .session
        .filter(|s| !s.is_sleeping() && s.trx_age_ms.is_none())
    {
        fix.push(
            step("Or stop only its statement; the connection stays")
                .sql(format!("KILL QUERY {};", s.id)),
        );
    }
    prevention(p, &mut fix);
    Finding {
        kind: FindingKind::LockPileup,
        severity: p.severity,
        title,
        evidence,
        fix: fix.finish(),
        subject: String::new(),
    }
}

/// The prevention for each kind of chain in the pile-up.
fn prevention(p: &LockPileup, fix: &mut Fix) {
    let k = p.kinds;
    if k.idle_trx {
        fix.push(step(
            "Commit or roll back as soon as the work is done: an open transaction keeps its \
             locks, and a DDL on its tables queues every later query behind it",
        ));
        if p.has_idle_trx_timeout {
            fix.set_global(
                format!(
                    "Have the server end sessions idle in a transaction over {} \
                     (applies to new sessions)",
                    secs(p.threshold_s)
                ),
                format!("idle_transaction_timeout = {}", p.threshold_s),
            );
        } else if p.flavor == Flavor::MySql {
            fix.push(step(
                "MySQL has no idle-transaction timeout: the application's pool must end \
                 transactions (and wait_timeout closes sessions left idle)",
            ));
        }
    }
    if k.ddl {
        fix.push(
            step(format!(
                "Run DDL with a short lock wait, so it gives up after {} instead of queueing \
                 every query on the table behind it",
                secs(DDL_LOCK_WAIT_S)
            ))
            .sql(format!(
                "SET SESSION lock_wait_timeout = {DDL_LOCK_WAIT_S};"
            )),
        );
        let online = match p.flavor {
            Flavor::MariaDb => format!(
                "Change tables online: add ALGORITHM=INPLACE, LOCK=NONE to the ALTER (MariaDB \
                 also takes ALTER TABLE … WAIT {DDL_LOCK_WAIT_S} or NOWAIT)"
            ),
            Flavor::MySql => "Change tables online: add ALGORITHM=INPLACE, LOCK=NONE (or \
                              ALGORITHM=INSTANT) to the ALTER, or use an online schema change \
                              tool"
                .to_string(),
        };
        fix.push(step(online));
    }
    if k.backup {
        let tool = match p.flavor {
            Flavor::MariaDb => "mariadb-backup",
            Flavor::MySql => "xtrabackup",
        };
        fix.push(step(format!(
            "Backups: have {tool} wait for a quiet moment and give up rather than block \
             writes (--ftwrl-wait-timeout=60 --ftwrl-wait-threshold=10), or kill the long \
             queries in its way (--kill-long-queries-timeout=20); mysqldump \
             --single-transaction takes no global lock for InnoDB tables"
        )));
    }
    if k.row {
        fix.set_global(
            format!(
                "Bound row lock waits: a statement gives up after {} instead of the default 50s",
                secs(ROW_LOCK_WAIT_S)
            ),
            format!("innodb_lock_wait_timeout = {ROW_LOCK_WAIT_S}"),
        );
    }
    if k.table {
        let mut s = step(
            "Table-level locks block every reader or writer of the table: move MyISAM/Aria \
             tables to InnoDB (row locks)",
        );
        if let Some(object) = p.object.as_deref() {
            s = s.sql(format!("ALTER TABLE {object} ENGINE=InnoDB;"));
        }
        fix.push(s);
    }
    if k.lock_tables {
        fix.push(step(
            "LOCK TABLES holds its tables until UNLOCK TABLES or the session ends: keep it out \
             of applications, or unlock right after the work",
        ));
    }
}
