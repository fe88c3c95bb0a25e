//! Puts a [`Wait`] and its holders (`blocked_by`) on every waiting session.
//!
//! From the best source the server has, per waiting session:
//!
//! 1. InnoDB row lock waits from the lock tables: certain.
//! 2. Metadata locks from `performance_schema.metadata_locks`: certain, the
//!    server's conflict rules applied to its granted and pending locks. The
//!    `METADATA_LOCK_INFO` plugin lists granted locks only: its holders are
//!    certain, the queue behind a pending DDL is inferred.
//! 3. Otherwise an inference from the processlist (who waits, for what, on
//!    which table) and the open transactions, per chain:
//!    - metadata locks: statements queue behind a DDL or `LOCK TABLES` that
//!      waits longer on the same table; the DDL waits for the statements
//!      running on the table and the transactions open since before the first
//!      waiter (the server does not say which tables a transaction touched);
//!    - table-level locks: the statements running on the table;
//!    - table flush: the statements running since before the flush;
//!    - global read lock / backup lock: writes queue behind the
//!      `FLUSH TABLES WITH READ LOCK` (running, or seen taken and not
//!      released); the FTWRL waits for the writes (MariaDB) or any statement
//!      (MySQL) running since before it.
//!
//! Every wait says whether it is certain and why. A waiter whose holder
//! cannot be named gets a wait with no holders, and the reason.

mod chain;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::facts::{self, LockFacts, MdlLock, MdlSource, Namespace};
use super::sightings::Sightings;
use super::statement::{self, Statement, Verb};
use super::{Wait, WaitKind, same_object};
use crate::snapshot::Session;

/// Processlist times and transaction ages have second precision: a
/// transaction this much younger than the first waiter may still be older.
pub(super) const TIME_SLACK_MS: u64 = 1000;

/// The waiting kind a processlist state names, if any.
pub fn state_wait(state: &str) -> Option<WaitKind> {
    let s = state.trim();
    if !s.starts_with("Waiting for") && !s.starts_with("waiting for") {
        return None;
    }
    let l = s.to_ascii_lowercase();
    if l.contains("metadata lock") {
        Some(WaitKind::Metadata)
    } else if l.contains("table level lock") {
        Some(WaitKind::Table)
    } else if l.contains("table flush") || l == "waiting for tables" {
        Some(WaitKind::Flush)
    } else if l.contains("global read lock") || l.contains("commit lock") {
        Some(WaitKind::GlobalRead)
    } else if l.contains("backup lock") {
        Some(WaitKind::Backup)
    } else {
        None
    }
}

/// A wait and its holders, found for one session.
type Found = (Wait, Vec<u64>);

/// What the rules read about every session: the states once, the
/// statements when a rule first asks (most sessions are never asked).
struct Scene<'a> {
    sessions: &'a [Session],
    /// The state's wait kind, per session.
    state: Vec<Option<WaitKind>>,
    /// The statement, read on first use for sessions that run one.
    stmt: Vec<OnceCell<Option<Statement>>>,
    index: HashMap<u64, usize>,
}

impl<'a> Scene<'a> {
    fn new(sessions: &'a [Session]) -> Scene<'a> {
        let state = sessions.iter().map(|s| state_wait(&s.state)).collect();
        let stmt = sessions.iter().map(|_| OnceCell::new()).collect();
        let index = sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        Scene {
            sessions,
            state,
            stmt,
            index,
        }
    }

    /// Session `i`'s statement, read for locks (none when it is idle).
    fn stmt(&self, i: usize) -> Option<&Statement> {
        self.stmt[i]
            .get_or_init(|| {
                let s = &self.sessions[i];
                (!s.is_sleeping())
                    .then_some(s.info.as_deref())
                    .flatten()
                    .map(|info| statement::parse(info, s.db.as_deref()))
            })
            .as_ref()
    }

    fn verb(&self, i: usize) -> Verb {
        self.stmt(i).map_or(Verb::Other, |s| s.verb)
    }

    fn object(&self, i: usize) -> Option<String> {
        self.stmt(i).and_then(|s| s.table()).map(str::to_string)
    }

    fn names(&self, i: usize, object: Option<&str>) -> bool {
        match (object, self.stmt(i)) {
            (None, _) => true,
            (Some(o), Some(st)) => st.names(o),
            (Some(_), None) => false,
        }
    }

    /// Runs a statement and waits for no lock in the processlist's states.
    fn running_free(&self, i: usize) -> bool {
        let s = &self.sessions[i];
        !s.is_sleeping() && !s.is_system() && self.state[i].is_none()
    }

    /// `ALTER TABLE #11`, `FLUSH TABLES WITH READ LOCK #16`, `#12`.
    fn label(&self, id: u64) -> String {
        let Some(&i) = self.index.get(&id) else {
            return format!("#{id}");
        };
        let verb = match self.verb(i) {
            Verb::Ddl => {
                let info = self.sessions[i].info.as_deref().unwrap_or("");
                let words: Vec<String> = info
                    .split_whitespace()
                    .take(2)
                    .map(|w| crate::text::plain(w, 12).to_ascii_uppercase())
                    .collect();
                words.join(" ")
            }
            Verb::LockTables => "LOCK TABLES".to_string(),
            Verb::Ftwrl => "FLUSH TABLES WITH READ LOCK".to_string(),
            Verb::Flush => "FLUSH TABLES".to_string(),
            Verb::BackupStage => "BACKUP STAGE".to_string(),
            _ => String::new(),
        };
        if verb.is_empty() {
            format!("#{id}")
        } else {
            format!("{verb} #{id}")
        }
    }
}

/// Fills `blocked_by` and `wait` of every session from `facts` (the lock
/// tables read this tick) and `sightings` (locks seen taken earlier).
pub fn apply(sessions: &mut [Session], facts: &LockFacts, sightings: &Sightings) {
    for s in sessions.iter_mut() {
        s.blocked_by.clear();
        s.wait = None;
    }
    let any_state = sessions.iter().any(|s| state_wait(&s.state).is_some());
    if !any_state && facts.rows.is_empty() && facts.lock_wait.is_empty() {
        return;
    }
    let found = {
        let scene = Scene::new(sessions);
        infer(&scene, facts, sightings)
    };
    for (i, (wait, mut holders)) in found {
        let own = sessions[i].id;
        holders.retain(|h| *h != own);
        holders.sort_unstable();
        holders.dedup();
        sessions[i].blocked_by = holders;
        sessions[i].wait = Some(wait);
    }
}

fn infer(scene: &Scene, facts: &LockFacts, sightings: &Sightings) -> HashMap<usize, Found> {
    let mut found: HashMap<usize, Found> = HashMap::new();
    row_waits(scene, facts, &mut found);
    match facts.mdl_source {
        MdlSource::PerformanceSchema => pending_locks(scene, facts, &mut found),
        MdlSource::Plugin => granted_locks(scene, facts, &mut found),
        MdlSource::None => {}
    }
    // The rest, by the kind the processlist's state names.
    let mut groups: BTreeMap<(WaitKind, String), Vec<usize>> = BTreeMap::new();
    for (i, kind) in scene.state.iter().enumerate() {
        let Some(kind) = *kind else { continue };
        if found.contains_key(&i) || scene.sessions[i].is_system() {
            continue;
        }
        let object = match kind {
            WaitKind::GlobalRead | WaitKind::Backup => String::new(),
            _ => scene.object(i).unwrap_or_default(),
        };
        groups.entry((kind, object)).or_default().push(i);
    }
    // Waiters of every kind, so that none is taken for a holder of its own queue.
    let waiting: HashSet<usize> = groups.values().flatten().copied().collect();
    for ((kind, object), members) in &groups {
        let object = (!object.is_empty()).then_some(object.as_str());
        let chain = chain::Chain {
            scene,
            sightings,
            kind: *kind,
            object,
            members,
            member_set: members.iter().copied().collect(),
            waiting: &waiting,
        };
        match kind {
            WaitKind::Metadata => chain.metadata(&mut found),
            WaitKind::Table => chain.table_level(&mut found),
            WaitKind::Flush => chain.flush(&mut found),
            WaitKind::GlobalRead | WaitKind::Backup => chain.global(&mut found),
            WaitKind::Row => {}
        }
    }
    found
}

/// Row lock waits from the lock tables; `LOCK WAIT` without them.
fn row_waits(scene: &Scene, facts: &LockFacts, found: &mut HashMap<usize, Found>) {
    let mut by_waiter: BTreeMap<u64, (Vec<u64>, Option<String>)> = BTreeMap::new();
    for rw in &facts.rows {
        let e = by_waiter.entry(rw.waiter).or_default();
        e.0.push(rw.holder);
        if e.1.is_none() {
            e.1 = rw.object.clone();
        }
    }
    let from = facts.rows_from.unwrap_or("the InnoDB lock tables");
    for (waiter, (holders, object)) in by_waiter {
        let Some(&i) = scene.index.get(&waiter) else {
            continue;
        };
        let names: Vec<String> = holders.iter().map(|h| format!("#{h}")).collect();
        let why = format!(
            "{from}: waits for a row lock{} held by {}",
            object
                .as_deref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default(),
            names.join(", ")
        );
        found.insert(i, (wait(WaitKind::Row, object, true, why), holders));
    }
    for id in &facts.lock_wait {
        let Some(&i) = scene.index.get(id) else {
            continue;
        };
        found.entry(i).or_insert_with(|| {
            let why = match facts.rows_from {
                Some(t) => format!(
                    "InnoDB reports LOCK WAIT; {t} names no holder (it finished meanwhile?)"
                ),
                None => "InnoDB reports LOCK WAIT; the lock wait tables are not readable here"
                    .to_string(),
            };
            (wait(WaitKind::Row, scene.object(i), false, why), Vec::new())
        });
    }
}

fn wait(kind: WaitKind, object: Option<String>, certain: bool, why: String) -> Wait {
    Wait {
        kind,
        object,
        certain,
        why,
    }
}

/// The kind of wait a lock namespace is.
fn kind_of(ns: Namespace) -> WaitKind {
    match ns {
        Namespace::Global | Namespace::Commit => WaitKind::GlobalRead,
        Namespace::Backup => WaitKind::Backup,
        Namespace::Table | Namespace::Schema | Namespace::Other => WaitKind::Metadata,
    }
}

/// `performance_schema.metadata_locks`: each pending lock waits for the
/// granted or queued-ahead locks it conflicts with.
fn pending_locks(scene: &Scene, facts: &LockFacts, found: &mut HashMap<usize, Found>) {
    let mut by_object: HashMap<(Namespace, Option<String>), Vec<&MdlLock>> = HashMap::new();
    for l in &facts.mdl {
        let key = (
            l.namespace,
            l.object.as_ref().map(|o| o.to_ascii_lowercase()),
        );
        by_object.entry(key).or_default().push(l);
    }
    for l in facts.mdl.iter().filter(|l| !l.granted) {
        let Some(&i) = scene.index.get(&l.session) else {
            continue;
        };
        if found.contains_key(&i) {
            continue;
        }
        let key = (
            l.namespace,
            l.object.as_ref().map(|o| o.to_ascii_lowercase()),
        );
        let others = by_object.get(&key).map_or(&[][..], Vec::as_slice);
        let holders: Vec<&&MdlLock> = others.iter().filter(|o| facts::waits_for(l, o)).collect();
        let detail: Vec<String> = holders
            .iter()
            .take(3)
            .map(|h| {
                let how = if h.granted {
                    "holds"
                } else {
                    "queued ahead for"
                };
                format!("#{} {how} {}", h.session, h.mode)
            })
            .collect();
        let why = format!(
            "{}: waits for {}{}{}",
            MdlSource::PerformanceSchema.table(),
            l.mode,
            l.object
                .as_deref()
                .map(|o| format!(" on {o}"))
                .unwrap_or_default(),
            if detail.is_empty() {
                String::new()
            } else {
                format!("; {}", detail.join(", "))
            }
        );
        let ids = holders.iter().map(|h| h.session).collect();
        found.insert(
            i,
            (wait(kind_of(l.namespace), l.object.clone(), true, why), ids),
        );
    }
}

/// MariaDB's `METADATA_LOCK_INFO` (granted locks only): a table waiter waits
/// for the granted locks on its table that conflict with what its statement
/// asks for. Waiters with no such holder are left to the inference (the
/// queue behind a pending DDL is not in the table).
fn granted_locks(scene: &Scene, facts: &LockFacts, found: &mut HashMap<usize, Found>) {
    for (i, kind) in scene.state.iter().enumerate() {
        if *kind != Some(WaitKind::Metadata) || found.contains_key(&i) {
            continue;
        }
        let Some(object) = scene.object(i) else {
            continue;
        };
        let request = MdlLock {
            session: scene.sessions[i].id,
            namespace: Namespace::Table,
            object: Some(object.clone()),
            mode: facts::requested_mode(scene.verb(i)).to_string(),
            granted: false,
        };
        let holders: Vec<&MdlLock> = facts
            .mdl
            .iter()
            .filter(|l| {
                l.granted
                    && l.namespace == Namespace::Table
                    && l.object.as_deref().is_some_and(|o| same_object(o, &object))
                    && facts::waits_for(
                        &MdlLock {
                            object: l.object.clone(),
                            ..request.clone()
                        },
                        l,
                    )
            })
            .collect();
        if holders.is_empty() {
            continue;
        }
        let first = holders[0];
        let why = format!(
            "{}: #{} holds {} on {object}{}",
            MdlSource::Plugin.table(),
            first.session,
            first.mode,
            if holders.len() > 1 {
                format!(" ({} holders)", holders.len())
            } else {
                String::new()
            }
        );
        let ids = holders.iter().map(|h| h.session).collect();
        found.insert(i, (wait(WaitKind::Metadata, Some(object), true, why), ids));
    }
}
