//! Who may be killed, and killing them safely: safety rules, target plans,
//! the re-check just before each KILL, and the batch executor shared by the
//! dashboard (through the poller) and `conntop kill`.

use std::collections::HashMap;
use std::time::Duration;

use crate::audit::{AuditLog, AuditRecord};
use crate::command::{Expect, KillMethod, KillMode, KillOutcome, KillTally, KillTarget};
use crate::snapshot::{Session, millis};
use crate::source::{Source, SourceError};

/// How many targets share one re-read of the processlist. Each KILL follows
/// its re-check by at most this many statements (a few ms), while a batch of
/// 2,000 costs 40 processlist reads instead of 2,000.
pub const RECHECK_CHUNK: usize = 50;

/// A user or host pattern: shell-style `*` and `?`, matched against the whole value.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(glob::Pattern);

impl Pattern {
    /// Parses `repl*`, `10.0.?.*`, `backup`.
    pub fn new(text: &str) -> Result<Pattern, String> {
        glob::Pattern::new(text)
            .map(Pattern)
            .map_err(|e| format!("bad pattern {text:?}: {e}"))
    }

    /// True when the whole value matches.
    pub fn matches(&self, value: &str) -> bool {
        self.0.matches(value)
    }
}

impl std::str::FromStr for Pattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::new(s)
    }
}

/// The rules no kill may break.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Safety {
    /// conntop's own connection.
    pub own_id: u64,
    /// `--allow-system`: system and replication threads may be killed.
    pub allow_system: bool,
    /// `--ignore-user`: accounts never killed.
    pub ignore_users: Vec<Pattern>,
    /// `--ignore-host`: client hosts (port stripped) never killed.
    pub ignore_hosts: Vec<Pattern>,
    /// `--read-only`: nothing is killed.
    pub read_only: bool,
}

impl Safety {
    /// Why this session must not be killed, or `None` when it may be.
    pub fn refusal(&self, s: &Session) -> Option<String> {
        if self.read_only {
            return Some("read-only mode (--read-only)".to_string());
        }
        if s.id == self.own_id {
            return Some("conntop's own connection".to_string());
        }
        if s.is_system() && !self.allow_system {
            return Some("system or replication thread (use --allow-system)".to_string());
        }
        if self.ignore_users.iter().any(|p| p.matches(&s.user)) {
            return Some(format!("user {} is protected (--ignore-user)", s.user));
        }
        let host = s.client_host();
        if self.ignore_hosts.iter().any(|p| p.matches(host)) {
            return Some(format!("host {host} is protected (--ignore-host)"));
        }
        None
    }
}

/// Extra selection for `conntop kill` (`--match-user`, `--match-host`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub users: Vec<Pattern>,
    pub hosts: Vec<Pattern>,
}

impl Selection {
    /// True when the session passes every given matcher.
    pub fn matches(&self, s: &Session) -> bool {
        (self.users.is_empty() || self.users.iter().any(|p| p.matches(&s.user)))
            && (self.hosts.is_empty() || self.hosts.iter().any(|p| p.matches(s.client_host())))
    }
}

/// Does `s` meet `expect` right now?
pub fn meets(s: &Session, expect: Expect) -> bool {
    match expect {
        Expect::Same => true,
        Expect::IdleAtLeast { min } => s.is_sleeping() && s.time_ms >= millis(min),
        Expect::RunningAtLeast { min } => !s.is_sleeping() && s.time_ms >= millis(min),
    }
}

/// Sessions sleeping at least `min`, that the rules allow, oldest first.
pub fn idle_targets(
    sessions: &[Session],
    min: Duration,
    safety: &Safety,
    sel: &Selection,
) -> Vec<KillTarget> {
    targets(sessions, Expect::IdleAtLeast { min }, safety, sel)
}

/// Sessions running a statement at least `min`, that the rules allow, oldest first.
pub fn long_targets(
    sessions: &[Session],
    min: Duration,
    safety: &Safety,
    sel: &Selection,
) -> Vec<KillTarget> {
    targets(sessions, Expect::RunningAtLeast { min }, safety, sel)
}

fn targets(
    sessions: &[Session],
    expect: Expect,
    safety: &Safety,
    sel: &Selection,
) -> Vec<KillTarget> {
    let mut out: Vec<KillTarget> = sessions
        .iter()
        .filter(|s| meets(s, expect) && sel.matches(s) && safety.refusal(s).is_none())
        .map(|s| KillTarget {
            session: s.clone(),
            expect,
        })
        .collect();
    out.sort_by(|a, b| {
        b.session
            .time_ms
            .cmp(&a.session.time_ms)
            .then(a.session.id.cmp(&b.session.id))
    });
    out
}

/// Groups targets by `user@host` (port stripped), biggest group first.
pub fn group_by_account(targets: &[KillTarget]) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in targets {
        *counts
            .entry(format!("{}@{}", t.session.user, t.session.client_host()))
            .or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The re-check: `Ok` when `now` (the session as just re-read) is still the
/// session the user confirmed and still meets the expectation.
pub fn recheck(target: &KillTarget, now: Option<&Session>, safety: &Safety) -> Result<(), String> {
    let then = &target.session;
    let Some(now) = now else {
        return Err("gone".to_string());
    };
    if now.user != then.user || now.host != then.host {
        return Err(format!("id now belongs to {}@{}", now.user, now.host));
    }
    if let Some(why) = safety.refusal(now) {
        return Err(why);
    }
    if !meets(now, target.expect) {
        return Err(match target.expect {
            Expect::IdleAtLeast { .. } if !now.is_sleeping() => {
                format!("busy now ({})", now.command)
            }
            Expect::RunningAtLeast { .. } if now.is_sleeping() => "query finished".to_string(),
            _ => "changed since preview".to_string(),
        });
    }
    Ok(())
}

/// Options of one kill batch.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub mode: KillMode,
    pub method: KillMethod,
    /// Re-check and log, but send no KILL (`--dry-run`).
    pub dry_run: bool,
    /// Why, for the audit log.
    pub why: &'a str,
    /// Server endpoint, for the audit log.
    pub server: &'a str,
}

/// The end of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub tally: KillTally,
    /// The first failure, as a user-facing line.
    pub first_error: Option<String>,
    /// Set when the connection was lost mid-batch (the rest were not tried).
    pub lost: Option<SourceError>,
}

/// User-facing message for a failed KILL.
pub fn kill_error_message(e: &SourceError) -> String {
    match e.code() {
        Some(1095) => "not owner of thread: the account needs SUPER or CONNECTION_ADMIN \
                       (MariaDB: CONNECTION ADMIN) to kill other users' sessions"
            .to_string(),
        Some(1227) | Some(1370) => format!("not allowed: {e}"),
        _ => e.to_string(),
    }
}

/// Kills `targets` on `source`'s connection: re-reads the processlist every
/// [`RECHECK_CHUNK`] targets, re-checks each target just before its KILL,
/// counts unknown threads (1094) as skipped, audits every attempt and calls
/// `on_outcome` after each one.
pub fn execute(
    source: &mut Source,
    targets: &[KillTarget],
    batch: Batch<'_>,
    safety: &Safety,
    mut audit: Option<&mut AuditLog>,
    on_outcome: &mut dyn FnMut(&KillTarget, &KillOutcome, &KillTally),
) -> BatchResult {
    let mut result = BatchResult::default();
    for chunk in targets.chunks(RECHECK_CHUNK) {
        let current: HashMap<u64, Session> = match source.read_sessions() {
            Ok(list) => list.into_iter().map(|s| (s.id, s)).collect(),
            Err(e) => {
                let msg = e.to_string();
                for t in targets.iter().skip(result.tally.done()) {
                    let outcome = KillOutcome::Failed(format!("not tried: {msg}"));
                    finish(&mut result, &mut audit, &batch, t, outcome, on_outcome);
                }
                result.first_error.get_or_insert(msg);
                if e.is_connection_lost() {
                    result.lost = Some(e);
                }
                return result;
            }
        };
        for t in chunk {
            let outcome = match recheck(t, current.get(&t.session.id), safety) {
                Err(why) => KillOutcome::Skipped(why),
                Ok(()) if batch.dry_run => KillOutcome::WouldKill,
                Ok(()) => match source.kill(t.session.id, batch.mode, batch.method) {
                    Ok(()) => KillOutcome::Killed,
                    Err(e) if e.code() == Some(1094) => KillOutcome::Skipped("gone".to_string()),
                    Err(e) => {
                        let msg = kill_error_message(&e);
                        result.first_error.get_or_insert(msg.clone());
                        if e.is_connection_lost() {
                            result.lost = Some(e);
                        }
                        KillOutcome::Failed(msg)
                    }
                },
            };
            finish(&mut result, &mut audit, &batch, t, outcome, on_outcome);
            if result.lost.is_some() {
                for rest in targets.iter().skip(result.tally.done()) {
                    let outcome = KillOutcome::Failed("not tried: connection lost".to_string());
                    finish(&mut result, &mut audit, &batch, rest, outcome, on_outcome);
                }
                return result;
            }
        }
    }
    result
}

fn finish(
    result: &mut BatchResult,
    audit: &mut Option<&mut AuditLog>,
    batch: &Batch<'_>,
    target: &KillTarget,
    outcome: KillOutcome,
    on_outcome: &mut dyn FnMut(&KillTarget, &KillOutcome, &KillTally),
) {
    result.tally.add(&outcome);
    if let Some(log) = audit.as_deref_mut() {
        let mut rec = AuditRecord::new(
            batch.server,
            &target.session,
            batch.mode,
            batch.method,
            &outcome,
            batch.why,
        );
        rec.dry_run = batch.dry_run;
        if let Err(e) = log.append(&rec) {
            result
                .first_error
                .get_or_insert(format!("audit log {}: {e}", log.path().display()));
        }
    }
    on_outcome(target, &outcome, &result.tally);
}

/// One-line summary: "killed 1997, skipped 3 (changed since preview), failed 0".
pub fn summary(mode: KillMode, tally: &KillTally) -> String {
    let verb = match mode {
        KillMode::Connection => "killed",
        KillMode::Query => "stopped queries of",
    };
    format!(
        "{verb} {}, skipped {} (changed since preview or gone), failed {}",
        tally.killed, tally.skipped, tally.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u64, user: &str, command: &str, secs: u64) -> Session {
        Session {
            id,
            user: user.into(),
            host: format!("10.0.0.{id}:4000"),
            command: command.into(),
            time_ms: secs * 1000,
            ..Session::default()
        }
    }

    #[test]
    fn idle_targets_only_sleepers_past_threshold_oldest_first() {
        let list = vec![
            s(1, "app", "Sleep", 400),
            s(2, "app", "Sleep", 100),
            s(3, "app", "Query", 900),
            s(4, "app", "Sleep", 900),
            s(5, "event_scheduler", "Daemon", 9000),
        ];
        let safety = Safety::default();
        let t = idle_targets(
            &list,
            Duration::from_secs(300),
            &safety,
            &Selection::default(),
        );
        let ids: Vec<u64> = t.iter().map(|t| t.session.id).collect();
        assert_eq!(ids, vec![4, 1]);
        let t = long_targets(
            &list,
            Duration::from_secs(60),
            &safety,
            &Selection::default(),
        );
        let ids: Vec<u64> = t.iter().map(|t| t.session.id).collect();
        assert_eq!(
            ids,
            vec![3],
            "system threads are never long-running targets"
        );
    }

    #[test]
    fn safety_rules() {
        let safety = Safety {
            own_id: 9,
            ignore_users: vec![Pattern::new("repl*").expect("pattern")],
            ignore_hosts: vec![Pattern::new("10.0.0.7").expect("pattern")],
            ..Safety::default()
        };
        assert!(safety.refusal(&s(9, "me", "Sleep", 1)).is_some());
        assert!(safety.refusal(&s(1, "replica", "Sleep", 1)).is_some());
        assert!(safety.refusal(&s(7, "app", "Sleep", 1)).is_some());
        assert!(safety.refusal(&s(8, "app", "Sleep", 1)).is_none());
        assert!(
            safety
                .refusal(&s(2, "event_scheduler", "Daemon", 1))
                .is_some()
        );
        assert!(safety.refusal(&s(2, "repl", "Binlog Dump", 1)).is_some());
        let allow = Safety {
            allow_system: true,
            ..Safety::default()
        };
        assert!(
            allow
                .refusal(&s(2, "event_scheduler", "Daemon", 1))
                .is_none()
        );
        let ro = Safety {
            read_only: true,
            ..Safety::default()
        };
        assert!(ro.refusal(&s(8, "app", "Sleep", 1)).is_some());
    }

    #[test]
    fn recheck_skips_changed_sessions() {
        let safety = Safety::default();
        let idle = KillTarget {
            session: s(1, "app", "Sleep", 400),
            expect: Expect::IdleAtLeast {
                min: Duration::from_secs(300),
            },
        };
        assert_eq!(
            recheck(&idle, Some(&s(1, "app", "Sleep", 401)), &safety),
            Ok(())
        );
        assert_eq!(recheck(&idle, None, &safety), Err("gone".to_string()));
        assert!(
            recheck(&idle, Some(&s(1, "app", "Query", 0)), &safety)
                .unwrap_err()
                .contains("busy")
        );
        // Went busy and back to sleep: idle time restarted below the threshold.
        assert!(recheck(&idle, Some(&s(1, "app", "Sleep", 2)), &safety).is_err());
        // The id was reused by another account.
        assert!(recheck(&idle, Some(&s(1, "other", "Sleep", 900)), &safety).is_err());
        let long = KillTarget {
            session: s(3, "app", "Query", 90),
            expect: Expect::RunningAtLeast {
                min: Duration::from_secs(60),
            },
        };
        assert_eq!(
            recheck(&long, Some(&s(3, "app", "Sleep", 1)), &safety),
            Err("query finished".to_string())
        );
        assert_eq!(
            recheck(&long, Some(&s(3, "app", "Query", 95)), &safety),
            Ok(())
        );
    }

    #[test]
    fn selection_and_grouping() {
        let sel = Selection {
            users: vec![Pattern::new("app").expect("pattern")],
            hosts: vec![],
        };
        assert!(sel.matches(&s(1, "app", "Sleep", 1)));
        assert!(!sel.matches(&s(1, "web", "Sleep", 1)));
        let list: Vec<KillTarget> = [
            s(1, "a", "Sleep", 1),
            s(1, "a", "Sleep", 1),
            s(2, "b", "Sleep", 1),
        ]
        .into_iter()
        .map(|session| KillTarget {
            session,
            expect: Expect::Same,
        })
        .collect();
        assert_eq!(
            group_by_account(&list),
            vec![("a@10.0.0.1".to_string(), 2), ("b@10.0.0.2".to_string(), 1)]
        );
        assert!(Pattern::new("[").is_err());
    }

    #[test]
    fn summary_line() {
        let tally = KillTally {
            killed: 1997,
            would_kill: 0,
            skipped: 3,
            failed: 0,
        };
        assert_eq!(
            summary(KillMode::Connection, &tally),
            "killed 1997, skipped 3 (changed since preview or gone), failed 0"
        );
    }
}
