//! Locks that outlive their statement, remembered from one snapshot to the
//! next: a session seen running `LOCK TABLES`, `FLUSH TABLES WITH READ LOCK`
//! or `BACKUP STAGE` holds that lock while it sits idle afterwards, and the
//! processlist no longer says so. Without the performance schema this is
//! the only trace of such a holder. A statement that finishes between two
//! polls is never seen: the reasons given say so.

use std::collections::{HashMap, HashSet};

use super::statement::{self, Verb};
use crate::snapshot::Session;

/// A lock a session was seen taking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// `LockTables`, `Ftwrl` or `BackupStage`.
    pub verb: Verb,
    /// The tables of `LOCK TABLES` (or of `FLUSH TABLES t WITH READ LOCK`).
    pub tables: Vec<String>,
    /// The user and host, so that a reused id is not mistaken for the holder.
    owner: (String, String),
}

/// Sessions seen taking a lock that outlives the statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sightings {
    seen: HashMap<u64, Sighting>,
}

/// Cheap check before reading a statement: only these verbs matter here.
fn may_matter(info: &str) -> bool {
    let head = info.trim_start().as_bytes();
    let starts = |w: &[u8]| head.len() >= w.len() && head[..w.len()].eq_ignore_ascii_case(w);
    starts(b"LOCK")
        || starts(b"FLUSH")
        || starts(b"UNLOCK")
        || starts(b"BACKUP")
        || starts(b"START")
        || starts(b"BEGIN")
        || starts(b"/*")
}

impl Sightings {
    /// Follows one snapshot's sessions: records lock-taking statements,
    /// forgets released locks and sessions that are gone.
    pub fn update(&mut self, sessions: &[Session]) {
        if !self.seen.is_empty() {
            let present: HashSet<u64> = sessions.iter().map(|s| s.id).collect();
            self.seen.retain(|id, _| present.contains(id));
        }
        for s in sessions {
            if let Some(seen) = self.seen.get(&s.id) {
                if seen.owner != (s.user.clone(), s.host.clone()) {
                    self.seen.remove(&s.id);
                }
            }
            let Some(info) = s.info.as_deref().filter(|i| may_matter(i)) else {
                continue;
            };
            let st = statement::parse(info, s.db.as_deref());
            match st.verb {
                Verb::LockTables | Verb::Ftwrl | Verb::BackupStage => {
                    self.seen.insert(
                        s.id,
                        Sighting {
                            verb: st.verb,
                            tables: st.tables,
                            owner: (s.user.clone(), s.host.clone()),
                        },
                    );
                }
                Verb::Unlock => {
                    self.seen.remove(&s.id);
                }
                Verb::Begin
                    if self
                        .seen
                        .get(&s.id)
                        .is_some_and(|x| x.verb == Verb::LockTables) =>
                {
                    self.seen.remove(&s.id);
                }
                _ => {}
            }
        }
    }

    /// What session `id` was seen taking, if it still holds it.
    pub fn get(&self, id: u64) -> Option<&Sighting> {
        self.seen.get(&id)
    }

    /// Sessions holding a `LOCK TABLES` that names `object` (any table when
    /// `object` is unknown), by id.
    pub fn lock_tables_on(&self, object: Option<&str>) -> Vec<u64> {
        self.holders(|s| {
            s.verb == Verb::LockTables
                && object.is_none_or(|o| s.tables.iter().any(|t| super::same_object(t, o)))
        })
    }

    /// Sessions holding the global read lock or a backup stage, by id.
    pub fn global_holders(&self) -> Vec<u64> {
        self.holders(|s| matches!(s.verb, Verb::Ftwrl | Verb::BackupStage))
    }

    fn holders(&self, keep: impl Fn(&Sighting) -> bool) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .seen
            .iter()
            .filter(|(_, s)| keep(s))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u64, command: &str, info: Option<&str>) -> Session {
        Session {
            id,
            user: "app".into(),
            host: "10.0.0.1:5000".into(),
            db: Some("appdb".into()),
            command: command.into(),
            info: info.map(str::to_string),
            ..Session::default()
        }
    }

    #[test]
    fn remembers_until_unlock_or_gone() {
        let mut m = Sightings::default();
        m.update(&[
            s(1, "Query", Some("LOCK TABLES t WRITE")),
            s(2, "Query", Some("FLUSH TABLES WITH READ LOCK")),
            s(3, "Query", Some("SELECT * FROM t")),
        ]);
        assert_eq!(m.lock_tables_on(Some("appdb.t")), vec![1]);
        assert_eq!(m.lock_tables_on(Some("appdb.u")), Vec::<u64>::new());
        assert_eq!(m.lock_tables_on(None), vec![1]);
        assert_eq!(m.global_holders(), vec![2]);
        // Idle afterwards: still held.
        m.update(&[s(1, "Sleep", None), s(2, "Sleep", None)]);
        assert_eq!(m.lock_tables_on(Some("t")), vec![1]);
        assert_eq!(m.global_holders(), vec![2]);
        // START TRANSACTION releases LOCK TABLES, not the global read lock.
        m.update(&[
            s(1, "Query", Some("START TRANSACTION")),
            s(2, "Query", Some("BEGIN")),
        ]);
        assert!(m.lock_tables_on(None).is_empty());
        assert_eq!(m.global_holders(), vec![2]);
        m.update(&[s(2, "Query", Some("UNLOCK TABLES"))]);
        assert!(m.is_empty());
        m.update(&[s(4, "Query", Some("BACKUP STAGE START"))]);
        assert_eq!(m.global_holders(), vec![4]);
        m.update(&[]);
        assert!(m.is_empty(), "gone sessions are forgotten");
    }

    #[test]
    fn a_reused_id_is_not_the_holder() {
        let mut m = Sightings::default();
        m.update(&[s(1, "Query", Some("LOCK TABLES t READ"))]);
        let mut other = s(1, "Sleep", None);
        other.user = "someone_else".into();
        m.update(&[other]);
        assert!(m.get(1).is_none());
    }
}
