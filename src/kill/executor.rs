//! The kill batch executor, used by the poller and `conntop kill`: re-reads
//! the processlist, re-checks each target with the policy just before its
//! KILL, sends it and audits every attempt. It talks to the server only
//! through [`KillSource`] and to the log only through [`AuditSink`], so it is
//! tested without either.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

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
    /// When the targets were read: sessions confirmed by themselves must
    /// have aged by the time since ([`recheck`]).
    pub seen_at: SystemTime,
}

/// The end of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub tally: KillTally,
    /// The first failure, as a user-facing line.
    pub first_error: Option<String>,
    /// Set when the connection was lost mid-batch (the rest were not tried).
    pub lost: Option<SourceError>,
    /// Set when the audit log could not be written: the batch stopped there
    /// and nothing after it was killed.
    pub audit_error: Option<String>,
    /// Warnings from the audit log (a mode it fixed).
    pub warnings: Vec<String>,
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
/// counts unknown threads (1094) as skipped and calls `on_outcome` after
/// each target.
///
/// No record, no kill: an `attempt` line is appended to `audit` before each
/// KILL and the outcome after it; when a line cannot be written the batch
/// stops there, the rest fail as not tried and
/// [`BatchResult::audit_error`] says why.
pub fn execute(
    source: &mut dyn KillSource,
    targets: &[KillTarget],
    batch: &Batch<'_>,
    safety: &Safety,
    audit: &mut dyn AuditSink,
    on_outcome: &mut OnOutcome<'_>,
) -> BatchResult {
    let mut run = Run {
        batch,
        audit,
        audit_ok: true,
        on_outcome,
        result: BatchResult::default(),
    };
    run.kill_all(source, targets, safety);
    run.result.warnings = run.audit.take_warnings();
    run.result
}

/// One batch under way.
struct Run<'r, 'a, 'o, 'f> {
    batch: &'r Batch<'a>,
    audit: &'r mut (dyn AuditSink + 'o),
    /// False once a line could not be written: nothing more is written or killed.
    audit_ok: bool,
    on_outcome: &'r mut OnOutcome<'f>,
    result: BatchResult,
}

impl Run<'_, '_, '_, '_> {
    fn kill_all(&mut self, source: &mut dyn KillSource, targets: &[KillTarget], safety: &Safety) {
        for chunk in targets.chunks(RECHECK_CHUNK) {
            let current: HashMap<u64, Session> = match source.read_sessions() {
                Ok(list) => list.into_iter().map(|s| (s.id, s)).collect(),
                Err(e) => {
                    let msg = e.to_string();
                    self.give_up(targets, &format!("not tried: {msg}"));
                    self.result.first_error.get_or_insert(msg);
                    if e.is_connection_lost() {
                        self.result.lost = Some(e);
                    }
                    return;
                }
            };
            // A clock that went back counts as no time passed.
            let elapsed = SystemTime::now()
                .duration_since(self.batch.seen_at)
                .unwrap_or(Duration::ZERO);
            for t in chunk {
                let now = current.get(&t.session.id);
                // The audit log records the session as re-read just before
                // the KILL (as confirmed when it is gone); the re-read has no
                // transaction age, so the confirmed one is kept.
                let reread = now.map(|s| Session {
                    trx_age_ms: s.trx_age_ms.or(t.session.trx_age_ms),
                    ..s.clone()
                });
                let row = reread.as_ref().unwrap_or(&t.session);
                let outcome = match recheck(t, now, self.batch.mode, safety, elapsed) {
                    Err(why) => KillOutcome::Skipped(why),
                    Ok(()) if self.batch.dry_run => KillOutcome::WouldKill,
                    Ok(()) => {
                        if let Err(msg) = self.record_attempt(row) {
                            self.give_up(targets, &format!("not killed: {msg}"));
                            return;
                        }
                        self.kill_one(source, t)
                    }
                };
                self.finish(t, row, outcome);
                if !self.audit_ok {
                    self.give_up(targets, "not tried: the audit log cannot be written");
                    return;
                }
                if self.result.lost.is_some() {
                    self.give_up(targets, "not tried: connection lost");
                    return;
                }
            }
        }
    }

    /// Sends the KILL of a target that passed its re-check.
    fn kill_one(&mut self, source: &mut dyn KillSource, t: &KillTarget) -> KillOutcome {
        match source.kill(t.session.id, self.batch.mode, self.batch.method) {
            Ok(()) => KillOutcome::Killed,
            Err(e) if e.code() == Some(1094) => KillOutcome::Skipped(SkipReason::Gone),
            Err(e) => {
                let msg = kill_error_message(&e);
                self.result.first_error.get_or_insert(msg.clone());
                if e.is_connection_lost() {
                    self.result.lost = Some(e);
                }
                KillOutcome::Failed(msg)
            }
        }
    }

    /// Writes the line that must be in the log before a KILL is sent.
    fn record_attempt(&mut self, row: &Session) -> Result<(), String> {
        let b = self.batch;
        let rec = AuditRecord::attempt(b.server, row, b.mode, b.method, b.why);
        self.write(&rec)
    }

    /// Appends one line; on failure, stops all further writes and kills.
    fn write(&mut self, rec: &AuditRecord<'_>) -> Result<(), String> {
        if !self.audit_ok {
            return Err("the audit log cannot be written".to_string());
        }
        self.audit.append(rec).map_err(|e| {
            let msg = format!("cannot write the audit log {}: {e}", self.audit.location());
            self.audit_ok = false;
            self.result.first_error.get_or_insert(msg.clone());
            self.result
                .audit_error
                .get_or_insert(format!("{msg}; the batch stopped (no record, no kill)"));
            msg
        })
    }

    /// Counts, audits `row` (while the log works) and reports one outcome.
    fn finish(&mut self, target: &KillTarget, row: &Session, outcome: KillOutcome) {
        self.result.tally.add(&outcome);
        if self.audit_ok {
            let b = self.batch;
            let mut rec = AuditRecord::new(b.server, row, b.mode, b.method, &outcome, b.why);
            rec.dry_run = b.dry_run;
            // A failure is kept in `result` and ends the batch.
            let _ = self.write(&rec);
        }
        (self.on_outcome)(target, &outcome, &self.result.tally);
    }

    /// Fails every target not done yet without trying it.
    fn give_up(&mut self, targets: &[KillTarget], why: &str) {
        let done = self.result.tally.done();
        for t in targets.iter().skip(done) {
            self.finish(t, &t.session, KillOutcome::Failed(why.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::io;
    use std::rc::Rc;
    use std::time::Duration;

    use super::*;
    use crate::command::Expect;
    use crate::kill::policy::Refusal;
    use crate::snapshot::Privileges;

    /// What happened, in order, on the fake server and in the fake log.
    type Journal = Rc<RefCell<Vec<String>>>;

    /// A server in memory: each re-read returns the next list (the last one
    /// again when they run out); KILLs are recorded, some ids fail.
    #[derive(Default)]
    struct Fake {
        reads: VecDeque<Vec<Session>>,
        last: Vec<Session>,
        read_count: usize,
        killed: Vec<(u64, KillMode)>,
        errors: HashMap<u64, SourceError>,
        journal: Journal,
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
            self.journal.borrow_mut().push(format!("KILL {id}"));
            self.killed.push((id, mode));
            self.last.retain(|s| s.id != id);
            Ok(())
        }
    }

    /// Audit records as JSON values; with `room`, every write past that
    /// many lines fails as a full disk does.
    #[derive(Default)]
    struct Records {
        lines: Vec<serde_json::Value>,
        room: Option<usize>,
        journal: Journal,
    }

    impl Records {
        fn results(&self) -> Vec<String> {
            self.lines
                .iter()
                .map(|r| format!("{} {}", r["result"].as_str().unwrap_or("?"), r["id"]))
                .collect()
        }
    }

    impl AuditSink for Records {
        fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()> {
            if self.room.is_some_and(|room| self.lines.len() >= room) {
                return Err(io::Error::from_raw_os_error(28));
            }
            let v = serde_json::to_value(record).map_err(io::Error::other)?;
            self.journal
                .borrow_mut()
                .push(format!("log {} {}", record.result, record.session.id));
            self.lines.push(v);
            Ok(())
        }

        fn location(&self) -> String {
            "/var/log/conntop.jsonl".to_string()
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
            seen_at: SystemTime::now(),
        }
    }

    /// Runs a batch; returns the result and the outcomes in order.
    fn run(
        fake: &mut Fake,
        targets: &[KillTarget],
        batch: &Batch<'_>,
        safety: &Safety,
        audit: &mut Records,
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
            &mut audit,
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
        assert_eq!(
            audit.results(),
            vec!["attempt 1", "killed 1", "skipped 2", "skipped 3"]
        );
        assert_eq!(audit.lines[2]["detail"], "busy now (Query)");
        assert_eq!(audit.lines[3]["detail"], "gone");
    }

    #[test]
    fn x_on_a_session_that_moved_on_to_another_statement_kills_nothing() {
        let first = s(
            5,
            "app",
            "Query",
            3,
            Some("SELECT SLEEP(8) /* FIRST harmless report */"),
        );
        let second = s(
            5,
            "app",
            "Query",
            0,
            Some("SELECT SLEEP(8) /* SECOND critical statement */"),
        );
        let target = [KillTarget {
            session: first.clone(),
            expect: Expect::Same,
        }];
        let mut fake = Fake::new(vec![vec![second]]);
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert!(fake.killed.is_empty(), "SECOND was stopped");
        assert_eq!(result.tally.skipped, 1);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::ChangedSinceConfirmed)
        );
        assert_eq!(audit.results(), vec!["skipped 5"]);
        assert_eq!(audit.lines[0]["detail"], "changed since you confirmed");
        assert_eq!(
            audit.lines[0]["info"], "SELECT SLEEP(8) /* SECOND critical statement */",
            "the audit names the row as re-read"
        );

        // Still FIRST, a second later: stopped, and the audit has the row as
        // re-read just before the KILL.
        let later = Session {
            time_ms: 4000,
            ..first
        };
        let mut fake = Fake::new(vec![vec![later]]);
        let mut audit = Records::default();
        run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.killed, vec![(5, KillMode::Query)]);
        assert_eq!(audit.results(), vec!["attempt 5", "killed 5"]);
        for line in &audit.lines {
            assert_eq!(line["time_ms"], 4000);
            assert_eq!(line["info"], "SELECT SLEEP(8) /* FIRST harmless report */");
        }
    }

    #[test]
    fn k_on_an_idle_session_that_ran_something_since_kills_nothing() {
        let target = [KillTarget {
            session: s(6, "app", "Sleep", 10, None),
            expect: Expect::Same,
        }];
        for now in [
            s(6, "app", "Query", 0, Some("UPDATE t SET n = 1")),
            s(6, "app", "Sleep", 1, None),
        ] {
            let mut fake = Fake::new(vec![vec![now.clone()]]);
            let (result, _) = run(
                &mut fake,
                &target,
                &batch(KillMode::Connection),
                &Safety::default(),
                &mut Records::default(),
            );
            assert!(fake.killed.is_empty(), "{now:?}");
            assert_eq!(result.tally.skipped, 1);
        }
    }

    #[test]
    fn the_attempt_is_in_the_log_before_the_kill_is_sent() {
        let journal = Journal::default();
        let mut fake = Fake::new(vec![vec![
            s(1, "app", "Sleep", 400, None),
            s(2, "app", "Sleep", 400, None),
        ]]);
        fake.journal = Rc::clone(&journal);
        let mut audit = Records {
            journal: Rc::clone(&journal),
            ..Records::default()
        };
        let targets = [
            idle(s(1, "app", "Sleep", 400, None)),
            idle(s(2, "app", "Sleep", 400, None)),
        ];
        run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(
            *journal.borrow(),
            vec![
                "log attempt 1",
                "KILL 1",
                "log killed 1",
                "log attempt 2",
                "KILL 2",
                "log killed 2"
            ]
        );
    }

    #[test]
    fn no_record_no_kill_when_the_audit_log_cannot_be_written() {
        let list: Vec<Session> = (1..=10)
            .map(|id| s(id, "app", "Sleep", 400, None))
            .collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        let mut fake = Fake::new(vec![list.clone()]);
        let mut full = Records {
            room: Some(0),
            ..Records::default()
        };
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut full,
        );
        assert!(fake.killed.is_empty(), "killed without a record");
        assert_eq!((result.tally.killed, result.tally.failed), (0, 10));
        assert_eq!(outcomes.len(), 10);
        let why = result.audit_error.expect("the batch says why it stopped");
        assert!(
            why.starts_with("cannot write the audit log /var/log/conntop.jsonl"),
            "{why}"
        );
        assert!(why.contains("no record, no kill"), "{why}");
        assert!(!why.contains('\n'));
        assert!(matches!(&outcomes[0].1, KillOutcome::Failed(d) if d.starts_with("not killed")));

        // The log fills up after the first kill's outcome: one killed, the
        // rest not tried.
        let mut fake = Fake::new(vec![list]);
        let mut filling = Records {
            room: Some(2),
            ..Records::default()
        };
        let (result, _) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut filling,
        );
        assert_eq!(fake.killed_ids(), vec![1]);
        assert_eq!((result.tally.killed, result.tally.failed), (1, 9));
        assert!(result.audit_error.is_some());
        assert_eq!(filling.results(), vec!["attempt 1", "killed 1"]);
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
        let safety = Safety::default().connected(7, &Privileges::default());
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &safety,
            &mut audit,
        );
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.skipped, 2);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::Refused(Refusal::OwnConnection))
        );
        assert_eq!(outcomes[1].1, KillOutcome::Skipped(SkipReason::Gone));
        assert_eq!(audit.results(), vec!["skipped 7", "attempt 8", "skipped 8"]);
    }

    #[test]
    fn dry_run_sends_nothing() {
        let mut fake = Fake::new(vec![vec![s(1, "app", "Sleep", 400, None)]]);
        let targets = [idle(s(1, "app", "Sleep", 400, None))];
        let mut b = batch(KillMode::Connection);
        b.dry_run = true;
        let mut audit = Records::default();
        let (result, _) = run(&mut fake, &targets, &b, &Safety::default(), &mut audit);
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.would_kill, 1);
        assert_eq!(audit.results(), vec!["would_kill 1"]);
        assert_eq!(audit.lines[0]["dry_run"], true);
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
            &mut Records::default(),
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
            &mut Records::default(),
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
            &mut Records::default(),
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
