//! The kill batch executor, used by the poller and `conntop kill`: re-reads
//! the processlist, re-checks each target with the policy just before its
//! KILL, sends it and audits every attempt. It talks to the server only
//! through [`KillSource`] and to the log only through [`AuditSink`], so it is
//! tested without either.

use std::collections::HashMap;

use crate::audit::{AuditRecord, AuditSink};
use crate::command::{KillMethod, KillMode, KillOutcome, KillTally, KillTarget};
use crate::kill::policy::{Safety, SkipReason, recheck};
use crate::snapshot::Session;
use crate::source::{Source, SourceError};

/// How many targets share one re-read of the processlist. Each KILL follows
/// its re-check by at most this many statements (a few ms), while a batch of
/// 2,000 costs 40 processlist reads instead of 2,000.
pub const RECHECK_CHUNK: usize = 50;

/// What the executor needs from a server connection.
pub trait KillSource {
    /// Every session on the server now, ours included.
    fn read_sessions(&mut self) -> Result<Vec<Session>, SourceError>;
    /// Sends one KILL.
    fn kill(&mut self, id: u64, mode: KillMode, method: KillMethod) -> Result<(), SourceError>;
}

impl KillSource for Source {
    fn read_sessions(&mut self) -> Result<Vec<Session>, SourceError> {
        Source::read_sessions(self)
    }

    fn kill(&mut self, id: u64, mode: KillMode, method: KillMethod) -> Result<(), SourceError> {
        Source::kill(self, id, mode, method)
    }
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

/// Called after each target with its outcome and the tally so far.
pub type OnOutcome<'a> = dyn FnMut(&KillTarget, &KillOutcome, &KillTally) + 'a;

/// Kills `targets` through `source`: re-reads the processlist every
/// [`RECHECK_CHUNK`] targets, re-checks each target against `safety` (bound
/// to `source`'s connection with [`Safety::connected`]) just before its KILL,
/// counts unknown threads (1094) as skipped, audits every attempt and calls
/// `on_outcome` after each one.
pub fn execute(
    source: &mut dyn KillSource,
    targets: &[KillTarget],
    batch: &Batch<'_>,
    safety: &Safety,
    audit: Option<&mut dyn AuditSink>,
    on_outcome: &mut OnOutcome<'_>,
) -> BatchResult {
    let mut run = Run {
        batch,
        audit,
        on_outcome,
        result: BatchResult::default(),
    };
    for chunk in targets.chunks(RECHECK_CHUNK) {
        let current: HashMap<u64, Session> = match source.read_sessions() {
            Ok(list) => list.into_iter().map(|s| (s.id, s)).collect(),
            Err(e) => {
                let msg = e.to_string();
                let done = run.result.tally.done();
                run.give_up(&targets[done..], &format!("not tried: {msg}"));
                run.result.first_error.get_or_insert(msg);
                if e.is_connection_lost() {
                    run.result.lost = Some(e);
                }
                return run.result;
            }
        };
        for t in chunk {
            let outcome = match recheck(t, current.get(&t.session.id), safety) {
                Err(why) => KillOutcome::Skipped(why),
                Ok(()) if batch.dry_run => KillOutcome::WouldKill,
                Ok(()) => match source.kill(t.session.id, batch.mode, batch.method) {
                    Ok(()) => KillOutcome::Killed,
                    Err(e) if e.code() == Some(1094) => KillOutcome::Skipped(SkipReason::Gone),
                    Err(e) => {
                        let msg = kill_error_message(&e);
                        run.result.first_error.get_or_insert(msg.clone());
                        if e.is_connection_lost() {
                            run.result.lost = Some(e);
                        }
                        KillOutcome::Failed(msg)
                    }
                },
            };
            run.finish(t, outcome);
            if run.result.lost.is_some() {
                let done = run.result.tally.done();
                run.give_up(&targets[done..], "not tried: connection lost");
                return run.result;
            }
        }
    }
    run.result
}

/// One batch under way.
struct Run<'r, 'a, 'o, 'f> {
    batch: &'r Batch<'a>,
    audit: Option<&'r mut (dyn AuditSink + 'o)>,
    on_outcome: &'r mut OnOutcome<'f>,
    result: BatchResult,
}

impl Run<'_, '_, '_, '_> {
    /// Counts, audits and reports one outcome.
    fn finish(&mut self, target: &KillTarget, outcome: KillOutcome) {
        self.result.tally.add(&outcome);
        if let Some(log) = self.audit.as_deref_mut() {
            let mut rec = AuditRecord::new(
                self.batch.server,
                &target.session,
                self.batch.mode,
                self.batch.method,
                &outcome,
                self.batch.why,
            );
            rec.dry_run = self.batch.dry_run;
            if let Err(e) = log.append(&rec) {
                self.result
                    .first_error
                    .get_or_insert(format!("audit log {}: {e}", log.location()));
            }
        }
        (self.on_outcome)(target, &outcome, &self.result.tally);
    }

    /// Fails every target in `rest` without trying it.
    fn give_up(&mut self, rest: &[KillTarget], why: &str) {
        for t in rest {
            self.finish(t, KillOutcome::Failed(why.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io;
    use std::time::Duration;

    use super::*;
    use crate::command::Expect;
    use crate::kill::policy::Refusal;

    /// A server in memory: each re-read returns the next list (the last one
    /// again when they run out); KILLs are recorded, some ids fail.
    #[derive(Default)]
    struct Fake {
        reads: VecDeque<Vec<Session>>,
        last: Vec<Session>,
        read_count: usize,
        killed: Vec<(u64, KillMode)>,
        errors: HashMap<u64, SourceError>,
    }

    impl Fake {
        fn new(lists: Vec<Vec<Session>>) -> Fake {
            Fake {
                reads: lists.into(),
                ..Fake::default()
            }
        }

        fn killed_ids(&self) -> Vec<u64> {
            self.killed.iter().map(|(id, _)| *id).collect()
        }
    }

    impl KillSource for Fake {
        fn read_sessions(&mut self) -> Result<Vec<Session>, SourceError> {
            self.read_count += 1;
            if let Some(next) = self.reads.pop_front() {
                self.last = next;
            }
            Ok(self.last.clone())
        }

        fn kill(&mut self, id: u64, mode: KillMode, _: KillMethod) -> Result<(), SourceError> {
            if let Some(e) = self.errors.get(&id) {
                return Err(e.clone());
            }
            self.killed.push((id, mode));
            self.last.retain(|s| s.id != id);
            Ok(())
        }
    }

    /// Audit records as JSON values.
    #[derive(Default)]
    struct Records(Vec<serde_json::Value>);

    impl AuditSink for Records {
        fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()> {
            self.0
                .push(serde_json::to_value(record).map_err(io::Error::other)?);
            Ok(())
        }

        fn location(&self) -> String {
            "memory".to_string()
        }
    }

    fn s(id: u64, user: &str, command: &str, secs: u64, info: Option<&str>) -> Session {
        Session {
            id,
            user: user.into(),
            host: format!("10.0.0.{id}:4000"),
            command: command.into(),
            time_ms: secs * 1000,
            info: info.map(str::to_string),
            ..Session::default()
        }
    }

    fn idle(session: Session) -> KillTarget {
        KillTarget {
            session,
            expect: Expect::IdleAtLeast {
                min: Duration::from_secs(60),
            },
        }
    }

    fn batch(mode: KillMode) -> Batch<'static> {
        Batch {
            mode,
            method: KillMethod::Sql,
            dry_run: false,
            why: "test",
            server: "fake:3306",
        }
    }

    /// Runs a batch; returns the result and the outcomes in order.
    fn run(
        fake: &mut Fake,
        targets: &[KillTarget],
        batch: &Batch<'_>,
        safety: &Safety,
        audit: Option<&mut dyn AuditSink>,
    ) -> (BatchResult, Vec<(u64, KillOutcome)>) {
        let mut outcomes = Vec::new();
        let result = execute(fake, targets, batch, safety, audit, &mut |t, o, _| {
            outcomes.push((t.session.id, o.clone()))
        });
        (result, outcomes)
    }

    #[test]
    fn kills_what_still_matches_and_skips_what_changed_since_the_preview() {
        // Previewed: three idle sessions. Before the KILLs, 2 turned busy
        // and 3 disconnected.
        let preview = [
            s(1, "app", "Sleep", 400, None),
            s(2, "app", "Sleep", 300, None),
            s(3, "app", "Sleep", 200, None),
        ];
        let mut fake = Fake::new(vec![vec![
            s(1, "app", "Sleep", 402, None),
            s(2, "app", "Query", 0, Some("UPDATE t SET n = n + 1")),
        ]]);
        let targets: Vec<KillTarget> = preview.into_iter().map(idle).collect();
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            Some(&mut audit),
        );
        assert_eq!(fake.killed, vec![(1, KillMode::Connection)]);
        assert_eq!(
            outcomes,
            vec![
                (1, KillOutcome::Killed),
                (
                    2,
                    KillOutcome::Skipped(SkipReason::Busy {
                        command: "Query".into()
                    })
                ),
                (3, KillOutcome::Skipped(SkipReason::Gone)),
            ]
        );
        assert_eq!((result.tally.killed, result.tally.skipped), (1, 2));
        assert_eq!(result.first_error, None);
        let details: Vec<&str> = audit
            .0
            .iter()
            .map(|r| r["result"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(details, vec!["killed", "skipped", "skipped"]);
        assert_eq!(audit.0[1]["detail"], "busy now (Query)");
        assert_eq!(audit.0[2]["detail"], "gone");
    }

    #[test]
    fn own_connection_is_never_killed_and_unknown_threads_count_as_gone() {
        let mut fake = Fake::new(vec![vec![
            s(7, "conntop", "Query", 0, Some("SHOW FULL PROCESSLIST")),
            s(8, "app", "Query", 0, None),
        ]]);
        fake.errors.insert(
            8,
            SourceError::Server {
                code: 1094,
                message: "Unknown thread id: 8".into(),
            },
        );
        let targets: Vec<KillTarget> = [
            s(7, "conntop", "Query", 0, None),
            s(8, "app", "Query", 0, None),
        ]
        .into_iter()
        .map(|session| KillTarget {
            session,
            expect: Expect::Same,
        })
        .collect();
        let safety = Safety::default().connected(7);
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &safety,
            None,
        );
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.skipped, 2);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::Refused(Refusal::OwnConnection))
        );
        assert_eq!(outcomes[1].1, KillOutcome::Skipped(SkipReason::Gone));
    }

    #[test]
    fn dry_run_sends_nothing() {
        let mut fake = Fake::new(vec![vec![s(1, "app", "Sleep", 400, None)]]);
        let targets = [idle(s(1, "app", "Sleep", 400, None))];
        let mut b = batch(KillMode::Connection);
        b.dry_run = true;
        let mut audit = Records::default();
        let (result, _) = run(
            &mut fake,
            &targets,
            &b,
            &Safety::default(),
            Some(&mut audit),
        );
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.would_kill, 1);
        assert_eq!(audit.0[0]["result"], "would_kill");
        assert_eq!(audit.0[0]["dry_run"], true);
    }

    #[test]
    fn rereads_once_per_chunk_and_stops_when_the_connection_is_lost() {
        let list: Vec<Session> = (1..=120)
            .map(|id| s(id, "app", "Sleep", 400, None))
            .collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        let mut fake = Fake::new(vec![list.clone()]);
        let (result, _) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            None,
        );
        assert_eq!(result.tally.killed, 120);
        assert_eq!(fake.read_count, 3);

        let mut fake = Fake::new(vec![list]);
        fake.errors
            .insert(3, SourceError::Lost("server has gone away".into()));
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            None,
        );
        assert_eq!(fake.killed_ids(), vec![1, 2]);
        assert_eq!((result.tally.killed, result.tally.failed), (2, 118));
        assert!(result.lost.is_some());
        assert_eq!(outcomes.len(), 120);
        assert_eq!(
            outcomes[119].1,
            KillOutcome::Failed("not tried: connection lost".into())
        );
    }

    #[test]
    fn a_refused_kill_says_which_privilege_is_missing() {
        let mut fake = Fake::new(vec![vec![s(1, "other", "Sleep", 400, None)]]);
        fake.errors.insert(
            1,
            SourceError::Server {
                code: 1095,
                message: "You are not owner of thread 1".into(),
            },
        );
        let (result, _) = run(
            &mut fake,
            &[idle(s(1, "other", "Sleep", 400, None))],
            &batch(KillMode::Connection),
            &Safety::default(),
            None,
        );
        assert_eq!(result.tally.failed, 1);
        assert!(
            result
                .first_error
                .unwrap_or_default()
                .contains("CONNECTION_ADMIN")
        );
    }
}
