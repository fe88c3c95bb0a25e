//! Grouped views: sessions aggregated by user, client host or database.
//!
//! Pure functions over a slice of [`Session`]s; the UI decides what to draw.
//! Grouping is one pass over the sessions with a hash map keyed by borrowed
//! strings, so tens of thousands of sessions group in a few milliseconds.

use foldhash::{HashMap, HashMapExt};
use std::cmp::Ordering;

use crate::snapshot::{Activity, Session, share_of_max};

/// The key of the group of sessions that have no default database.
pub const NO_DB: &str = "(none)";

/// What sessions are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GroupBy {
    /// The account's user name.
    #[default]
    User,
    /// The client host without the port (`localhost` for socket clients).
    Host,
    /// The default database ([`NO_DB`] when there is none).
    Db,
}

impl GroupBy {
    /// Short name for headers and flags: `user`, `host` or `db`.
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::User => "user",
            GroupBy::Host => "host",
            GroupBy::Db => "db",
        }
    }

    /// The first grouping in Tab order.
    pub const FIRST: GroupBy = GroupBy::User;

    /// The grouping after this one in Tab order (user -> host -> db);
    /// `None` after the last.
    pub fn next(self) -> Option<GroupBy> {
        match self {
            GroupBy::User => Some(GroupBy::Host),
            GroupBy::Host => Some(GroupBy::Db),
            GroupBy::Db => None,
        }
    }

    /// The key a session falls under.
    pub fn key_of(self, session: &Session) -> &str {
        match self {
            GroupBy::User => &session.user,
            GroupBy::Host => session.client_host(),
            GroupBy::Db => session.db.as_deref().unwrap_or(NO_DB),
        }
    }
}

/// Sessions sharing one user, host or database.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The user name, client host or database.
    pub key: String,
    /// Threads listed in the group, system threads included:
    /// `sleeping + active`.
    pub sessions: u32,
    /// Client sessions in `Sleep` ([`Activity::Sleeping`]).
    pub sleeping: u32,
    /// Threads not in `Sleep`: `running + other + system`.
    pub active: u32,
    /// Client sessions executing a statement ([`Activity::Running`]).
    pub running: u32,
    /// Client sessions logging in, being killed or serving a replica
    /// ([`Activity::Other`]).
    pub other: u32,
    /// Server threads ([`Activity::System`]): they hold no slot.
    pub system: u32,
    /// Client sessions, each holding a slot: `sessions - system`.
    pub slots: u32,
    /// Longest idle time among the sleeping sessions (0 when none sleeps).
    pub oldest_idle_ms: u64,
    /// Longest time in the current command among the active threads
    /// (0 when none is active).
    pub longest_running_ms: u64,
    /// `slots / max_connections`; 0 when max_connections is unknown (0) and
    /// for a group of system threads only.
    pub share: f64,
}

#[derive(Default)]
struct Acc {
    sessions: u32,
    sleeping: u32,
    running: u32,
    other: u32,
    system: u32,
    oldest_idle_ms: u64,
    longest_running_ms: u64,
}

/// Aggregates sessions by `by`. Nothing is left out: server threads form
/// groups of their own user (`system user`, `event_scheduler`), counted in
/// `sessions` and `active` but holding no share of max_connections.
///
/// The result is ordered by session count, largest first, then by key.
pub fn group<'a>(
    sessions: impl IntoIterator<Item = &'a Session>,
    by: GroupBy,
    max_connections: u64,
) -> Vec<Group> {
    let mut accs: HashMap<&str, Acc> = HashMap::new();
    for s in sessions {
        let acc = accs.entry(by.key_of(s)).or_default();
        acc.sessions = acc.sessions.saturating_add(1);
        let activity = s.activity();
        match activity {
            Activity::Sleeping => acc.sleeping = acc.sleeping.saturating_add(1),
            Activity::Running => acc.running = acc.running.saturating_add(1),
            Activity::Other => acc.other = acc.other.saturating_add(1),
            Activity::System => acc.system = acc.system.saturating_add(1),
        }
        if activity == Activity::Sleeping {
            acc.oldest_idle_ms = acc.oldest_idle_ms.max(s.time_ms);
        } else {
            acc.longest_running_ms = acc.longest_running_ms.max(s.time_ms);
        }
    }
    let mut groups: Vec<Group> = accs
        .into_iter()
        .map(|(key, a)| {
            let slots = a.sessions - a.system;
            Group {
                key: key.to_string(),
                sessions: a.sessions,
                sleeping: a.sleeping,
                active: a.sessions - a.sleeping,
                running: a.running,
                other: a.other,
                system: a.system,
                slots,
                oldest_idle_ms: a.oldest_idle_ms,
                longest_running_ms: a.longest_running_ms,
                share: share_of_max(u64::from(slots), max_connections),
            }
        })
        .collect();
    sort_groups(&mut groups, GroupSort::Sessions, true);
    groups
}

/// The column groups are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GroupSort {
    /// The group key, alphabetically.
    Key,
    /// Session count.
    #[default]
    Sessions,
    /// Sleeping sessions.
    Sleeping,
    /// Active (non-`Sleep`) sessions.
    Active,
    /// Longest idle time.
    OldestIdle,
    /// Longest running command.
    LongestRunning,
    /// Share of max_connections (client sessions only).
    Share,
}

impl GroupSort {
    /// Every sort, in cycle order.
    pub const ALL: [GroupSort; 7] = [
        GroupSort::Key,
        GroupSort::Sessions,
        GroupSort::Sleeping,
        GroupSort::Active,
        GroupSort::OldestIdle,
        GroupSort::LongestRunning,
        GroupSort::Share,
    ];

    /// Short column name for headers.
    pub fn label(self) -> &'static str {
        match self {
            GroupSort::Key => "key",
            GroupSort::Sessions => "sessions",
            GroupSort::Sleeping => "sleeping",
            GroupSort::Active => "active",
            GroupSort::OldestIdle => "oldest idle",
            GroupSort::LongestRunning => "longest running",
            GroupSort::Share => "share",
        }
    }

    /// The next column in the cycle, in declaration order.
    pub fn next(self) -> GroupSort {
        match self {
            GroupSort::Key => GroupSort::Sessions,
            GroupSort::Sessions => GroupSort::Sleeping,
            GroupSort::Sleeping => GroupSort::Active,
            GroupSort::Active => GroupSort::OldestIdle,
            GroupSort::OldestIdle => GroupSort::LongestRunning,
            GroupSort::LongestRunning => GroupSort::Share,
            GroupSort::Share => GroupSort::Key,
        }
    }
}

/// Sorts groups by `key`, largest first when `descending`. Ties are broken
/// by the group key, always ascending, so the order never flickers between
/// ticks.
pub fn sort_groups(groups: &mut [Group], key: GroupSort, descending: bool) {
    groups.sort_by(|a, b| {
        let primary = match key {
            GroupSort::Key => a.key.cmp(&b.key),
            GroupSort::Sessions => a.sessions.cmp(&b.sessions),
            GroupSort::Sleeping => a.sleeping.cmp(&b.sleeping),
            GroupSort::Active => a.active.cmp(&b.active),
            GroupSort::OldestIdle => a.oldest_idle_ms.cmp(&b.oldest_idle_ms),
            GroupSort::LongestRunning => a.longest_running_ms.cmp(&b.longest_running_ms),
            GroupSort::Share => a.share.total_cmp(&b.share),
        };
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        match primary {
            Ordering::Equal => a.key.cmp(&b.key),
            other => other,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u64, user: &str, host: &str, db: Option<&str>, cmd: &str, secs: u64) -> Session {
        Session {
            id,
            user: user.into(),
            host: host.into(),
            db: db.map(Into::into),
            command: cmd.into(),
            time_ms: secs * 1000,
            ..Session::default()
        }
    }

    fn sample() -> Vec<Session> {
        vec![
            session(1, "app", "10.0.0.7:50001", Some("shop"), "Sleep", 400),
            session(2, "app", "10.0.0.7:50002", Some("shop"), "Sleep", 10),
            session(3, "app", "10.0.0.8:50003", Some("shop"), "Query", 70),
            session(4, "report", "10.0.0.9:40000", None, "Query", 5),
            session(5, "root", "localhost", None, "Sleep", 1),
            // A socket client as MariaDB lists it.
            session(6, "root", "localhost", None, "Query", 0),
            session(7, "event_scheduler", "localhost", None, "Daemon", 9000),
        ]
    }

    fn find<'a>(groups: &'a [Group], key: &str) -> &'a Group {
        groups.iter().find(|g| g.key == key).expect("group present")
    }

    #[test]
    fn by_user_counts_everything() {
        let groups = group(&sample(), GroupBy::User, 100);
        assert_eq!(groups.len(), 4);
        assert_eq!(groups[0].key, "app");
        let app = find(&groups, "app");
        assert_eq!((app.sessions, app.sleeping, app.active), (3, 2, 1));
        assert_eq!(app.oldest_idle_ms, 400_000);
        assert_eq!(app.longest_running_ms, 70_000);
        assert!((app.share - 0.03).abs() < 1e-9);
        let sys = find(&groups, "event_scheduler");
        assert_eq!((sys.sessions, sys.active), (1, 1));
        assert_eq!(sys.oldest_idle_ms, 0);
        assert_eq!(sys.longest_running_ms, 9_000_000);
        let total: u32 = groups.iter().map(|g| g.sessions).sum();
        assert_eq!(total, 7);
    }

    #[test]
    fn system_threads_hold_no_share() {
        let mut sessions = sample();
        sessions.push(session(
            8,
            "unauthenticated user",
            "10.0.0.9:1",
            None,
            "Connect",
            1,
        ));
        // A server thread without a client host (InnoDB purge).
        sessions.push(session(9, "system user", "", None, "Daemon", 9000));
        let by_user = group(&sessions, GroupBy::User, 100);
        let sys = find(&by_user, "event_scheduler");
        assert_eq!((sys.system, sys.slots, sys.share), (1, 0, 0.0));
        let login = find(&by_user, "unauthenticated user");
        assert_eq!((login.other, login.running, login.slots), (1, 0, 1));
        // A host group mixing clients and server threads: only clients count.
        let by_host = group(&sessions, GroupBy::Host, 100);
        let local = find(&by_host, "localhost");
        assert_eq!((local.sessions, local.system, local.slots), (4, 2, 2));
        assert!((local.share - 0.02).abs() < 1e-9);
        // Per group and summed, the counts agree with the snapshot's.
        let counts = crate::snapshot::Counts::of(&sessions, 8, 100);
        assert_eq!(counts.system, 2);
        for by in [GroupBy::User, GroupBy::Host, GroupBy::Db] {
            let groups = group(&sessions, by, 100);
            for g in &groups {
                assert_eq!(g.sessions, g.sleeping + g.active, "{g:?}");
                assert_eq!(g.active, g.running + g.other + g.system, "{g:?}");
                assert_eq!(g.slots, g.sleeping + g.running + g.other, "{g:?}");
            }
            let sum = |f: fn(&Group) -> u32| groups.iter().map(f).map(u64::from).sum::<u64>();
            assert_eq!(sum(|g| g.slots), counts.clients);
            assert_eq!(sum(|g| g.running), counts.running);
            assert_eq!(sum(|g| g.sleeping), counts.sleeping);
            assert_eq!(sum(|g| g.system), counts.system);
            let share: f64 = groups.iter().map(|g| g.share).sum();
            assert!((share - counts.clients as f64 / 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn by_host_strips_port_and_maps_socket() {
        let groups = group(&sample(), GroupBy::Host, 100);
        assert_eq!(find(&groups, "10.0.0.7").sessions, 2);
        assert_eq!(find(&groups, "10.0.0.8").sessions, 1);
        // "localhost" and the empty host (socket) are the same group.
        assert_eq!(find(&groups, "localhost").sessions, 3);
        assert!(groups.iter().all(|g| !g.key.contains(':')));
    }

    #[test]
    fn by_db_names_missing_db() {
        let groups = group(&sample(), GroupBy::Db, 100);
        assert_eq!(groups.len(), 2);
        assert_eq!(find(&groups, NO_DB).sessions, 4);
        assert_eq!(find(&groups, "shop").sessions, 3);
    }

    #[test]
    fn empty_and_unknown_max() {
        assert!(group(std::iter::empty(), GroupBy::User, 0).is_empty());
        let groups = group(&sample(), GroupBy::User, 0);
        assert!(groups.iter().all(|g| g.share == 0.0));
    }

    #[test]
    fn labels_and_cycles() {
        assert_eq!(GroupBy::User.label(), "user");
        assert_eq!(GroupBy::Host.label(), "host");
        assert_eq!(GroupBy::Db.label(), "db");
        assert_eq!(GroupBy::FIRST.next(), Some(GroupBy::Host));
        assert_eq!(GroupBy::Host.next(), Some(GroupBy::Db));
        assert_eq!(GroupBy::Db.next(), None);
        for (i, s) in GroupSort::ALL.into_iter().enumerate() {
            assert_eq!(s.next(), GroupSort::ALL[(i + 1) % GroupSort::ALL.len()]);
        }
    }

    #[test]
    fn sort_with_stable_tie_break() {
        let mut groups = group(&sample(), GroupBy::User, 100);
        sort_groups(&mut groups, GroupSort::Sessions, true);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["app", "root", "event_scheduler", "report"]);

        // Ascending: ties still broken by key ascending.
        sort_groups(&mut groups, GroupSort::Sessions, false);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["event_scheduler", "report", "root", "app"]);

        sort_groups(&mut groups, GroupSort::Key, false);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["app", "event_scheduler", "report", "root"]);

        sort_groups(&mut groups, GroupSort::Key, true);
        assert_eq!(groups[0].key, "root");

        sort_groups(&mut groups, GroupSort::OldestIdle, true);
        assert_eq!(groups[0].key, "app");

        sort_groups(&mut groups, GroupSort::LongestRunning, true);
        assert_eq!(groups[0].key, "event_scheduler");

        sort_groups(&mut groups, GroupSort::Sleeping, true);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["app", "root", "event_scheduler", "report"]);

        sort_groups(&mut groups, GroupSort::Active, true);
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["app", "event_scheduler", "report", "root"]);

        sort_groups(&mut groups, GroupSort::Share, false);
        assert_eq!(groups.last().map(|g| g.key.as_str()), Some("app"));
    }

    #[test]
    fn fifty_thousand_sessions_group_quickly() {
        let sessions: Vec<Session> = (0..50_000u64)
            .map(|i| {
                session(
                    i,
                    &format!("user{}", i % 50),
                    &format!("10.0.{}.{}:{}", i % 7, i % 200, 30_000 + i % 20_000),
                    if i % 3 == 0 { None } else { Some("shop") },
                    if i % 4 == 0 { "Query" } else { "Sleep" },
                    i % 1000,
                )
            })
            .collect();
        let start = std::time::Instant::now();
        let by_user = group(&sessions, GroupBy::User, 100_000);
        let by_host = group(&sessions, GroupBy::Host, 100_000);
        let by_db = group(&sessions, GroupBy::Db, 100_000);
        let elapsed = start.elapsed();
        assert_eq!(by_user.len(), 50);
        assert_eq!(by_user.iter().map(|g| g.sessions).sum::<u32>(), 50_000);
        assert_eq!(by_host.iter().map(|g| g.sessions).sum::<u32>(), 50_000);
        assert_eq!(by_db.len(), 2);
        // Generous bound for unoptimised test builds on a busy machine; it
        // catches accidental quadratic work, not microseconds.
        assert!(elapsed.as_millis() < 2_000, "grouping took {elapsed:?}");
    }
}
