//! Who may be killed, pure: the safety rules, target plans and the re-check
//! predicate. No SQL and no I/O; the dashboard builds its previews from here
//! and the executor re-checks with the same rules.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::command::{Expect, KillMode, KillTally, KillTarget};
use crate::snapshot::{Activity, Privileges, Session, millis};

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

/// Why the safety rules keep a session out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `--read-only`.
    ReadOnly,
    /// conntop's own connection.
    OwnConnection,
    /// A server thread (without `--allow-system`).
    System,
    /// The user matches `--ignore-user`.
    ProtectedUser(String),
    /// The client host matches `--ignore-host`.
    ProtectedHost(String),
    /// Another user's session, and our account may kill only its own.
    OtherAccount,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ReadOnly => f.write_str("read-only mode (--read-only)"),
            Refusal::OwnConnection => f.write_str("conntop's own connection"),
            Refusal::System => f.write_str("system or replication thread (use --allow-system)"),
            Refusal::ProtectedUser(user) => write!(f, "user {user} is protected (--ignore-user)"),
            Refusal::ProtectedHost(host) => write!(f, "host {host} is protected (--ignore-host)"),
            Refusal::OtherAccount => {
                f.write_str("another account's session; needs CONNECTION ADMIN or SUPER")
            }
        }
    }
}

/// The rules no kill may break.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Safety {
    /// conntop's own connection; set with [`Safety::connected`].
    pub own_id: u64,
    /// `--allow-system`: system and replication threads may be killed.
    pub allow_system: bool,
    /// `--ignore-user`: accounts never killed.
    pub ignore_users: Vec<Pattern>,
    /// `--ignore-host`: client hosts (port stripped) never killed.
    pub ignore_hosts: Vec<Pattern>,
    /// `--read-only`: nothing is killed.
    pub read_only: bool,
    /// Set when our account may kill only this user's sessions (no SUPER or
    /// CONNECTION ADMIN); set with [`Safety::connected`].
    pub kill_only_user: Option<String>,
}

impl Safety {
    /// These rules on the connection whose id is `own_id`, for an account
    /// with `privileges`: the one place where conntop's own connection and
    /// account enter the rules.
    pub fn connected(&self, own_id: u64, privileges: &Privileges) -> Safety {
        Safety {
            own_id,
            kill_only_user: privileges.kill_only_user.clone(),
            ..self.clone()
        }
    }

    /// Why this session must not be killed, or `None` when it may be.
    pub fn refuses(&self, s: &Session) -> Option<Refusal> {
        if self.read_only {
            return Some(Refusal::ReadOnly);
        }
        if s.id == self.own_id {
            return Some(Refusal::OwnConnection);
        }
        if s.is_system() && !self.allow_system {
            return Some(Refusal::System);
        }
        if self.ignore_users.iter().any(|p| p.matches(&s.user)) {
            return Some(Refusal::ProtectedUser(s.user.clone()));
        }
        let host = s.client_host();
        if self.ignore_hosts.iter().any(|p| p.matches(host)) {
            return Some(Refusal::ProtectedHost(host.to_string()));
        }
        if self.kill_only_user.as_ref().is_some_and(|me| *me != s.user) {
            return Some(Refusal::OtherAccount);
        }
        None
    }

    /// [`Safety::refuses`] as a user-facing line.
    pub fn refusal(&self, s: &Session) -> Option<String> {
        self.refuses(s).map(|r| r.to_string())
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

/// Why a confirmed target was not killed at re-check time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The session is no longer there (or the server says unknown thread).
    Gone,
    /// The id now belongs to another account.
    Reused { user: String, host: String },
    /// The safety rules refuse it as it is now.
    Refused(Refusal),
    /// An idle target is running a command.
    Busy { command: String },
    /// A long-running target's statement ended.
    QueryFinished,
    /// It no longer meets the preview's threshold.
    ChangedSincePreview,
    /// A session confirmed by itself now runs another statement (`x`) or
    /// command (`k`), or started it again.
    ChangedSinceConfirmed,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Gone => f.write_str("gone"),
            SkipReason::Reused { user, host } => write!(f, "id now belongs to {user}@{host}"),
            SkipReason::Refused(r) => r.fmt(f),
            SkipReason::Busy { command } => write!(f, "busy now ({command})"),
            SkipReason::QueryFinished => f.write_str("query finished"),
            SkipReason::ChangedSincePreview => f.write_str("changed since preview"),
            SkipReason::ChangedSinceConfirmed => f.write_str("changed since you confirmed"),
        }
    }
}

/// Does `s` meet `expect` right now?
pub fn meets(s: &Session, expect: Expect) -> bool {
    match expect {
        Expect::Same => true,
        Expect::IdleAtLeast { min } => s.is_sleeping() && s.time_ms >= millis(min),
        // The same "running" as the header's and the long_running finding's:
        // a login in progress or a session being killed is not a statement.
        Expect::RunningAtLeast { min } => {
            s.activity() == Activity::Running && s.time_ms >= millis(min)
        }
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

/// Sessions that meet `expect`, pass `sel` and that the rules allow, oldest first.
pub fn targets(
    sessions: &[Session],
    expect: Expect,
    safety: &Safety,
    sel: &Selection,
) -> Vec<KillTarget> {
    let mut out: Vec<KillTarget> = sessions
        .iter()
        .filter(|s| meets(s, expect) && sel.matches(s) && safety.refuses(s).is_none())
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

/// Is `now` still doing what the user saw in `then` when confirming a
/// `mode` kill of this one session? For `KILL QUERY`: the same statement,
/// not started again (its time did not go back). For `KILL CONNECTION`: the
/// same command, not started again (an idle session that ran anything since,
/// say opened a transaction, has its idle time reset).
///
/// "Not started again" is judged by the clock: `now` was read `elapsed`
/// after `then`, so the same statement (or idle spell) has aged by about
/// that much. One that aged less started after `then` was read, even with
/// the same text (a report that runs the same query again and again).
/// [`RECHECK_SLACK`] covers the processlist's whole-second times.
pub fn unchanged(then: &Session, now: &Session, mode: KillMode, elapsed: Duration) -> bool {
    let same = match mode {
        KillMode::Query => now.info == then.info,
        KillMode::Connection => now.command == then.command,
    };
    let expected = then.time_ms.saturating_add(millis(elapsed));
    same && now.time_ms.saturating_add(millis(RECHECK_SLACK)) >= expected
}

/// How much less than the time passed a confirmed session may have aged
/// (the processlist gives whole seconds, read twice).
pub const RECHECK_SLACK: Duration = Duration::from_secs(2);

/// The re-check: `Ok` when `now` (the session as just re-read, `elapsed`
/// after the target was) is still the session the user confirmed for a
/// `mode` kill and still meets the expectation.
pub fn recheck(
    target: &KillTarget,
    now: Option<&Session>,
    mode: KillMode,
    safety: &Safety,
    elapsed: Duration,
) -> Result<(), SkipReason> {
    let then = &target.session;
    let Some(now) = now else {
        return Err(SkipReason::Gone);
    };
    if now.user != then.user || now.host != then.host {
        return Err(SkipReason::Reused {
            user: now.user.clone(),
            host: now.host.clone(),
        });
    }
    if let Some(why) = safety.refuses(now) {
        return Err(SkipReason::Refused(why));
    }
    if target.expect == Expect::Same && !unchanged(then, now, mode, elapsed) {
        return Err(SkipReason::ChangedSinceConfirmed);
    }
    if !meets(now, target.expect) {
        return Err(match target.expect {
            Expect::IdleAtLeast { .. } if !now.is_sleeping() => SkipReason::Busy {
                command: now.command.clone(),
            },
            Expect::RunningAtLeast { .. } if now.is_sleeping() => SkipReason::QueryFinished,
            _ => SkipReason::ChangedSincePreview,
        });
    }
    Ok(())
}

/// One-line summary: "killed 1997, skipped 3 (changed since preview or gone), failed 0".
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
            ignore_users: vec![Pattern::new("repl*").expect("pattern")],
            ignore_hosts: vec![Pattern::new("10.0.0.7").expect("pattern")],
            ..Safety::default()
        }
        .connected(9, &Privileges::default());
        assert_eq!(
            safety.refuses(&s(9, "me", "Sleep", 1)),
            Some(Refusal::OwnConnection)
        );
        assert_eq!(
            safety.refusal(&s(1, "replica", "Sleep", 1)).as_deref(),
            Some("user replica is protected (--ignore-user)")
        );
        assert_eq!(
            safety.refusal(&s(7, "app", "Sleep", 1)).as_deref(),
            Some("host 10.0.0.7 is protected (--ignore-host)")
        );
        assert!(safety.refusal(&s(8, "app", "Sleep", 1)).is_none());
        assert_eq!(
            safety.refuses(&s(2, "event_scheduler", "Daemon", 1)),
            Some(Refusal::System)
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
        assert_eq!(
            ro.refusal(&s(8, "app", "Sleep", 1)).as_deref(),
            Some("read-only mode (--read-only)")
        );
    }

    const C: KillMode = KillMode::Connection;

    fn with_info(mut s: Session, info: &str) -> Session {
        s.info = Some(info.to_string());
        s
    }

    #[test]
    fn x_kills_only_the_statement_that_was_confirmed() {
        let safety = Safety::default();
        let first = with_info(
            s(5, "app", "Query", 3),
            "SELECT SLEEP(8) /* FIRST harmless report */",
        );
        let target = KillTarget {
            session: first.clone(),
            expect: Expect::Same,
        };
        let q = KillMode::Query;
        let still = Session {
            time_ms: 4000,
            ..first.clone()
        };
        assert_eq!(
            recheck(&target, Some(&still), q, &safety, Duration::ZERO),
            Ok(())
        );
        // Another statement by the time `y` was pressed.
        let second = with_info(
            s(5, "app", "Query", 0),
            "SELECT SLEEP(8) /* SECOND critical statement */",
        );
        let why = recheck(&target, Some(&second), q, &safety, Duration::ZERO).unwrap_err();
        assert_eq!(why, SkipReason::ChangedSinceConfirmed);
        assert_eq!(why.to_string(), "changed since you confirmed");
        // The same text run again: its time went back (read 1 s later).
        let again = Session {
            time_ms: 1000,
            ..first.clone()
        };
        assert_eq!(
            recheck(&target, Some(&again), q, &safety, Duration::from_secs(1)),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // Finished: idle now, no statement.
        assert_eq!(
            recheck(
                &target,
                Some(&s(5, "app", "Sleep", 0)),
                q,
                &safety,
                Duration::ZERO
            ),
            Err(SkipReason::ChangedSinceConfirmed)
        );
    }

    /// A report that runs the same statement again and again: the text is
    /// the same, but the one running now started after the confirmed one
    /// was read, so it has not aged by the time passed.
    #[test]
    fn x_refuses_the_same_text_started_again_after_confirming() {
        let safety = Safety::default();
        let report = with_info(s(5, "app", "Query", 5), "SELECT * FROM big_report");
        let target = KillTarget {
            session: report.clone(),
            expect: Expect::Same,
        };
        let q = KillMode::Query;
        let elapsed = Duration::from_secs(7);
        // The confirmed run, 7 s on: 12 s old.
        let same_run = Session {
            time_ms: 12_000,
            ..report.clone()
        };
        assert_eq!(
            recheck(&target, Some(&same_run), q, &safety, elapsed),
            Ok(())
        );
        // Whole seconds, read twice: a little less is still the same run.
        let rounded = Session {
            time_ms: 10_000,
            ..report.clone()
        };
        assert_eq!(
            recheck(&target, Some(&rounded), q, &safety, elapsed),
            Ok(())
        );
        // A new run that started 1 s after the preview: 6 s old, not 12.
        let new_run = Session {
            time_ms: 6_000,
            ..report
        };
        assert_eq!(
            recheck(&target, Some(&new_run), q, &safety, elapsed),
            Err(SkipReason::ChangedSinceConfirmed)
        );
    }

    #[test]
    fn k_kills_only_a_session_still_in_the_confirmed_command() {
        let safety = Safety::default();
        let target = KillTarget {
            session: s(6, "app", "Sleep", 10),
            expect: Expect::Same,
        };
        assert_eq!(
            recheck(
                &target,
                Some(&s(6, "app", "Sleep", 12)),
                C,
                &safety,
                Duration::ZERO
            ),
            Ok(())
        );
        assert_eq!(
            recheck(
                &target,
                Some(&s(6, "app", "Query", 0)),
                C,
                &safety,
                Duration::ZERO
            ),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // Idle again after a statement (say BEGIN; UPDATE ...): a
        // transaction may be open now, and the idle time was reset.
        assert_eq!(
            recheck(
                &target,
                Some(&s(6, "app", "Sleep", 1)),
                C,
                &safety,
                Duration::ZERO
            ),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // A busy session confirmed for `k` may change its statement.
        let busy = KillTarget {
            session: with_info(s(7, "app", "Query", 30), "SELECT 1"),
            expect: Expect::Same,
        };
        let other = with_info(s(7, "app", "Query", 31), "SELECT 2");
        assert_eq!(
            recheck(&busy, Some(&other), C, &safety, Duration::ZERO),
            Ok(())
        );
    }

    #[test]
    fn accounts_named_like_system_threads_are_clients() {
        let row = |id: u64, user: &str, host: &str, command: &str| Session {
            id,
            user: user.into(),
            host: host.into(),
            command: command.into(),
            time_ms: 900_000,
            ..Session::default()
        };
        let list = vec![
            row(1, "system user", "", "Daemon"),
            row(2, "event_scheduler", "localhost", "Daemon"),
            row(3, "system user", "", "Slave_SQL"),
            row(4, "repl", "10.0.0.2:51000", "Binlog Dump GTID"),
            row(5, "system user", "10.0.0.5:40001", "Sleep"),
            row(6, "event_scheduler", "10.0.0.6:40002", "Sleep"),
        ];
        let safety = Safety::default();
        for s in &list[..4] {
            assert_eq!(safety.refuses(s), Some(Refusal::System), "{s:?}");
        }
        for s in &list[4..] {
            assert_eq!(safety.refuses(s), None, "{s:?}");
        }
        let ids: Vec<u64> = idle_targets(&list, Duration::ZERO, &safety, &Selection::default())
            .iter()
            .map(|t| t.session.id)
            .collect();
        assert_eq!(ids, vec![5, 6]);
    }

    #[test]
    fn without_connection_admin_only_our_users_sessions_are_targets() {
        let weak = Privileges {
            process: true,
            kill_any: false,
            kill_only_user: Some("report".into()),
        };
        let safety = Safety::default().connected(9, &weak);
        let list = vec![
            s(1, "app", "Sleep", 900),
            s(2, "report", "Sleep", 800),
            s(3, "web", "Sleep", 700),
        ];
        let refusal = safety.refusal(&list[0]);
        assert_eq!(
            refusal.as_deref(),
            Some("another account's session; needs CONNECTION ADMIN or SUPER")
        );
        assert_eq!(safety.refuses(&list[1]), None);
        let ids: Vec<u64> = idle_targets(&list, Duration::ZERO, &safety, &Selection::default())
            .iter()
            .map(|t| t.session.id)
            .collect();
        assert_eq!(ids, vec![2], "the preview counts only what can be killed");
        // With the privilege (or when it is not known), every account.
        let admin = Privileges {
            process: true,
            kill_any: true,
            kill_only_user: None,
        };
        let safety = Safety::default().connected(9, &admin);
        assert_eq!(
            idle_targets(&list, Duration::ZERO, &safety, &Selection::default()).len(),
            3
        );
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
            recheck(
                &idle,
                Some(&s(1, "app", "Sleep", 401)),
                C,
                &safety,
                Duration::ZERO
            ),
            Ok(())
        );
        assert_eq!(
            recheck(&idle, None, C, &safety, Duration::ZERO),
            Err(SkipReason::Gone)
        );
        let busy = recheck(
            &idle,
            Some(&s(1, "app", "Query", 0)),
            C,
            &safety,
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(busy.to_string(), "busy now (Query)");
        // Went busy and back to sleep: idle time restarted below the threshold.
        assert_eq!(
            recheck(
                &idle,
                Some(&s(1, "app", "Sleep", 2)),
                C,
                &safety,
                Duration::ZERO
            ),
            Err(SkipReason::ChangedSincePreview)
        );
        // The id was reused by another account.
        let reused = recheck(
            &idle,
            Some(&s(1, "other", "Sleep", 900)),
            C,
            &safety,
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(reused.to_string(), "id now belongs to other@10.0.0.1:4000");
        let long = KillTarget {
            session: s(3, "app", "Query", 90),
            expect: Expect::RunningAtLeast {
                min: Duration::from_secs(60),
            },
        };
        assert_eq!(
            recheck(
                &long,
                Some(&s(3, "app", "Sleep", 1)),
                C,
                &safety,
                Duration::ZERO
            ),
            Err(SkipReason::QueryFinished)
        );
        assert_eq!(
            recheck(
                &long,
                Some(&s(3, "app", "Query", 95)),
                C,
                &safety,
                Duration::ZERO
            ),
            Ok(())
        );
        // Our own connection, re-read: refused by the rules.
        let own = KillTarget {
            session: s(9, "me", "Query", 0),
            expect: Expect::Same,
        };
        let why = recheck(
            &own,
            Some(&s(9, "me", "Query", 0)),
            C,
            &safety.connected(9, &Privileges::default()),
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(why, SkipReason::Refused(Refusal::OwnConnection));
        assert_eq!(why.to_string(), "conntop's own connection");
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
