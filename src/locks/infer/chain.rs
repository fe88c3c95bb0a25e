//! The inference from the processlist and the open transactions, one queue
//! (waiters of one kind on one object) at a time.

use std::collections::{HashMap, HashSet};

use super::{Found, Scene, TIME_SLACK_MS, wait};
use crate::locks::WaitKind;
use crate::locks::sightings::Sightings;
use crate::locks::statement::Verb;
use crate::snapshot::Session;
use crate::text::short_ms;

/// Idle sessions named as possible holders of a lock nobody visibly holds
/// (`LOCK TABLES`, `HANDLER`) when no more than this many qualify.
const GUESS_MAX: usize = 3;

/// One queue of waiters of one kind on one object, and what they can see.
pub(super) struct Chain<'a> {
    pub(super) scene: &'a Scene<'a>,
    pub(super) sightings: &'a Sightings,
    pub(super) kind: WaitKind,
    pub(super) object: Option<&'a str>,
    pub(super) members: &'a [usize],
    /// `members` for lookups.
    pub(super) member_set: HashSet<usize>,
    /// Every session the states say waits, this queue's included.
    pub(super) waiting: &'a HashSet<usize>,
}

/// What a waiter asks for, which decides who can hold it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The exclusive metadata lock (DDL, LOCK TABLES).
    Exclusive,
    /// A shared metadata lock (a statement) with no DDL queued ahead.
    Shared,
    /// A table-level lock (MyISAM, Aria).
    Table,
}

/// Holders found for a queue, and the reason to give.
struct Holders {
    ids: Vec<u64>,
    why: String,
}

impl Chain<'_> {
    fn sessions(&self) -> &[Session] {
        self.scene.sessions
    }

    /// The longest a member has waited, in ms.
    fn first_wait_ms(&self) -> u64 {
        self.members
            .iter()
            .map(|&i| self.sessions()[i].time_ms)
            .max()
            .unwrap_or(0)
    }

    fn is_member(&self, i: usize) -> bool {
        self.member_set.contains(&i)
    }

    fn object_text(&self) -> &str {
        self.object.unwrap_or("its table")
    }

    fn put(&self, found: &mut HashMap<usize, Found>, i: usize, ids: Vec<u64>, why: String) {
        let object = self.object.map(str::to_string);
        found.insert(i, (wait(self.kind, object, false, why), ids));
    }

    /// Statements running (and waiting for no lock) on the object since at
    /// least `since_ms`.
    fn running_on(&self, since_ms: u64) -> Vec<usize> {
        (0..self.sessions().len())
            .filter(|&i| {
                self.scene.running_free(i)
                    && !self.is_member(i)
                    && self.sessions()[i].time_ms >= since_ms
                    && self.scene.names(i, self.object)
            })
            .collect()
    }

    /// Who can hold the lock the queue needs, for a waiter that asks for
    /// `want`: running statements on the table since before the first
    /// waiter (only the DDL and LOCK TABLES ones for a shared request: a
    /// statement's shared lock does not block another), open transactions
    /// as old (only for an exclusive request: a transaction keeps shared
    /// locks), and sessions seen taking LOCK TABLES on it.
    fn holders(&self, want: Want) -> Holders {
        let first = self.first_wait_ms();
        let sessions = self.sessions();
        let mut running = self.running_on(first.saturating_sub(TIME_SLACK_MS));
        if want == Want::Shared {
            running.retain(|&i| self.scene.verb(i).wants_exclusive());
        }
        let running_set: HashSet<usize> = running.iter().copied().collect();
        let trx: Vec<usize> = if want == Want::Exclusive {
            (0..sessions.len())
                .filter(|&i| {
                    !self.is_member(i)
                        && !sessions[i].is_system()
                        && !running_set.contains(&i)
                        && sessions[i]
                            .trx_age_ms
                            .is_some_and(|age| age.saturating_add(TIME_SLACK_MS) >= first)
                })
                .collect()
        } else {
            Vec::new()
        };
        let locked: Vec<u64> = self
            .sightings
            .lock_tables_on(self.object)
            .into_iter()
            .filter(|id| {
                self.scene
                    .index
                    .get(id)
                    .is_some_and(|&i| !self.is_member(i))
            })
            .collect();
        let mut ids: Vec<u64> = running.iter().map(|&i| sessions[i].id).collect();
        ids.extend(trx.iter().map(|&i| sessions[i].id));
        ids.extend(&locked);
        let o = self.object_text();
        let why = if let Some(&i) = running.first() {
            format!(
                "inferred: #{} runs a statement on {o} since before the first waiter ({} ago)",
                sessions[i].id,
                short_ms(first)
            )
        } else if let Some(&i) = trx.first() {
            format!(
                "inferred: #{}'s transaction is open {} (since before the first waiter, {} ago); \
                 the server does not say which tables it holds",
                sessions[i].id,
                short_ms(sessions[i].trx_age_ms.unwrap_or(0)),
                short_ms(first)
            )
        } else if let Some(id) = locked.first() {
            format!("inferred: #{id} was seen running LOCK TABLES on {o} and has not unlocked")
        } else {
            return self.idle_guess(first);
        };
        Holders { ids, why }
    }

    /// Nobody visibly holds the lock: idle sessions without a transaction,
    /// idle since before the first waiter, can (`LOCK TABLES`, `HANDLER`).
    /// Named when few; those in the table's schema first.
    fn idle_guess(&self, first: u64) -> Holders {
        let sessions = self.sessions();
        let mut idle: Vec<usize> = (0..sessions.len())
            .filter(|&i| {
                let s = &sessions[i];
                s.is_sleeping()
                    && !s.is_system()
                    && s.trx_age_ms.is_none()
                    && s.time_ms >= first
                    && !self.waiting.contains(&i)
            })
            .collect();
        let schema = self.object.and_then(|o| o.split_once('.')).map(|(d, _)| d);
        if let Some(schema) = schema {
            let in_schema: Vec<usize> = idle
                .iter()
                .copied()
                .filter(|&i| {
                    sessions[i]
                        .db
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case(schema))
                })
                .collect();
            if !in_schema.is_empty() {
                idle = in_schema;
            }
        }
        let o = self.object_text();
        if idle.is_empty() || idle.len() > GUESS_MAX {
            return Holders {
                ids: Vec::new(),
                why: format!(
                    "holder not visible: no statement, transaction or LOCK TABLES seen on {o}{}",
                    if idle.is_empty() {
                        String::new()
                    } else {
                        format!("; {} idle sessions could hold it (LOCK TABLES)", idle.len())
                    }
                ),
            };
        }
        Holders {
            ids: idle.iter().map(|&i| sessions[i].id).collect(),
            why: format!(
                "inferred: idle since before the first waiter with no transaction open: \
                 only LOCK TABLES (or HANDLER) can hold a lock on {o} that way"
            ),
        }
    }

    /// Metadata locks: statements queue behind a DDL (or LOCK TABLES) that
    /// waits longer; the DDL and the rest wait for the holders.
    pub(super) fn metadata(&self, found: &mut HashMap<usize, Found>) {
        let sessions = self.sessions();
        let exclusive: Vec<usize> = self
            .members
            .iter()
            .copied()
            .filter(|&i| self.scene.verb(i).wants_exclusive())
            .collect();
        let mut exclusive_holders: Option<Holders> = None;
        let mut shared_holders: Option<Holders> = None;
        for &w in self.members {
            let ahead: Vec<u64> = if self.scene.verb(w).wants_exclusive() {
                Vec::new()
            } else {
                exclusive
                    .iter()
                    .filter(|&&d| sessions[d].time_ms >= sessions[w].time_ms)
                    .map(|&d| sessions[d].id)
                    .collect()
            };
            if let Some(&first) = ahead.first() {
                let why = format!(
                    "inferred: queued behind {} (waiting for the exclusive lock on {})",
                    self.scene.label(first),
                    self.object_text()
                );
                self.put(found, w, ahead, why);
                continue;
            }
            let h = if self.scene.verb(w).wants_exclusive() {
                exclusive_holders.get_or_insert_with(|| self.holders(Want::Exclusive))
            } else {
                shared_holders.get_or_insert_with(|| self.holders(Want::Shared))
            };
            self.put(found, w, h.ids.clone(), h.why.clone());
        }
    }

    /// Table-level locks: the statements running on the table hold them;
    /// else a write queued ahead.
    pub(super) fn table_level(&self, found: &mut HashMap<usize, Found>) {
        let h = self.holders(Want::Table);
        let sessions = self.sessions();
        for &w in self.members {
            if !h.ids.is_empty() {
                self.put(found, w, h.ids.clone(), h.why.clone());
                continue;
            }
            let ahead: Vec<u64> = self
                .members
                .iter()
                .copied()
                .filter(|&o| {
                    o != w
                        && self.scene.verb(o).writes()
                        && sessions[o].time_ms > sessions[w].time_ms
                })
                .map(|o| sessions[o].id)
                .collect();
            let why = match ahead.first() {
                Some(first) => format!(
                    "inferred: queued behind the write #{first} on {}",
                    self.object_text()
                ),
                None => h.why.clone(),
            };
            self.put(found, w, ahead, why);
        }
    }

    /// Table flush: a `FLUSH` (or MySQL's FTWRL) waits for the statements
    /// running since before it; statements on a flushed table wait for the
    /// statements still using its old version, else for the flush.
    pub(super) fn flush(&self, found: &mut HashMap<usize, Found>) {
        let sessions = self.sessions();
        let scene = self.scene;
        let running: Vec<usize> = (0..sessions.len())
            .filter(|&i| scene.running_free(i))
            .collect();
        let flushers: Vec<u64> = (0..sessions.len())
            .filter(|&i| matches!(scene.verb(i), Verb::Ftwrl | Verb::Flush))
            .map(|i| sessions[i].id)
            .collect();
        for &w in self.members {
            let since = sessions[w].time_ms.saturating_sub(TIME_SLACK_MS);
            let flushing = matches!(scene.verb(w), Verb::Ftwrl | Verb::Flush);
            let holders: Vec<usize> = running
                .iter()
                .copied()
                .filter(|&i| {
                    sessions[i].time_ms >= since && (flushing || scene.names(i, self.object))
                })
                .collect();
            if let Some(&first) = holders.first() {
                let why = format!(
                    "inferred: #{} has run since before the flush ({}); the flush waits for it to close its tables",
                    sessions[first].id,
                    short_ms(sessions[first].time_ms)
                );
                let ids = holders.iter().map(|&i| sessions[i].id).collect();
                self.put(found, w, ids, why);
                continue;
            }
            let own = sessions[w].id;
            let ahead: Vec<u64> = flushers.iter().copied().filter(|&f| f != own).collect();
            let why = match ahead.first() {
                Some(&f) => format!("inferred: waits for {} to finish", scene.label(f)),
                None => "holder not visible: the statement using the old table has not been seen"
                    .to_string(),
            };
            self.put(found, w, ahead, why);
        }
    }

    /// Global read lock / backup lock.
    pub(super) fn global(&self, found: &mut HashMap<usize, Found>) {
        let sessions = self.sessions();
        let scene = self.scene;
        let is_backup = |i: usize| matches!(scene.verb(i), Verb::Ftwrl | Verb::BackupStage);
        // The FTWRL (or BACKUP STAGE) statements running now, waiting or not.
        let backups: Vec<usize> = (0..sessions.len())
            .filter(|&i| !sessions[i].is_sleeping() && is_backup(i))
            .collect();
        let seen: Vec<u64> = self.sightings.global_holders();
        for &w in self.members {
            if is_backup(w) {
                let since = sessions[w].time_ms;
                let older = |i: usize| {
                    i != w && scene.running_free(i) && sessions[i].time_ms >= since && !is_backup(i)
                };
                let writes: Vec<usize> = (0..sessions.len())
                    .filter(|&i| older(i) && scene.verb(i).writes())
                    .collect();
                // MariaDB's backup lock waits for writes only; MySQL's global
                // read lock (and an unreadable statement) for anything.
                let holders = if self.kind == WaitKind::Backup && !writes.is_empty() {
                    writes
                } else {
                    (0..sessions.len()).filter(|&i| older(i)).collect()
                };
                let why = match holders.first() {
                    Some(&i) => format!(
                        "inferred: #{} has run a statement since before {} ({})",
                        sessions[i].id,
                        scene.label(sessions[w].id),
                        short_ms(sessions[i].time_ms)
                    ),
                    None => "holder not visible: no statement running since before it".to_string(),
                };
                let ids = holders.iter().map(|&i| sessions[i].id).collect();
                self.put(found, w, ids, why);
                continue;
            }
            let mut ids: Vec<u64> = backups
                .iter()
                .filter(|&&b| b != w)
                .map(|&b| sessions[b].id)
                .collect();
            let queued = !ids.is_empty();
            ids.extend(seen.iter().filter(|&&id| id != sessions[w].id));
            let why = if let Some(&first) = ids.first() {
                if queued {
                    format!("inferred: queued behind {}", scene.label(first))
                } else {
                    format!(
                        "inferred: #{first} was seen running FLUSH TABLES WITH READ LOCK (or BACKUP STAGE) \
                         and has not unlocked"
                    )
                }
            } else {
                "holder not visible: an idle session that ran FLUSH TABLES WITH READ LOCK \
                 (a backup tool); performance_schema.metadata_locks would name it"
                    .to_string()
            };
            self.put(found, w, ids, why);
        }
    }
}
