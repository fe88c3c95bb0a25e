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

/// How exact the re-read's times are, which sets how much less than the time
/// passed a session may have aged and still count as the one confirmed.
///
/// The sessions the user confirmed come from the dashboard's processlist,
/// whose times are whole seconds, rounded down (MariaDB computes `Time` as
/// `floor(TIME_MS / 1000)` from the same microsecond clock, checked on
/// 10.11): a row shown at `t` s had run at least `t` s. Call `Δ` the time
/// between the server reading the confirmed row and reading the re-read row,
/// and `elapsed` the executor's measure of it: from the confirmed snapshot's
/// `taken_at` (stamped after its processlist came back) to just before the
/// re-read is sent, so `elapsed <= Δ`.
///
/// - The statement (or idle spell) confirmed has now run at least
///   `then + Δ >= then + elapsed`: with exact re-read times it passes with no
///   slack at all.
/// - One that started after the confirmed row was read has run less than
///   `Δ`, so less than `then + elapsed` plus the measuring error (`Δ -
///   elapsed`: the re-read's round trip and the rest of the confirmed poll,
///   milliseconds).
///
/// So the slack only covers measuring: the millisecond truncation, the
/// client's wall clock against the server's timer over a dialog left open
/// (NTP slews at most 0.05 %: 150 ms in five minutes) and the few ms of
/// round trips. A new statement or transaction slips through only when it
/// started within about the slack after the confirmed snapshot was read,
/// before the screen could have shown it. (`elapsed` is wall-clock time, as
/// a snapshot's `taken_at` is: a clock stepped back while the dialog was
/// open widens that by the step; one stepped forward only skips more.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePrecision {
    /// MariaDB's `information_schema.PROCESSLIST.TIME_MS`: [`SLACK_MILLIS`].
    Millis,
    /// Whole seconds (MySQL has no `TIME_MS`): both reads round down, so the
    /// same statement can show up to a second less than expected, plus the
    /// measuring error: [`SLACK_SECONDS`]. A statement started within that
    /// after the confirmed read can pass for the confirmed one.
    Seconds,
}

/// [`TimePrecision::Millis`]'s slack.
pub const SLACK_MILLIS: Duration = Duration::from_millis(250);

/// [`TimePrecision::Seconds`]'s slack.
pub const SLACK_SECONDS: Duration = Duration::from_secs(2);

impl TimePrecision {
    /// How much less than the time passed a confirmed session may have aged.
    pub fn slack(self) -> Duration {
        match self {
            TimePrecision::Millis => SLACK_MILLIS,
            TimePrecision::Seconds => SLACK_SECONDS,
        }
    }
}

/// When a target was re-read: `elapsed` after it was read, with times of
/// `precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub elapsed: Duration,
    pub precision: TimePrecision,
}

impl Since {
    /// Re-read `elapsed` after, with times to the millisecond.
    pub fn millis(elapsed: Duration) -> Since {
        Since {
            elapsed,
            precision: TimePrecision::Millis,
        }
    }
}

/// Is `now` still doing what the user saw in `then` when confirming a
/// `mode` kill with `expect`? The same work: for a session confirmed by
/// itself ([`Expect::Same`]) the same statement for `KILL QUERY`, the same
/// command for `KILL CONNECTION`; for an idle target ([`Expect::IdleAtLeast`])
/// the same idle spell; for a long-running one ([`Expect::RunningAtLeast`])
/// the same statement. And not started again: `now` was read `since` after
/// `then`, so the same work has aged by that much ([`TimePrecision`]). One
/// that aged less started after `then` was read, even with the same text (a
/// report that runs the same query again and again) or the same `Sleep` (an
/// idle session that ran `BEGIN; INSERT ...` and went idle again).
pub fn unchanged(
    then: &Session,
    now: &Session,
    mode: KillMode,
    expect: Expect,
    since: Since,
) -> bool {
    let by_statement = match expect {
        Expect::Same => mode == KillMode::Query,
        Expect::IdleAtLeast { .. } => false,
        Expect::RunningAtLeast { .. } => true,
    };
    let same = if by_statement {
        now.info == then.info
    } else {
        now.command == then.command
    };
    let expected = then.time_ms.saturating_add(millis(since.elapsed));
    same && now.time_ms.saturating_add(millis(since.precision.slack())) >= expected
}

/// The re-check: `Ok` when `now` (the session as just re-read, `since` the
/// target was read) is still the session the user confirmed for a `mode`
/// kill, doing the same work ([`unchanged`]), and still meets the
/// expectation.
pub fn recheck(
    target: &KillTarget,
    now: Option<&Session>,
    mode: KillMode,
    safety: &Safety,
    since: Since,
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
    if !meets(now, target.expect) {
        return Err(match target.expect {
            Expect::IdleAtLeast { .. } if !now.is_sleeping() => SkipReason::Busy {
                command: now.command.clone(),
            },
            Expect::RunningAtLeast { .. } if now.is_sleeping() => SkipReason::QueryFinished,
            _ => SkipReason::ChangedSincePreview,
        });
    }
    if !unchanged(then, now, mode, target.expect, since) {
        return Err(match target.expect {
            Expect::Same => SkipReason::ChangedSinceConfirmed,
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

    /// Re-read at once, times to the millisecond.
    const NOW: Since = Since {
        elapsed: Duration::ZERO,
        precision: TimePrecision::Millis,
    };

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
        assert_eq!(recheck(&target, Some(&still), q, &safety, NOW), Ok(()));
        // Another statement by the time `y` was pressed.
        let second = with_info(
            s(5, "app", "Query", 0),
            "SELECT SLEEP(8) /* SECOND critical statement */",
        );
        let why = recheck(&target, Some(&second), q, &safety, NOW).unwrap_err();
        assert_eq!(why, SkipReason::ChangedSinceConfirmed);
        assert_eq!(why.to_string(), "changed since you confirmed");
        // The same text run again: its time went back (read 1 s later).
        let again = Session {
            time_ms: 1000,
            ..first.clone()
        };
        assert_eq!(
            recheck(
                &target,
                Some(&again),
                q,
                &safety,
                Since::millis(Duration::from_secs(1))
            ),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // Finished: idle now, no statement.
        assert_eq!(
            recheck(&target, Some(&s(5, "app", "Sleep", 0)), q, &safety, NOW),
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
        let run = |ms: u64, since: Since| {
            let now = Session {
                time_ms: ms,
                ..report.clone()
            };
            recheck(&target, Some(&now), q, &safety, since)
        };
        let exact = Since::millis(Duration::from_secs(7));
        let seconds = Since {
            elapsed: Duration::from_secs(7),
            precision: TimePrecision::Seconds,
        };
        // The confirmed run, 7 s on: at least 12 s old.
        assert_eq!(run(12_000, exact), Ok(()));
        assert_eq!(run(12_400, exact), Ok(()));
        // Whole seconds, read twice: a little less is still the same run.
        assert_eq!(run(10_000, seconds), Ok(()));
        // To the millisecond, the measuring error only.
        assert_eq!(run(11_800, exact), Ok(()));
        assert_eq!(run(11_700, exact), Err(SkipReason::ChangedSinceConfirmed));
        // A new run that started 1 s after the preview: 6 s old, not 12.
        assert_eq!(run(6_000, seconds), Err(SkipReason::ChangedSinceConfirmed));
        assert_eq!(run(6_000, exact), Err(SkipReason::ChangedSinceConfirmed));
    }

    /// `x` on a loop of `SELECT SLEEP(1.5)`: the dialog showed a run 1 s in
    /// (so 1.0-1.99 s old); it ended, and `y` 2.5 s later finds the next
    /// run. To the millisecond, any run started after the confirmed row was
    /// read is younger than the time passed.
    #[test]
    fn x_on_a_loop_of_short_statements_skips_the_next_run() {
        let safety = Safety::default();
        let shown = with_info(s(5, "app", "Query", 1), "SELECT SLEEP(1.5)");
        let target = KillTarget {
            session: shown.clone(),
            expect: Expect::Same,
        };
        let elapsed = Duration::from_millis(2500);
        // The confirmed run was 1.49 s old: it ended 10 ms after the read,
        // and the next one is 2.49 s old now, not the 3.5 s the first would be.
        let next_run = Session {
            time_ms: 2490,
            ..shown.clone()
        };
        assert_eq!(
            recheck(
                &target,
                Some(&next_run),
                KillMode::Query,
                &safety,
                Since::millis(elapsed)
            ),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // With whole seconds, that run would pass: why MySQL's slack is documented.
        let rounded = Session {
            time_ms: 2000,
            ..shown
        };
        let seconds = Since {
            elapsed,
            precision: TimePrecision::Seconds,
        };
        assert_eq!(
            recheck(&target, Some(&rounded), KillMode::Query, &safety, seconds),
            Ok(())
        );
    }

    /// `k` on a session shown as Sleep 0 s: before `y` it ran `BEGIN;
    /// INSERT ...` and went idle again. Still `Sleep`, but its idle spell
    /// started after the dialog opened: younger than the time passed.
    #[test]
    fn k_on_an_idle_session_that_opened_a_transaction_since_is_skipped() {
        let safety = Safety::default();
        let target = KillTarget {
            session: s(6, "app", "Sleep", 0),
            expect: Expect::Same,
        };
        let since = Since::millis(Duration::from_millis(1500));
        let idle_again = Session {
            time_ms: 900,
            ..s(6, "app", "Sleep", 0)
        };
        assert_eq!(
            recheck(&target, Some(&idle_again), C, &safety, since),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        let still_idle = Session {
            time_ms: 1600,
            ..idle_again
        };
        assert_eq!(
            recheck(&target, Some(&still_idle), C, &safety, since),
            Ok(())
        );
    }

    /// `I` and `L` targets: the same idle spell or statement, aged by the
    /// time since the preview, not just past the threshold.
    #[test]
    fn bulk_targets_must_be_the_same_idle_spell_or_statement() {
        let safety = Safety::default();
        let min = Duration::from_secs(60);
        let since = Since::millis(Duration::from_secs(30));
        let idle = KillTarget {
            session: s(1, "app", "Sleep", 100),
            expect: Expect::IdleAtLeast { min },
        };
        // Ran BEGIN + INSERT 20 s ago and idled past the threshold again.
        let again = s(1, "app", "Sleep", 70);
        assert_eq!(
            recheck(&idle, Some(&again), C, &safety, since),
            Err(SkipReason::ChangedSincePreview)
        );
        assert_eq!(
            recheck(&idle, Some(&s(1, "app", "Sleep", 130)), C, &safety, since),
            Ok(())
        );
        let long = KillTarget {
            session: with_info(s(3, "app", "Query", 90), "SELECT * FROM a"),
            expect: Expect::RunningAtLeast { min },
        };
        let q = KillMode::Query;
        // The statement shown finished; another (never shown) runs past the threshold.
        let other = with_info(s(3, "app", "Query", 80), "SELECT * FROM b");
        assert_eq!(
            recheck(&long, Some(&other), q, &safety, since),
            Err(SkipReason::ChangedSincePreview)
        );
        // The same text started again.
        let rerun = with_info(s(3, "app", "Query", 80), "SELECT * FROM a");
        assert_eq!(
            recheck(&long, Some(&rerun), q, &safety, since),
            Err(SkipReason::ChangedSincePreview)
        );
        let same = with_info(s(3, "app", "Query", 120), "SELECT * FROM a");
        assert_eq!(recheck(&long, Some(&same), q, &safety, since), Ok(()));
        // After a restart, id 3 is someone else's: refused by user/host first,
        // and by age for the same account.
        let new_conn = with_info(s(3, "app", "Query", 65), "SELECT * FROM a");
        assert!(recheck(&long, Some(&new_conn), q, &safety, since).is_err());
    }

    #[test]
    fn k_kills_only_a_session_still_in_the_confirmed_command() {
        let safety = Safety::default();
        let target = KillTarget {
            session: s(6, "app", "Sleep", 10),
            expect: Expect::Same,
        };
        assert_eq!(
            recheck(&target, Some(&s(6, "app", "Sleep", 12)), C, &safety, NOW),
            Ok(())
        );
        assert_eq!(
            recheck(&target, Some(&s(6, "app", "Query", 0)), C, &safety, NOW),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // Idle again after a statement (say BEGIN; UPDATE ...): a
        // transaction may be open now, and the idle time was reset.
        assert_eq!(
            recheck(&target, Some(&s(6, "app", "Sleep", 1)), C, &safety, NOW),
            Err(SkipReason::ChangedSinceConfirmed)
        );
        // A busy session confirmed for `k` may change its statement.
        let busy = KillTarget {
            session: with_info(s(7, "app", "Query", 30), "SELECT 1"),
            expect: Expect::Same,
        };
        let other = with_info(s(7, "app", "Query", 31), "SELECT 2");
        assert_eq!(recheck(&busy, Some(&other), C, &safety, NOW), Ok(()));
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
            recheck(&idle, Some(&s(1, "app", "Sleep", 401)), C, &safety, NOW),
            Ok(())
        );
        assert_eq!(recheck(&idle, None, C, &safety, NOW), Err(SkipReason::Gone));
        let busy = recheck(&idle, Some(&s(1, "app", "Query", 0)), C, &safety, NOW).unwrap_err();
        assert_eq!(busy.to_string(), "busy now (Query)");
        // Went busy and back to sleep: idle time restarted below the threshold.
        assert_eq!(
            recheck(&idle, Some(&s(1, "app", "Sleep", 2)), C, &safety, NOW),
            Err(SkipReason::ChangedSincePreview)
        );
        // The id was reused by another account.
        let reused =
            recheck(&idle, Some(&s(1, "other", "Sleep", 900)), C, &safety, NOW).unwrap_err();
        assert_eq!(reused.to_string(), "id now belongs to other@10.0.0.1:4000");
        let long = KillTarget {
            session: s(3, "app", "Query", 90),
            expect: Expect::RunningAtLeast {
                min: Duration::from_secs(60),
            },
        };
        assert_eq!(
            recheck(&long, Some(&s(3, "app", "Sleep", 1)), C, &safety, NOW),
            Err(SkipReason::QueryFinished)
        );
        assert_eq!(
            recheck(&long, Some(&s(3, "app", "Query", 95)), C, &safety, NOW),
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
            NOW,
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
